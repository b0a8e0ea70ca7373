"""Authority follows the role directory (issue 18, item 5): who may decide is asked of
the directory at decision time, a role changing hands re-routes its pending requests
(cards through the outbox, audited), GOVBOT_GOVERNANCE only seeds an empty directory,
delegation names people only and never covers the delegate's own proposal, and
governance never overrides a stop condition on its own proposal (real store)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import Refused, UsageError
from tests.support.core_state import GOV, audit_events, outbox_for, requests_by_role, set_roles
from tests.support.proposals import medium
from tests.support.stages import REQUESTER, seed


@pytest.fixture
def routed(core):
    """A proposal by U_REQ whose security request went to U_SEC1 (U_SEC2 holds it too)."""
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("security", "", ["U_SEC1", "U_SEC2"]))
    result = core.submit("U_REQ", "slack", medium(data=["internal", "security"]))
    request = requests_by_role(core, result.proposal_id)["security"]
    assert request.approver == "U_SEC1", request
    return result.proposal_id, request


def _drop_from_directory(core, role, users):
    """The directory changes outside `roles set` (a roles file applied at start-up)."""
    with core.uow() as uow:
        uow.roles.set(role, "", users, "roles-file", core.clock.now())
        uow.commit()


def _request(core, request_id):
    with core.uow() as uow:
        return uow.approvals.get(request_id)


# --------------------------------------------------------------------------- decision time


def test_a_holder_removed_from_the_role_may_no_longer_decide_the_request_routed_to_them(core, routed):
    _, request = routed
    _drop_from_directory(core, "security", ["U_SEC2"])
    assert core.decide("U_SEC1", request.id, "approve").status == "refused"


def test_a_holder_removed_from_the_role_no_longer_sees_the_request_in_mine(core, routed):
    _drop_from_directory(core, "security", ["U_SEC2"])
    assert core.mine("U_SEC1").text == "0 proposal(s), 0 approval(s) waiting on <@U_SEC1>"


def test_a_holder_removed_from_the_role_no_longer_gets_its_card_at_home(core, routed):
    _drop_from_directory(core, "security", ["U_SEC2"])
    assert core.home("U_SEC1").meta["cards"] == []


# --------------------------------------------------------------------------- roles set re-routes


def test_roles_set_reroutes_a_pending_request_to_the_new_holder(core, routed):
    pid, old = routed
    core.set_role(GOV, "security", "", ["U_SEC3"])
    new = requests_by_role(core, pid)["security"]
    assert (new.id != old.id, new.approver, _request(core, old.id).status) == (True, "U_SEC3", "superseded")


def test_the_new_holder_gets_the_card_through_the_outbox(core, routed):
    pid, _ = routed
    core.set_role(GOV, "security", "", ["U_SEC3"])
    new = requests_by_role(core, pid)["security"]
    cards = [r.ref_key for r in outbox_for(core, "U_SEC3") if r.kind == "approval_request"]
    assert cards == [f"approval:{new.id}"]


def test_every_former_holders_copy_loses_its_buttons(core, routed):
    _, old = routed
    core.set_role(GOV, "security", "", ["U_SEC3"])
    closed = [
        (r.recipient, r.kind, r.payload["buttons"])
        for user in ("U_SEC1", "U_SEC2")
        for r in outbox_for(core, user)
        if r.update_key
    ]
    assert closed == [("U_SEC1", "approval_closed", []), ("U_SEC2", "approval_closed", [])]


def test_the_reroute_is_audited(core, routed):
    pid, old = routed
    core.set_role(GOV, "security", "", ["U_SEC3"])
    new = requests_by_role(core, pid)["security"]
    [event] = audit_events(core, pid, "approval.rerouted")
    assert (event.actor, event.detail["request_id"], event.detail["new_request_id"], event.detail["to"]) == (
        GOV,
        old.id,
        new.id,
        "U_SEC3",
    )


def test_the_new_holder_decides_and_the_former_approver_is_refused(core, routed):
    pid, old = routed
    core.set_role(GOV, "security", "", ["U_SEC3"])
    new = requests_by_role(core, pid)["security"]
    assert (core.decide("U_SEC1", old.id, "approve").status, core.decide("U_SEC3", new.id, "approve").status) == (
        "refused",
        "recorded",
    )


def test_a_role_left_empty_falls_back_to_governance_with_a_note(core, routed):
    pid, _ = routed
    core.set_role(GOV, "security", "", [])
    new = requests_by_role(core, pid)["security"]
    assert (new.approver, new.governance_fallback, new.note) == (
        GOV,
        True,
        "nobody holds security; routed to governance",
    )


def test_a_request_that_fell_back_to_governance_goes_to_the_first_holder_named(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))
    pid = core.submit("U_REQ", "slack", medium(data=["internal", "security"])).proposal_id
    assert requests_by_role(core, pid)["security"].governance_fallback
    core.set_role(GOV, "security", "", ["U_SEC9"])
    new = requests_by_role(core, pid)["security"]
    assert (new.approver, new.governance_fallback) == ("U_SEC9", False)


def test_a_holder_kept_in_the_role_keeps_the_request(core, routed):
    pid, old = routed
    core.set_role(GOV, "security", "", ["U_SEC1", "U_SEC3"])
    assert requests_by_role(core, pid)["security"].id == old.id


def test_the_notice_says_how_many_requests_were_rerouted(core, routed):
    msg = core.set_role(GOV, "security", "", ["U_SEC3"])
    assert msg.text == "security is now held by <@U_SEC3>. 1 pending request(s) re-routed."


# --------------------------------------------------------------------------- GOVBOT_GOVERNANCE


def test_seeding_governance_from_the_environment_is_audited(core):
    core.bootstrap()
    with core.uow() as uow:
        seeded = [(e.actor, e.detail["after"]) for e in uow.audit.recent() if e.action == "roles.set"]
    assert seeded == [("GOVBOT_GOVERNANCE", [GOV])]


def test_a_governance_member_from_the_environment_removed_from_the_directory_is_not_governance(core):
    core.set_role(GOV, "governance", "", ["UGOV2"])
    assert core.is_governance(GOV) is False


def test_a_removed_environment_governance_member_may_not_edit_the_directory(core):
    core.set_role(GOV, "governance", "", ["UGOV2"])
    with pytest.raises(Refused):
        core.set_role(GOV, "governance", "", [GOV])


def test_a_removed_environment_governance_member_may_not_override_a_stop_condition(core):
    p = seed(core, "approved", stops=("invisible_failure",))
    core.set_role(GOV, "governance", "", ["UGOV2"])
    with pytest.raises(Refused) as err:
        core.override_stop(GOV, p.id, "invisible_failure", "because")
    assert err.value.code == "not_governance"


# --------------------------------------------------------------------------- delegation


@pytest.mark.parametrize("target", ["C123", "D123", "G123", "<#C123|general>", "19:abc@thread.tacv2", "a:1xYz"])
def test_delegation_accepts_only_user_ids(core, target):
    with pytest.raises(UsageError) as err:
        core.delegate("U_SEC1", target, date(2026, 11, 30))
    assert err.value.message.startswith("delegate: ")


def test_a_teams_user_id_may_be_a_delegate(core):
    assert core.delegate("29:sec", "29:deputy", date(2026, 11, 30)).meta["delegate"] == "29:deputy"


def test_a_delegate_may_not_decide_their_own_proposal(core, routed):
    _, request = routed
    core.delegate("U_SEC1", "U_REQ", date(2026, 11, 30))
    outcome = core.decide("U_REQ", request.id, "approve")
    assert (outcome.status, outcome.notice) == (
        "refused",
        "Not recorded: a delegation never covers your own proposal; you requested it.",
    )


def test_a_delegate_does_not_see_their_own_proposal_waiting_on_them(core, routed):
    core.delegate("U_SEC1", "U_REQ", date(2026, 11, 30))
    assert core.mine("U_REQ").text == "1 proposal(s), 0 approval(s) waiting on <@U_REQ>"


# --------------------------------------------------------------------------- overrides


def test_governance_never_overrides_a_stop_condition_on_its_own_proposal(core):
    set_roles(core, ("governance", "", [GOV, REQUESTER]))
    p = seed(core, "approved", stops=("invisible_failure",))
    with pytest.raises(Refused) as err:
        core.override_stop(REQUESTER, p.id, "invisible_failure", "I vouch for it")
    assert err.value.code == "own_proposal"


def test_roles_set_typed_in_chat_reroutes_too(core, routed):
    pid, _ = routed
    core.handle_command(GOV, "slack", "roles set security <@U_SEC3>")
    assert requests_by_role(core, pid)["security"].approver == "U_SEC3"
