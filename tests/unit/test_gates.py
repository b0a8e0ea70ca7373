"""The production gate as a pure rule: every unmet condition named, and which of them
governance may override."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.gates import GateInput, blocking, production_gate

READY = GateInput(
    proposal_id=7,
    readiness_score=6,
    readiness_max=6,
    readiness_missing=(),
    baseline=12,
    target=6,
    unit="minutes",
    latest_checkin=5.5,
    open_incidents=0,
    regulatory_answered=True,
    pilot_days=3,
    min_pilot_days=0,
)


def codes(g: GateInput) -> list[str]:
    return [u.code for u in production_gate(g)]


def test_a_pilot_that_meets_everything_passes():
    assert production_gate(READY) == []


def test_readiness_two_of_six_on_it_feels_faster_names_both():
    g = replace(READY, readiness_score=2, readiness_missing=("owner", "exception_path"), latest_checkin=None)
    unmet = production_gate(g)
    assert [(u.code, u.text) for u in unmet] == [
        ("readiness", "readiness is 2/6, not 6/6 (missing: owner, exception_path)"),
        (
            "value_target",
            "no check-in yet: report the latest value (checkin 7 <number>); the target is at or below 6 minutes",
        ),
    ]


def test_a_check_in_of_11_against_a_target_of_6_minutes_does_not_meet_it():
    unmet = production_gate(replace(READY, latest_checkin=11))
    assert [(u.code, u.text) for u in unmet] == [
        ("value_target", "the latest check-in is 11 minutes, not at or below the target 6 minutes")
    ]


def test_a_raise_is_met_at_or_above_the_target():
    g = replace(READY, baseline=4.1, target=4.5, unit=None)
    assert (codes(replace(g, latest_checkin=4.5)), codes(replace(g, latest_checkin=4.4))) == ([], ["value_target"])


def test_without_baseline_and_target_there_is_nothing_to_meet():
    assert codes(replace(READY, baseline=None)) == ["value_target"]


def test_every_unmet_condition_is_named_in_order():
    g = replace(
        READY,
        readiness_score=5,
        latest_checkin=11,
        open_incidents=2,
        regulatory_answered=False,
        pilot_days=3,
        min_pilot_days=14,
    )
    assert codes(g) == ["readiness", "value_target", "open_incidents", "regulatory", "min_pilot_days"]


def test_only_readiness_and_value_may_be_overridden():
    g = replace(READY, readiness_score=5, latest_checkin=11, open_incidents=1, regulatory_answered=False)
    assert [u.code for u in blocking(production_gate(g))] == ["open_incidents", "regulatory"]


def test_the_policy_minimum_pilot_time_counts_whole_days():
    assert (
        codes(replace(READY, pilot_days=13, min_pilot_days=14)),
        codes(replace(READY, pilot_days=14, min_pilot_days=14)),
    ) == (
        ["min_pilot_days"],
        [],
    )
