"""The labelled metric sentences (`metric_sentences.toml`) and how well
`bot.domain.value.read_metric` reads them: precision and recall of the baseline and
the target, and the share of units read right. Used by the unit test and `make bench`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain.value import read_metric

LABELLED = Path(__file__).with_name("metric_sentences.toml")
HOLDOUT = Path(__file__).with_name("metric_holdout.toml")  # written after tuning, never tuned on


def cases(path: Path = LABELLED) -> list[dict[str, Any]]:
    with path.open("rb") as fh:
        return list(tomllib.load(fh)["case"])


@dataclass(frozen=True)
class Score:
    cases: int
    precision: float  # of the numbers read, the share that are right
    recall: float  # of the numbers a reader finds, the share read right
    both_right: float  # sentences whose baseline and target are both right (or both absent)
    unit_right: float  # sentences whose unit is right (or rightly absent)
    wrong: tuple[str, ...]  # the sentences read wrong


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def score(labelled: list[dict[str, Any]] | None = None) -> Score:
    labelled = cases() if labelled is None else labelled
    read_n = right_n = expected_n = 0
    both = units = 0
    wrong: list[str] = []
    for case in labelled:
        got = read_metric(case["text"])
        ok = True
        for key, found in (("baseline", got.baseline), ("target", got.target)):
            want = case.get(key)
            read_n += found is not None
            expected_n += want is not None
            hit = found is not None and want is not None and _same(found, float(want))
            right_n += hit
            ok = ok and _same(found, None if want is None else float(want))
        both += ok
        units += got.unit == case.get("unit")
        if not ok or got.unit != case.get("unit"):
            wrong.append(case["text"])
    n = len(labelled)
    return Score(
        n,
        right_n / read_n if read_n else 1.0,
        right_n / expected_n if expected_n else 1.0,
        both / n,
        units / n,
        tuple(wrong),
    )
