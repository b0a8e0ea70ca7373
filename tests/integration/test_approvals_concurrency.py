"""Concurrent decisions (threads, one engine, real database): exactly one effect each time.

Runs on SQLite and, with GOVBOT_TEST_BACKEND=postgres, on PostgreSQL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.domain.records import DecisionRow
from tests.support.core_state import audit_actions, requests_by_role, set_roles, stage_of
from tests.support.proposals import medium


def _at_once(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, c) for c in calls]]


def _setup(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))
    result = core.submit("U_REQ", "slack", medium())
    return result.proposal_id, requests_by_role(core, result.proposal_id)


def test_the_same_decision_twice_at_once_is_recorded_once(core):
    for _ in range(3):
        pid, reqs = _setup(core)
        rid = reqs["owner"].id
        outcomes = _at_once([lambda rid=rid: core.decide("U_OWNER", rid, "approve")] * 4)
        assert sorted(o.status for o in outcomes) == ["duplicate", "duplicate", "duplicate", "recorded"]
        assert all(o.decision == "approve" for o in outcomes)
        with core.uow() as uow:
            assert len([d for d in uow.decisions.for_proposal(pid) if d.request_id == rid]) == 1
        assert audit_actions(core, pid).count("decision.approve") == 1


def test_two_approvers_deciding_at_once_move_the_proposal_once(core):
    for _ in range(3):
        pid, reqs = _setup(core)
        owner, lead = reqs["owner"].id, reqs["department_lead"].id
        outcomes = _at_once(
            [
                lambda owner=owner: core.decide("U_OWNER", owner, "approve"),
                lambda lead=lead: core.decide("U_LEAD", lead, "approve"),
            ]
        )
        assert [o.status for o in outcomes] == ["recorded", "recorded"]
        assert stage_of(core, pid) == "pilot"
        assert audit_actions(core, pid).count("stage.pilot") == 1
        assert sorted(o.proposal_stage for o in outcomes) == ["in_review", "pilot"]


def test_approve_and_reject_at_once_leave_one_consistent_outcome(core):
    pid, reqs = _setup(core)
    outcomes = _at_once(
        [
            lambda: core.decide("U_OWNER", reqs["owner"].id, "reject", comment="no"),
            lambda: core.decide("U_LEAD", reqs["department_lead"].id, "approve"),
        ]
    )
    # whichever commits first decides what the other one meets: a rejected proposal
    # refuses the approval; an approval leaves the rejection to be recorded after it
    decided = [a for a in audit_actions(core, pid) if a.startswith("decision.")]
    trail, statuses = {
        "decision.reject": (["decision.reject", "decision.refused"], ("recorded", "refused")),
        "decision.approve": (["decision.approve", "decision.reject"], ("recorded", "recorded")),
    }[decided[0]]
    assert decided == trail
    assert (outcomes[0].status, outcomes[1].status) == statuses  # (the rejection, the approval)
    assert stage_of(core, pid) == "rejected"
    assert audit_actions(core, pid).count("stage.rejected") == 1
    assert "stage.pilot" not in audit_actions(core, pid)


def test_the_same_submission_twice_at_once_creates_one_proposal(core):
    from tests.support.proposals import make_proposal

    results = _at_once([lambda: core.submit("U_REQ", "slack", make_proposal(), idempotency_key="V123")] * 3)
    assert len({r.proposal_id for r in results}) == 1
    assert sorted(r.duplicate for r in results) == [False, True, True]
    with core.uow() as uow:
        assert uow.proposals.count() == 1


def test_the_unique_constraint_is_the_last_guard(core):
    """If a twin's decision lands after our check (the race window), the insert hits
    the decisions UNIQUE constraint and the outcome is the twin's decision."""
    pid, reqs = _setup(core)
    rid = reqs["owner"].id
    with core.uow() as uow:  # the twin's insert, committed just after our checks
        uow.decisions.add(DecisionRow(0, rid, "approve", "U_OWNER", None, None, None, core.clock.now()))
        uow.commit()
    real_factory = core.uow
    blinded = {"left": 1}

    class Blinded:
        def __init__(self):
            self.inner = real_factory()

        def __enter__(self):
            uow = self.inner.__enter__()
            real_for_request = uow.decisions.for_request

            def for_request(request_id):
                if blinded["left"]:
                    blinded["left"] -= 1
                    return None  # the twin has not committed yet, as far as this check knows
                return real_for_request(request_id)

            uow.decisions.for_request = for_request
            return self

        def __exit__(self, *exc):
            return self.inner.__exit__(*exc)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    core.uow = Blinded
    try:
        outcome = core.decide("U_OWNER", rid, "reject", comment="second thoughts")
    finally:
        core.uow = real_factory
    assert outcome.status == "duplicate" and outcome.decision == "approve"
    with core.uow() as uow:
        assert [d.decision for d in uow.decisions.for_proposal(pid)] == ["approve"]
    assert stage_of(core, pid) == "in_review"
    assert audit_actions(core, pid).count("decision.reject") == 0
