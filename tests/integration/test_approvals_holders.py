"""Several holders of a routed role: any current holder may decide, each sees it and
gets the approval message, the decision updates every copy in place (real store)."""

from __future__ import annotations

import pytest

from bot.messages.message import APPROVE
from bot.service.results import DecisionForm
from tests.support.core_state import audit_actions, messages_for, outbox_for, requests_by_role, set_roles
from tests.support.proposals import medium


@pytest.fixture
def two_security(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("security", "", ["U_SEC1", "U_SEC2"]))
    result = core.submit("U_REQ", "slack", medium(data=["internal", "security"]))
    reqs = requests_by_role(core, result.proposal_id)
    assert "security" in reqs, reqs
    return result.proposal_id, reqs


def _cards(core, user, request_id):
    return [r for r in outbox_for(core, user) if r.kind == "approval_request" and f"{request_id}" in r.ref_key]


def test_every_holder_gets_the_request_under_its_own_key(core, two_security):
    _, reqs = two_security
    sec = reqs["security"]
    assert sec.approver == "U_SEC1"  # the first holder, for the record and the card
    [first] = _cards(core, "U_SEC1", sec.id)
    [second] = _cards(core, "U_SEC2", sec.id)
    assert first.ref_key == f"approval:{sec.id}"
    assert second.ref_key == f"approval:{sec.id}:U_SEC2"
    assert [int(b.value) for b in messages_for(core, "U_SEC2")[-1].buttons if b.action == APPROVE] == [sec.id]


def test_the_second_holder_decides_and_the_first_gets_a_duplicate(core, two_security):
    pid, reqs = two_security
    sec = reqs["security"]
    if core.decide("U_OWNER", reqs["owner"].id, "approve").status != "recorded":
        pytest.fail("the owner could not approve")
    done = core.decide("U_SEC2", sec.id, "approve")
    assert done.status == "recorded" and done.decision == "approve"
    with core.uow() as uow:
        decision = uow.decisions.for_request(sec.id)
    assert decision.actor == "U_SEC2" and decision.on_behalf_of == "U_SEC1"
    again = core.decide("U_SEC1", sec.id, "reject", comment="Too late?")
    assert again.status == "duplicate" and again.decision == "approve"
    assert "decision.approve" in audit_actions(core, pid)
    # both copies were replaced in place by the decided card
    for user, key in (("U_SEC1", f"approval:{sec.id}"), ("U_SEC2", f"approval:{sec.id}:U_SEC2")):
        updates = [r for r in outbox_for(core, user) if r.update_key == key]
        assert len(updates) == 1 and updates[0].ref_key == key
        assert updates[0].payload["buttons"] == []


def test_a_non_holder_is_still_refused(core, two_security):
    pid, reqs = two_security
    outcome = core.decide("U_MALLORY", reqs["security"].id, "approve")
    assert outcome.status == "refused" and "<@U_SEC1>" in outcome.notice
    assert requests_by_role(core, pid)["security"].status == "pending"
    assert audit_actions(core, pid)[-1] == "decision.refused"
    assert core.decision_form("U_MALLORY", reqs["security"].id, "approve").refusal == (
        "this request is routed to <@U_SEC1> (or another holder of its role); only they, their delegate, "
        "or governance with a written reason may decide it"
    )
    assert core.decision_form("U_SEC2", reqs["security"].id, "approve") == DecisionForm(reqs["security"].id, "approve")


def test_a_holder_removed_from_the_role_may_no_longer_decide(core, two_security):
    _, reqs = two_security
    set_roles(core, ("security", "", ["U_SEC1"]))
    assert core.decide("U_SEC2", reqs["security"].id, "approve").status == "refused"


def test_both_holders_see_it_in_home_and_mine(core, two_security):
    _, reqs = two_security
    sec = reqs["security"].id
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    for user in ("U_SEC1", "U_SEC2"):
        home = core.home(user)
        assert [c["meta"]["request_id"] for c in home.meta["cards"]] == [sec], user
        assert {int(b.value) for b in home.buttons if b.action == APPROVE} == {sec}, user
        waiting = core.mine(user).sections[-1].text
        assert f"request {sec}:" in waiting, user
    assert core.home("U_MALLORY").meta["cards"] == []
    assert "nothing" in core.mine("U_MALLORY").sections[-1].text
    core.decide("U_SEC2", sec, "approve")
    assert core.home("U_SEC1").meta["cards"] == []


def test_department_lead_holders_are_per_department(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD", "U_LEAD2"]), ("department_lead", "Finance", ["U_FL"]))
    result = core.submit("U_REQ", "slack", medium())
    reqs = requests_by_role(core, result.proposal_id)
    lead = reqs["department_lead"]
    assert lead.approver == "U_LEAD"
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    assert core.decide("U_FL", lead.id, "approve").status == "refused"  # lead of another department
    assert core.decide("U_LEAD2", lead.id, "approve").status == "recorded"


def test_reminders_go_to_every_holder(core, clock, two_security):
    _, reqs = two_security
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    clock.advance(hours=49)
    result = core.run_due(clock.now())
    assert reqs["security"].id in result["reminders"]["ids"]
    sec = reqs["security"].id
    for user, thread in (("U_SEC1", f"approval:{sec}"), ("U_SEC2", f"approval:{sec}:U_SEC2")):
        sent = [r for r in outbox_for(core, user) if r.kind == "approval_reminder"]
        assert len(sent) == 1 and sent[0].thread_key == thread, user


def test_a_role_nobody_holds_goes_to_every_governance_member(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("governance", "", ["UGOV", "UGOV2"]))
    result = core.submit("U_REQ", "slack", medium(data=["internal", "security"]))
    sec = requests_by_role(core, result.proposal_id)["security"]
    assert sec.approver == "UGOV" and sec.note.endswith("routed to governance")
    assert len(_cards(core, "UGOV2", sec.id)) == 1
    core.decide("U_OWNER", requests_by_role(core, result.proposal_id)["owner"].id, "approve")
    assert [c["meta"]["request_id"] for c in core.home("UGOV2").meta["cards"]] == [sec.id]
    done = core.decide("UGOV2", sec.id, "approve")
    assert done.status == "recorded"
    with core.uow() as uow:
        assert uow.decisions.for_request(sec.id).on_behalf_of == "UGOV"
    assert core.home("UGOV").meta["cards"] == []


def test_a_holder_named_later_may_decide_but_gets_no_stray_card(core, two_security):
    _, reqs = two_security
    sec = reqs["security"].id
    set_roles(core, ("security", "", ["U_SEC1", "U_SEC2", "U_SEC3"]))
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    assert core.decide("U_SEC3", sec, "approve").status == "recorded"
    assert [r for r in outbox_for(core, "U_SEC3") if r.kind.startswith("approval")] == []
    assert len([r for r in outbox_for(core, "U_SEC2") if r.update_key == f"approval:{sec}:U_SEC2"]) == 1


def test_every_holder_and_governance_see_the_card_and_only_governance_owes_a_reason(core, two_security):
    sec = two_security[1]["security"].id
    users = core.approval_viewers(sec)
    assert users[:2] == ["U_SEC1", "U_SEC2"] and "UGOV" in users and "U_MALLORY" not in users
    assert not core.decision_form("U_SEC2", sec, "approve").reason_required
    assert core.decision_form("UGOV", sec, "approve").reason_required  # deciding for them gives a reason
