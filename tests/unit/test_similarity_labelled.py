"""The offline near-duplicate matcher on the labelled pairs (tests/support/similarity_pairs.json).

The floors are the figures reached when the matcher was built (precision 0.88, recall
0.98 at the default threshold 0.35); `make bench` prints the current ones."""

from __future__ import annotations

from bot.domain.policy_file import load_policy
from tests.support.similarity_eval import evaluate, labelled_pairs

PRECISION_FLOOR = 0.85
RECALL_FLOOR = 0.95


def test_the_labelled_set_has_enough_pairs_of_both_kinds():
    pairs = labelled_pairs()
    assert (len(pairs), sum(p["duplicate"] for p in pairs)) == (90, 45)


def test_precision_on_the_labelled_set_stays_above_its_floor():
    report = evaluate(load_policy().similarity)
    assert report.precision >= PRECISION_FLOOR, report.wrongly_found


def test_recall_on_the_labelled_set_stays_above_its_floor():
    report = evaluate(load_policy().similarity)
    assert report.recall >= RECALL_FLOOR, report.missed
