"""Concurrent decisions (threads, one engine, real database): exactly one effect each time.

Runs on SQLite and, with GOVBOT_TEST_BACKEND=postgres, on PostgreSQL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.integration.approval_data import audit_actions, medium, requests_by_role, set_roles, stage


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
        outcomes = _at_once([lambda owner=owner: core.decide("U_OWNER", owner, "approve"),
                             lambda lead=lead: core.decide("U_LEAD", lead, "approve")])
        assert [o.status for o in outcomes] == ["recorded", "recorded"]
        assert stage(core, pid) == "pilot"
        assert audit_actions(core, pid).count("stage.pilot") == 1
        assert sorted(o.proposal_stage for o in outcomes) == ["in_review", "pilot"]


def test_approve_and_reject_at_once_leave_one_consistent_outcome(core):
    pid, reqs = _setup(core)
    outcomes = _at_once([lambda: core.decide("U_OWNER", reqs["owner"].id, "reject", comment="no"),
                         lambda: core.decide("U_LEAD", reqs["department_lead"].id, "approve")])
    statuses = sorted(o.status for o in outcomes)
    assert statuses in (["recorded", "recorded"], ["recorded", "refused"])
    assert stage(core, pid) == "rejected"
    assert audit_actions(core, pid).count("stage.rejected") == 1
    assert "stage.pilot" not in audit_actions(core, pid)


def test_the_same_submission_twice_at_once_creates_one_proposal(core):
    from tests.integration.approval_data import proposal

    results = _at_once([lambda: core.submit("U_REQ", "slack", proposal(), idempotency_key="V123")] * 3)
    assert len({r.proposal_id for r in results}) == 1
    assert sorted(r.duplicate for r in results) == [False, True, True]
    with core.uow() as uow:
        assert uow.proposals.count() == 1
