"""The labelled near-duplicate pairs (`similarity_pairs.json`) and their scoring, shared
by the suite (`tests/unit/test_similarity_labelled.py`) and `make bench`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain.similarity import SimilarityRules, cosine, terms

PAIRS_FILE = Path(__file__).with_name("similarity_pairs.json")
# written after the synonym table was tuned on PAIRS_FILE, and never tuned on
HOLDOUT_FILE = Path(__file__).with_name("similarity_holdout.json")


def labelled_pairs(path: Path = PAIRS_FILE) -> list[dict[str, Any]]:
    """Every pair: {"a": {"title", "description"}, "b": {...}, "duplicate": bool}."""
    return list(json.loads(path.read_text(encoding="utf-8"))["pairs"])


@dataclass(frozen=True)
class Report:
    threshold: float
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int
    missed: tuple[str, ...]  # duplicates scored below the threshold
    wrongly_found: tuple[str, ...]  # look-alikes scored at or above it

    @property
    def precision(self) -> float:
        found = self.true_pos + self.false_pos
        return self.true_pos / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 0.0


def evaluate(rules: SimilarityRules, threshold: float | None = None, path: Path = PAIRS_FILE) -> Report:
    """Score every labelled pair with the offline matcher at `threshold` (default: the policy's)."""
    limit = rules.threshold if threshold is None else threshold
    tp = fp = fn = tn = 0
    missed: list[str] = []
    wrong: list[str] = []
    for pair in labelled_pairs(path):
        a, b = pair["a"], pair["b"]
        score = cosine(terms(a["title"], a["description"], rules), terms(b["title"], b["description"], rules))
        found = score >= limit
        name = f"{a['title']} | {b['title']} ({score:.2f})"
        if pair["duplicate"] and found:
            tp += 1
        elif pair["duplicate"]:
            fn += 1
            missed.append(name)
        elif found:
            fp += 1
            wrong.append(name)
        else:
            tn += 1
    return Report(limit, tp, fp, fn, tn, tuple(missed), tuple(wrong))
