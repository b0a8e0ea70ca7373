"""How well the classifier reads proposals: precision and recall per action, data class,
use area, prohibited practice and yes/no regulatory answer, tier and risk-level accuracy
and their confusion, on the labelled sets of tests/support/ (figures, not pass/fail; the
suite holds the floors in tests/unit/test_classifier_judgement.py)."""

from __future__ import annotations

from typing import Any

from bot.domain.policy_file import load_policy
from tests.support.judgement import SETS, evaluate, load_cases, summary, table


def run() -> dict[str, Any]:
    """The figures of every labelled set under the packaged default policy."""
    policy = load_policy()
    return {name: summary(evaluate(load_cases(path), policy)) for name, path in SETS.items()}


def text(results: dict[str, Any]) -> str:
    """The figures as plain text: every label of the main set, a summary of the others."""
    parts = [
        "The lexicon was tuned on the first three sets; only the final held-out set was never used to tune it,\n"
        "so read its figures as the estimate for wording the classifier has not seen."
    ]
    for i, (name, figures) in enumerate(results.items()):
        parts.append(table(figures, f"judgement, {name}", per_label=i == 0))
    return "\n\n".join(parts)


if __name__ == "__main__":
    print(text(run()))
