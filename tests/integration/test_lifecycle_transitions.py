"""Lifecycle moves on the real store: pause, resume, retire, promote, and every refusal."""

from __future__ import annotations

import pytest

from bot.domain.errors import NotFound, Refused, UsageError
from bot.domain.records import as_utc
from tests.support.core_state import GOV, audit_actions, audit_events, outbox_for, stage_of
from tests.support.stages import OWNER, REQUESTER, STRANGER, seed


@pytest.mark.parametrize("start", ["approved", "pilot", "production"])
def test_pause_then_resume_returns_to_the_stage_it_left(core, clock, start):
    p = seed(core, start, stops=("invisible_failure",) if start == "approved" else ())
    msg = core.transition(OWNER, p.id, "pause")
    assert stage_of(core, p.id) == "paused"
    assert "paused" in msg.text
    paused = audit_events(core, p.id, "stage.paused")
    assert [e.detail["from"] for e in paused] == [start]
    assert paused[0].actor == OWNER

    clock.advance(hours=3)
    core.transition(GOV, p.id, "resume")
    assert stage_of(core, p.id) == start
    resumed = audit_events(core, p.id, f"stage.{start}")[-1]
    assert resumed.detail == {"from": "paused", "to": start, "via": "resume"}
    assert resumed.actor == GOV
    with core.uow() as uow:
        assert as_utc(uow.proposals.get(p.id).stage_changed_at) == clock.now()


def test_transition_tells_the_requester_and_records_reason(core):
    p = seed(core, "pilot")
    core.transition(OWNER, p.id, "pause", reason="vendor outage")
    told = [r for r in outbox_for(core, REQUESTER) if r.kind == "lifecycle"]
    assert len(told) == 1
    assert "pilot to paused" in told[0].payload["text"]
    assert told[0].payload["meta"]["proposal_id"] == p.id
    assert audit_events(core, p.id, "stage.paused")[0].detail["reason"] == "vendor outage"
    assert not [r for r in outbox_for(core, OWNER) if r.kind == "lifecycle"]  # the actor is not told twice


def test_resume_of_an_approved_proposal_whose_stops_were_lifted_goes_to_pilot(core):
    p = seed(core, "approved", stops=("invisible_failure",))
    core.transition(OWNER, p.id, "pause")
    core.override_stop(GOV, p.id, "invisible_failure", "sampled daily")
    assert stage_of(core, p.id) == "paused"
    core.transition(OWNER, p.id, "resume")
    assert stage_of(core, p.id) == "pilot"
    assert audit_events(core, p.id, "stage.pilot")[0].detail == {
        "from": "paused",
        "to": "pilot",
        "via": "resume",
        "paused_from": "approved",
    }


def test_retire_closes_pending_approvals(core):
    from tests.support.stages import pending_request

    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    core.transition(OWNER, p.id, "retire")
    with core.uow() as uow:
        assert uow.approvals.get(req.id).status == "superseded"
    closed = [r for r in outbox_for(core, "USEC") if r.kind == "approval_closed"]
    assert len(closed) == 1 and "retired by" in closed[0].payload["text"]
    assert core.decide("USEC", req.id, "approve").status != "recorded"


@pytest.mark.parametrize("start", ["in_review", "changes_requested", "approved", "pilot", "production", "paused"])
def test_retire_from_any_open_stage(core, start):
    p = seed(core, start)
    core.transition(GOV, p.id, "retire")
    assert stage_of(core, p.id) == "retired"
    assert audit_events(core, p.id, "stage.retired")[0].detail["from"] == start


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("in_review", "pause"),
        ("changes_requested", "pause"),
        ("rejected", "pause"),
        ("retired", "pause"),
        ("paused", "pause"),
        ("pilot", "resume"),
        ("production", "resume"),
        ("retired", "resume"),
        ("retired", "retire"),
        ("rejected", "retire"),
        ("in_review", "promote"),
        ("approved", "promote"),
        ("production", "promote"),
        ("paused", "promote"),
    ],
)
def test_moves_from_the_wrong_stage_are_refused_and_audited(core, start, action):
    p = seed(core, start)
    with pytest.raises(Refused) as err:
        core.transition(OWNER, p.id, action)
    assert err.value.code == "bad_stage"
    assert start in err.value.message
    assert stage_of(core, p.id) == start
    refused = audit_events(core, p.id, "lifecycle.refused")
    assert [(e.actor, e.detail["attempt"], e.detail["code"]) for e in refused] == [(OWNER, action, "bad_stage")]


