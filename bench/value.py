"""How well the metric parser reads the labelled metric sentences
(`tests/support/metric_sentences.toml`): precision and recall of the baseline and the
target, and the share of units read right."""

from __future__ import annotations

import time
from typing import Any

from tests.support.metric_eval import HOLDOUT, cases, score


def run() -> dict[str, Any]:
    labelled = cases()
    started = time.perf_counter()
    result = score(labelled)
    seconds = time.perf_counter() - started
    return {
        "sentences": result.cases,
        "precision": round(result.precision, 3),
        "recall": round(result.recall, 3),
        "both_right": round(result.both_right, 3),
        "unit_right": round(result.unit_right, 3),
        "wrong": list(result.wrong),
        "us_per_sentence": round(seconds / max(1, result.cases) * 1e6, 1),
        "holdout": _figures(score(cases(HOLDOUT))),
    }


def _figures(result: Any) -> dict[str, Any]:
    return {
        "sentences": result.cases,
        "precision": round(result.precision, 3),
        "recall": round(result.recall, 3),
        "both_right": round(result.both_right, 3),
        "unit_right": round(result.unit_right, 3),
        "wrong": list(result.wrong),
    }
