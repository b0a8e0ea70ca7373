"""Resubmission after "changes requested": re-classification and which approvals stand."""

from __future__ import annotations

import pytest

from bot.domain.errors import Refused
from tests.support.core_state import audit_actions, messages_for, requests_by_role, set_roles, stage_of
from tests.support.proposals import medium


@pytest.fixture
def changes_requested(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("finance", "", ["U_FIN"]), ("security", "", ["U_SEC"]))
    result = core.submit("U_REQ", "slack", medium())
    reqs = requests_by_role(core, result.proposal_id)
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    core.decide("U_LEAD", reqs["department_lead"].id, "request_changes", comment="Add the finance data.")
    assert stage_of(core, result.proposal_id) == "changes_requested"
    return result.proposal_id, reqs


def _all_requests(core, pid):
    with core.uow() as uow:
        return uow.approvals.for_proposal(pid)


def test_same_risk_keeps_approvals_reopens_changes_and_adds_new_roles(core, changes_requested):
    pid, before = changes_requested
    again = core.submit("U_REQ", "slack", medium(data=["internal", "financial"]), proposal_id=pid)
    assert again.revision == 2 and again.classification["risk_level"] == "medium"
    live = requests_by_role(core, pid)
    assert set(live) == {"owner", "department_lead", "finance"}
    assert live["owner"].id == before["owner"].id and live["owner"].status == "approved"
    assert live["department_lead"].id != before["department_lead"].id
    assert live["department_lead"].status == "pending" and live["department_lead"].round == 2
    assert live["finance"].status == "pending" and live["finance"].approver == "U_FIN"
    assert stage_of(core, pid) == "in_review"
    old = [r for r in _all_requests(core, pid) if r.id == before["department_lead"].id][0]
    assert old.status == "superseded"
    assert core.decide("U_LEAD", live["department_lead"].id, "approve").proposal_stage == "in_review"
    assert core.decide("U_FIN", live["finance"].id, "approve").proposal_stage == "pilot"
    assert "proposal.resubmitted" in audit_actions(core, pid)


def test_a_changed_risk_level_reopens_every_approval(core, changes_requested):
    pid, before = changes_requested
    high = medium(
        description="The agent deploys to production every night.", actions=["summarize", "change_production"]
    )
    again = core.submit("U_REQ", "slack", high, proposal_id=pid)
    assert again.classification["risk_level"] == "high"
    live = requests_by_role(core, pid)
    assert "owner" in live and "governance" in live and "engineering" in live
    assert live["owner"].id != before["owner"].id and live["owner"].status == "pending"
    assert all(r.round == 2 for r in live.values())
    old_owner = [r for r in _all_requests(core, pid) if r.id == before["owner"].id][0]
    assert old_owner.status == "superseded"
    # the owner's earlier approval no longer counts: they are asked again
    assert sum(1 for m in messages_for(core, "U_OWNER") if m.kind == "approval_request") == 2


def test_only_the_requester_or_owner_may_resubmit(core, changes_requested):
    pid, _ = changes_requested
    with pytest.raises(Refused):
        core.submit("U_STRANGER", "slack", medium(), proposal_id=pid)
    assert stage_of(core, pid) == "changes_requested"
    assert "proposal.edit_refused" in audit_actions(core, pid)
    owner = core.submit("U_OWNER", "slack", medium(), proposal_id=pid)
    assert owner.revision == 2


def test_resubmitting_a_proposal_in_review_is_refused(core):
    result = core.submit("U_REQ", "slack", medium())
    with pytest.raises(Refused, match="changes were requested"):
        core.submit("U_REQ", "slack", medium(), proposal_id=result.proposal_id)
    with core.uow() as uow:
        assert len(uow.proposals.revisions(result.proposal_id)) == 1
