"""Deciding approval requests on the real store: who may decide, duplicates, chain rules."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.errors import UsageError
from bot.domain.records import Delegation
from bot.messages.message import EDIT_PROPOSAL, Message
from tests.support.core_state import audit_actions, messages_for, outbox_for, requests_by_role, set_roles, stage_of
from tests.support.proposals import high_billing, make_proposal, medium


@pytest.fixture
def submitted(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))
    result = core.submit("U_REQ", "slack", medium())
    return result.proposal_id, requests_by_role(core, result.proposal_id)


def _decisions(core, proposal_id):
    with core.uow() as uow:
        return uow.decisions.for_proposal(proposal_id)


def test_a_wrong_user_is_refused_audited_and_nothing_changes(core, submitted):
    pid, reqs = submitted
    before = len(outbox_for(core, "U_REQ"))
    outcome = core.decide("U_MALLORY", reqs["owner"].id, "approve")
    assert outcome.status == "refused" and outcome.decision is None
    assert "<@U_OWNER>" in outcome.notice
    assert outcome.card.buttons == ()
    assert _decisions(core, pid) == []
    assert requests_by_role(core, pid)["owner"].status == "pending"
    assert stage_of(core, pid) == "in_review"
    assert audit_actions(core, pid)[-1] == "decision.refused"
    assert len(outbox_for(core, "U_REQ")) == before


def test_governance_without_a_reason_is_refused_with_one_it_decides(core, submitted):
    pid, reqs = submitted
    refused = core.decide("UGOV", reqs["owner"].id, "approve")
    assert refused.status == "refused" and "override reason" in refused.notice
    done = core.decide("UGOV", reqs["owner"].id, "approve", override_reason="Owner on leave; I checked it.")
    assert done.status == "recorded"
    decision = _decisions(core, pid)[0]
    assert decision.actor == "UGOV" and decision.on_behalf_of == "U_OWNER"
    assert decision.override_reason == "Owner on leave; I checked it."
    told = [m for m in messages_for(core, "U_OWNER") if m.kind == "decision_on_your_behalf"]
    assert len(told) == 1 and "governance" in told[0].text


def test_an_active_delegate_may_decide_and_the_approver_is_told(core, submitted, clock):
    pid, reqs = submitted
    now = clock.now()
    with core.uow() as uow:
        uow.delegations.add(
            Delegation(0, "U_LEAD", "U_DEP", now - timedelta(days=1), now + timedelta(days=3), "U_LEAD", now)
        )
        uow.delegations.add(
            Delegation(0, "U_OWNER", "U_OLD", now - timedelta(days=9), now - timedelta(days=2), "U_OWNER", now)
        )
        uow.commit()
    assert core.decide("U_OLD", reqs["owner"].id, "approve").status == "refused"  # delegation has ended
    outcome = core.decide("U_DEP", reqs["department_lead"].id, "approve")
    assert outcome.status == "recorded"
    assert _decisions(core, pid)[0].on_behalf_of == "U_LEAD"
    told = [m for m in messages_for(core, "U_LEAD") if m.kind == "decision_on_your_behalf"]
    assert len(told) == 1 and "<@U_DEP>" in told[0].text


def test_a_repeated_decision_returns_the_first(core, submitted):
    pid, reqs = submitted
    first = core.decide("U_OWNER", reqs["owner"].id, "approve")
    again = core.decide("U_OWNER", reqs["owner"].id, "reject", comment="changed my mind")
    assert first.status == "recorded" and again.status == "duplicate"
    assert again.decision == "approve" and "Approved by <@U_OWNER>" in again.notice
    assert len(_decisions(core, pid)) == 1
    assert stage_of(core, pid) == "in_review"


def test_the_approval_message_is_updated_in_place_and_the_requester_hears_in_thread(core, submitted):
    pid, reqs = submitted
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    updates = [r for r in outbox_for(core, "U_OWNER") if r.update_key == f"approval:{reqs['owner'].id}"]
    assert len(updates) == 1
    card = Message.from_json(updates[0].payload)
    assert card.buttons == () and card.text.startswith("Approved by <@U_OWNER> at 09:00")
    threaded = [r for r in outbox_for(core, "U_REQ") if r.thread_key == f"classification:{pid}"]
    assert len(threaded) == 1 and "Approved by <@U_OWNER>" in threaded[0].payload["text"]


def test_all_approvals_move_the_proposal_to_pilot(core, submitted):
    pid, reqs = submitted
    assert core.decide("U_OWNER", reqs["owner"].id, "approve").proposal_stage == "in_review"
    last = core.decide("U_LEAD", reqs["department_lead"].id, "approve")
    assert last.proposal_stage == "pilot" and stage_of(core, pid) == "pilot"
    assert audit_actions(core, pid).count("stage.pilot") == 1
    assert [m.kind for m in messages_for(core, "U_REQ")] == [
        "classification",
        "decision_notice",
        "decision_notice",
        "stage_pilot",
    ]


def test_an_open_stop_condition_stops_at_approved(core):
    result = core.submit("U_REQ", "slack", make_proposal(value_metric=None))
    assert result.classification["stop_conditions"] == ["unmeasurable_success"]
    reqs = requests_by_role(core, result.proposal_id)
    assert set(reqs) == {"owner", "governance"}
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    last = core.decide("UGOV", reqs["governance"].id, "approve")
    assert last.proposal_stage == "approved"
    blocked = [m for m in messages_for(core, "U_REQ") if m.kind == "stage_approved_blocked"]
    assert len(blocked) == 1
    assert "unmeasurable_success" in blocked[0].text and "override" in blocked[0].text


def test_a_wrong_user_rejecting_without_a_comment_is_refused_not_asked_for_one(core, submitted):
    pid, reqs = submitted
    outcome = core.decide("U_MALLORY", reqs["owner"].id, "reject")
    assert outcome.status == "refused"
    assert audit_actions(core, pid)[-1] == "decision.refused"
    assert requests_by_role(core, pid)["owner"].status == "pending"
    with pytest.raises(UsageError, match="comment"):  # the routed approver still needs one
        core.decide("U_OWNER", reqs["owner"].id, "request_changes")
    assert audit_actions(core, pid)[-1] == "decision.refused"  # the failed attempt wrote nothing


def test_one_reject_rejects_and_closes_the_other_requests(core, submitted):
    pid, reqs = submitted
    with pytest.raises(UsageError, match="comment"):
        core.decide("U_OWNER", reqs["owner"].id, "reject", comment="  ")
    outcome = core.decide("U_OWNER", reqs["owner"].id, "reject", comment="Not worth it.")
    assert outcome.proposal_stage == "rejected"
    assert set(requests_by_role(core, pid)) == {"owner"}  # the lead's request was closed
    late = core.decide("U_LEAD", reqs["department_lead"].id, "approve")
    assert late.status == "refused"
    assert stage_of(core, pid) == "rejected"


def test_request_changes_gives_the_requester_an_edit_button(core, submitted):
    pid, reqs = submitted
    with pytest.raises(UsageError, match="comment"):
        core.decide("U_LEAD", reqs["department_lead"].id, "request_changes")
    outcome = core.decide("U_LEAD", reqs["department_lead"].id, "request_changes", comment="Name the reviewer.")
    assert outcome.proposal_stage == "changes_requested"
    asks = [m for m in messages_for(core, "U_REQ") if m.kind == "changes_requested"]
    assert len(asks) == 1
    assert [(b.action, b.value) for b in asks[0].buttons] == [(EDIT_PROPOSAL, str(pid))]
    assert "Name the reviewer." in asks[0].plain_text()
    waiting = core.decide("U_OWNER", reqs["owner"].id, "approve")
    assert waiting.status == "refused" and "resubmits" in waiting.notice


def test_unknown_request_and_decision_are_usage_errors(core, submitted):
    _, reqs = submitted
    with pytest.raises(UsageError, match="request id"):
        core.decide("U_OWNER", 424242, "approve")
    with pytest.raises(UsageError, match="allowed"):
        core.decide("U_OWNER", reqs["owner"].id, "maybe")


def test_high_risk_chain_with_governance_and_finance(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("finance", "", ["U_FIN"]))
    result = core.submit("U_REQ", "slack", high_billing())
    reqs = requests_by_role(core, result.proposal_id)
    for role, user in (("owner", "U_OWNER"), ("department_lead", "U_LEAD"), ("finance", "U_FIN")):
        assert core.decide(user, reqs[role].id, "approve").proposal_stage == "in_review"
    assert core.decide("UGOV", reqs["governance"].id, "approve").proposal_stage == "approved"


def test_autonomy_requests_follow_the_decide_path(core, submitted):

    pid, reqs = submitted
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    core.decide("U_LEAD", reqs["department_lead"].id, "approve")
    assert stage_of(core, pid) == "pilot"
    core.request_autonomy_step("U_OWNER", pid)
    with core.uow() as uow:
        step = [r for r in uow.approvals.for_proposal(pid) if r.kind == "autonomy"]
    # nobody approves their own autonomy step: the owner's request goes to the department lead
    assert [(r.role, r.target, r.requested_by) for r in step] == [("department_lead", "human_approves", "U_OWNER")]
    assert core.decide("U_MALLORY", step[0].id, "approve").status == "refused"
    assert core.decide("U_OWNER", step[0].id, "approve").status == "refused"
    outcome = core.decide("U_LEAD", step[0].id, "approve")
    assert outcome.status == "recorded" and outcome.proposal_stage == "pilot"
    with core.uow() as uow:
        assert uow.proposals.get(pid).autonomy == "human_approves"
    assert "autonomy.changed" in audit_actions(core, pid)


def test_a_declined_autonomy_step_leaves_the_level_and_stage(core, submitted):

    pid, reqs = submitted
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    core.decide("U_LEAD", reqs["department_lead"].id, "approve")
    core.request_autonomy_step("U_OWNER", pid)
    with core.uow() as uow:
        step = [r for r in uow.approvals.for_proposal(pid) if r.kind == "autonomy"][0]
    core.decide("U_LEAD", step.id, "reject", comment="Not yet; error rate too high.")
    with core.uow() as uow:
        row = uow.proposals.get(pid)
    assert (row.stage, row.autonomy) == ("pilot", "draft_only")
    assert "autonomy.declined" in audit_actions(core, pid)


def test_any_governance_member_may_take_what_was_routed_to_governance(core):
    core.set_role("UGOV", "governance", "", ["UGOV", "UGOV2"])
    result = core.submit("U_REQ", "slack", medium(department="Legal"))  # no department lead for Legal
    reqs = requests_by_role(core, result.proposal_id)
    assert reqs["department_lead"].approver == "UGOV"
    assert core.decide("UGOV2", reqs["department_lead"].id, "approve").status == "recorded"
    # but the owner's request needs a reason even from governance
    assert core.decide("UGOV2", reqs["owner"].id, "approve").status == "refused"


def test_a_request_opened_during_a_delegation_is_also_sent_to_the_delegate(core, clock):
    now = clock.now()
    with core.uow() as uow:
        uow.delegations.add(
            Delegation(0, "U_OWNER", "U_DEP", now - timedelta(days=1), now + timedelta(days=3), "U_OWNER", now)
        )
        uow.commit()
    result = core.submit("U_REQ", "slack", make_proposal())
    rid = result.approval_request_ids[0]
    copies = [m for m in messages_for(core, "U_DEP") if m.kind == "approval_request"]
    assert len(copies) == 1 and [b.value for b in copies[0].buttons] == [str(rid)] * 3
    assert "<@U_OWNER>'s delegate" in copies[0].plain_text()
    assert core.decide("U_DEP", rid, "approve").status == "recorded"