@pytest.mark.parametrize("action", ["pause", "resume", "retire", "promote"])
def test_only_owner_or_governance_may_move(core, action):
    p = seed(core, "paused" if action == "resume" else "pilot")
    for intruder in (STRANGER, REQUESTER):
        with pytest.raises(Refused) as err:
            core.transition(intruder, p.id, action)
        assert err.value.code == "not_owner"
    assert stage_of(core, p.id) == ("paused" if action == "resume" else "pilot")
    assert audit_actions(core, p.id).count("lifecycle.refused") == 2


def test_governance_from_the_directory_counts_too(core, clock):
    p = seed(core, "pilot")
    with core.uow() as uow:
        uow.roles.set("governance", "", ["UGOV2"], GOV, clock.now())
        uow.commit()
    core.transition("UGOV2", p.id, "pause")
    assert stage_of(core, p.id) == "paused"


def test_promote_needs_a_check_in_that_meets_the_target(core):
    p = seed(core, "pilot", use_area="none")  # metric "from 3 to 0.5" hours
    with pytest.raises(Refused) as err:
        core.transition(OWNER, p.id, "promote")
    assert err.value.code == "gate_unmet"
    assert f"checkin {p.id} <number>" in err.value.message
    assert stage_of(core, p.id) == "pilot"

    core.record_checkin(OWNER, p.id, "0.5")
    core.transition(OWNER, p.id, "promote")
    assert stage_of(core, p.id) == "production"
    moved = audit_events(core, p.id, "stage.production")[0]
    assert moved.detail["from"] == "pilot"
    assert moved.detail["evidence"]["value"] == "0.5"
    assert moved.detail["evidence"]["period"] == "2026-W47"
    assert "override_reason" not in moved.detail


def test_governance_may_override_the_value_only_with_a_reason(core):
    p = seed(core, "pilot", use_area="none")
    with pytest.raises(Refused) as err:
        core.transition(GOV, p.id, "promote")
    assert err.value.code == "gate_unmet"
    with pytest.raises(Refused):
        core.transition(GOV, p.id, "promote", reason="   ")
    assert stage_of(core, p.id) == "pilot"

    msg = core.transition(GOV, p.id, "promote", reason="regulatory deadline; metric wired next sprint")
    assert stage_of(core, p.id) == "production"
    assert "Governance override of value_target" in msg.text
    detail = audit_events(core, p.id, "stage.production")[0].detail
    assert detail["override_reason"] == "regulatory deadline; metric wired next sprint"
    assert "evidence" not in detail


def test_an_owner_reason_does_not_replace_evidence(core):
    p = seed(core, "pilot", use_area="none")
    with pytest.raises(Refused) as err:
        core.transition(OWNER, p.id, "promote", reason="trust me")
    assert err.value.code == "not_governance"
    assert stage_of(core, p.id) == "pilot"


def test_bad_input(core):
    p = seed(core, "pilot")
    with pytest.raises(UsageError) as err:
        core.transition(OWNER, p.id, "launch")
    assert "action" in err.value.message and "pause, resume, retire, promote" in err.value.message
    with pytest.raises(UsageError) as err:
        core.transition(GOV, p.id, "promote", reason="x" * 5000)
    assert err.value.message.startswith("reason:")
    with pytest.raises(NotFound):
        core.transition(OWNER, 9999, "pause")
    assert stage_of(core, p.id) == "pilot"


def test_concurrent_moves_apply_once(core, clock, settings):
    """Four instances pause the same pilot at once: one pause, three refusals."""
    import threading

    from tests.support.stages import bare_core

    p = seed(core, "pilot")
    instances = [bare_core(settings, clock, instance=f"i{n}") for n in range(4)]
    barrier = threading.Barrier(len(instances))
    outcomes: list[str] = []

    def run(instance):
        barrier.wait(timeout=30)
        try:
            instance.transition(OWNER, p.id, "pause")
            outcomes.append("moved")
        except Refused as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=run, args=(i,)) for i in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for instance in instances:
        instance.uow.dispose()
    assert sorted(outcomes) == ["bad_stage", "bad_stage", "bad_stage", "moved"]
    assert len(audit_events(core, p.id, "stage.paused")) == 1
    assert stage_of(core, p.id) == "paused"
