"""How well the classifier reads real wording, held in the suite: the labelled sets of
tests/support/ (written the way requesters write), their labels checked against the
DESIGN.md rules, and the precision, recall and accuracy measured on each of them as
floors (`make bench` prints the figures). A change that reads worse fails here."""

from __future__ import annotations

from functools import cache

import pytest

from bot.domain.policy_file import load_policy
from bot.domain.proposal import PROHIBITED_PRACTICES, USE_AREA
from tests.support.judgement import FLAGS, SETS, Report, derived_risk_and_tier, evaluate, labels, load_cases

POLICY = load_policy()

SIZES = {
    "labelled": 206,
    "held-out 1 (dev)": 75,
    "held-out 2 (dev)": 60,
    "held-out 3 (dev)": 45,
    "unseen held-out (untouched)": 53,
}

# Measured on each set (rounded down). The unseen set was committed before the lexicon
# changes of branch `words` and never tuned on: its figures are the honest estimate.
FLOORS = {
    "labelled": {"precision": 1.0, "recall": 1.0, "tier_accuracy": 1.0, "risk_accuracy": 1.0},
    "held-out 1 (dev)": {"precision": 0.992, "recall": 1.0, "tier_accuracy": 0.986, "risk_accuracy": 1.0},
    "held-out 2 (dev)": {"precision": 0.981, "recall": 1.0, "tier_accuracy": 1.0, "risk_accuracy": 1.0},
    "held-out 3 (dev)": {"precision": 1.0, "recall": 0.879, "tier_accuracy": 1.0, "risk_accuracy": 0.977},
    "unseen held-out (untouched)": {
        "precision": 0.883,
        "recall": 0.673,
        "tier_accuracy": 0.886,
        "risk_accuracy": 0.867,
    },
}
# Counts that must not grow: prohibited practices read below `prohibited`, and plain
# proposals read as high risk or a high/prohibited tier.
CEILINGS = {
    "labelled": {"missed_prohibited": 0, "plain_raised": 0},
    "held-out 1 (dev)": {"missed_prohibited": 0, "plain_raised": 1},
    "held-out 2 (dev)": {"missed_prohibited": 0, "plain_raised": 0},
    "held-out 3 (dev)": {"missed_prohibited": 0, "plain_raised": 0},
    "unseen held-out (untouched)": {"missed_prohibited": 2, "plain_raised": 0},
}


@cache
def report(name: str) -> Report:
    return evaluate(load_cases(SETS[name]), POLICY)


def measured(name: str, metric: str) -> float:
    r = report(name)
    values = {
        "precision": r.overall.precision,
        "recall": r.overall.recall,
        "tier_accuracy": r.tier_accuracy,
        "risk_accuracy": r.risk_accuracy,
        "missed_prohibited": r.missed_prohibited,
        "plain_raised": r.plain_raised,
    }
    return values[metric]


@pytest.mark.parametrize("name", SETS)
def test_each_set_has_its_cases(name):
    assert len(load_cases(SETS[name])) == SIZES[name]


@pytest.mark.parametrize("name", SETS)
def test_labels_agree_with_the_design_rules(name):
    """A case's expected risk and tier follow from its own expected sets and answers."""
    wrong = [
        (c.id, derived_risk_and_tier(c, POLICY))
        for c in load_cases(SETS[name])
        if derived_risk_and_tier(c, POLICY) != (c.expect["risk"], c.expect["tier"])
    ]
    assert wrong == []


@pytest.mark.parametrize("name, metric", [(n, m) for n, floors in FLOORS.items() for m in floors])
def test_reading_stays_at_or_above_the_measured_floor(name, metric):
    assert measured(name, metric) >= FLOORS[name][metric]


@pytest.mark.parametrize("name, metric", [(n, m) for n, ceilings in CEILINGS.items() for m in ceilings])
def test_misses_that_matter_do_not_grow(name, metric):
    assert measured(name, metric) <= CEILINGS[name][metric]


POSITIVES = [f"use_area:{a}" for a in USE_AREA if a != "none"]
POSITIVES += [f"prohibited_practices:{p}" for p in PROHIBITED_PRACTICES]
POSITIVES += list(FLAGS)


@pytest.mark.parametrize("label", POSITIVES)
def test_the_labelled_set_has_several_wordings_of_every_area_practice_and_trigger(label):
    count = sum(1 for c in load_cases(SETS["labelled"]) if label in labels(c.expect))
    assert count >= 2
