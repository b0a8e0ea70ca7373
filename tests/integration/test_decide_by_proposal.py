"""Ids people can use: a decision may name the proposal (`approve #3`) when exactly one
request on it waits on the person; cards, `mine` and `help` show the request ids."""

from __future__ import annotations

from tests.support.core_state import requests_by_role, set_roles
from tests.support.proposals import high_billing, make_proposal


def decision_of(core, request_id):
    with core.uow() as uow:
        return uow.decisions.for_request(request_id)


def test_approve_hash_proposal_decides_the_one_request_waiting_on_the_person(core):
    set_roles(core, ("department_lead", "Support", ["U_DANA"]), ("finance", "", ["U_FIONA"]))
    first = core.submit("U1", "console", make_proposal())  # request 1: owner, so ids and proposal numbers differ
    second = core.submit("U1", "console", high_billing())
    dana = requests_by_role(core, second.proposal_id)["department_lead"]
    assert first.proposal_id != dana.id
    reply = core.handle_command("U_DANA", "console", f"approve #{second.proposal_id} fine").message
    assert reply.text == f"Approved. #{second.proposal_id} waits on 3 more approval(s)."
    assert decision_of(core, dana.id).actor == "U_DANA"


def test_approve_hash_lists_the_request_ids_when_several_wait_on_the_person(core):
    # U_DANA is routed the department lead request, U_BOTH finance; as a holder of both
    # roles U_BOTH may decide either (but only one of them: separation of duties)
    set_roles(core, ("department_lead", "Support", ["U_DANA", "U_BOTH"]), ("finance", "", ["U_BOTH"]))
    result = core.submit("U1", "console", high_billing())
    mine = requests_by_role(core, result.proposal_id)
    reply = core.handle_command("U_BOTH", "console", f"approve #{result.proposal_id}").message
    assert reply.text == (
        f"#{result.proposal_id} has 2 requests waiting on you: request {mine['department_lead'].id} "
        f"(department lead, Support), request {mine['finance'].id} (finance); "
        f"name one, e.g. `approve {mine['department_lead'].id}`"
    )
    assert decision_of(core, mine["finance"].id) is None


def test_approve_hash_with_nothing_waiting_names_the_pending_requests(core):
    result = core.submit("U1", "console", make_proposal())
    owner = requests_by_role(core, result.proposal_id)["owner"]
    reply = core.handle_command("U_STRANGER", "console", f"reject #{result.proposal_id} no").message
    assert reply.text == (
        f"nothing on #{result.proposal_id} waits on you; its pending requests: request {owner.id} "
        f"(workflow owner). Governance may decide one in the approver's place: "
        f"`reject <request id> --override <reason>`"
    )


def test_governance_override_by_proposal_decides_in_the_approvers_place(core):
    result = core.submit("U1", "console", make_proposal())
    owner = requests_by_role(core, result.proposal_id)["owner"]
    core.handle_command("UGOV", "console", f"approve #{result.proposal_id} --override owner is on leave")
    decided = decision_of(core, owner.id)
    assert (decided.actor, decided.override_reason) == ("UGOV", "owner is on leave")


def test_cards_and_mine_show_the_request_id(core):
    result = core.submit("U1", "console", make_proposal())
    rid = result.approval_request_ids[0]
    card = core.approval_card(rid, "U_OWNER")
    assert ("Request id", str(rid)) in card.sections[0].fields
    mine = core.handle_command("U_OWNER", "console", "mine").message.plain_text()
    assert f"request {rid}: #{result.proposal_id} Summarise weekly support themes as workflow owner" in mine


def test_help_documents_the_proposal_form_and_the_governance_override(core):
    text = core.help("console").plain_text()
    assert "approve <request id> --override <reason>" in text
