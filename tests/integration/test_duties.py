"""Separation of duties and quorum on the real store (DESIGN.md "Gates")."""

from __future__ import annotations

import pytest

from bot.app import build_core
from bot.settings import Settings
from tests.support.core_state import GOV, audit_events, outbox_for, requests_by_role, set_roles, stage_of
from tests.support.duties import quorum_policy_file
from tests.support.proposals import high_billing, medium


def _card_ids(core, user: str) -> list[int]:
    return [r.payload["meta"]["request_id"] for r in outbox_for(core, user) if r.kind == "approval_request"]


def test_a_requester_who_owns_and_leads_cannot_move_their_own_proposal_into_pilot(core):
    set_roles(core, ("department_lead", "Support", ["U_RITA"]))
    pid = core.submit("U_RITA", "console", medium(owner="U_RITA")).proposal_id
    reqs = requests_by_role(core, pid)
    lead = reqs["department_lead"]
    assert (lead.approver, lead.governance_fallback) == (GOV, True)  # nobody else leads Support
    assert core.decide("U_RITA", reqs["owner"].id, "approve").status == "recorded"
    refused = core.decide("U_RITA", lead.id, "approve")
    assert refused.notice == (
        "Not recorded: you requested this proposal, so governance decides this department lead request."
    )
    assert (requests_by_role(core, pid)["department_lead"].status, stage_of(core, pid)) == ("pending", "in_review")
    assert audit_events(core, pid, "decision.refused")[-1].detail["separation_of_duties"] is True
    assert core.decide(GOV, lead.id, "approve").proposal_stage == "pilot"


def test_another_holder_of_the_role_is_routed_when_the_requester_holds_it(core):
    set_roles(core, ("department_lead", "Support", ["U_RITA", "U_DANA"]))
    pid = core.submit("U_RITA", "console", medium(owner="U_RITA")).proposal_id
    lead = requests_by_role(core, pid)["department_lead"]
    assert (lead.approver, lead.governance_fallback) == ("U_DANA", False)
    refused = core.decide("U_RITA", lead.id, "approve")
    assert refused.notice == "Not recorded: you requested this proposal, so another department lead decides."
    assert lead.id not in _card_ids(core, "U_RITA")
    mine = core.handle_command("U_RITA", "console", "mine").message.plain_text()
    assert f"type: approve {lead.id}" not in mine


def test_one_person_decides_at_most_one_request(core):
    set_roles(core, ("department_lead", "Support", ["U_DANA", "U_BOTH"]), ("finance", "", ["U_BOTH"]))
    pid = core.submit("U_REQ", "console", high_billing()).proposal_id
    reqs = requests_by_role(core, pid)
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    assert core.decide("U_BOTH", reqs["finance"].id, "approve").status == "recorded"
    refused = core.decide("U_BOTH", reqs["department_lead"].id, "approve")
    assert refused.notice == (
        "Not recorded: you already decided the finance request on this proposal and one person decides "
        "at most one, so another department lead decides."
    )
    assert refused.card.buttons == ()


def test_what_fell_back_to_governance_is_decided_with_the_governance_request(core):
    pid = core.submit("U_REQ", "console", high_billing()).proposal_id  # no lead, no finance holder
    reqs = requests_by_role(core, pid)
    assert {r.role for r in reqs.values() if r.governance_fallback} == {"department_lead", "finance"}
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    outcome = core.decide(GOV, reqs["governance"].id, "approve")
    assert outcome.proposal_stage == "approved"  # every request approved; the billing stop condition holds
    approved = [(e.detail["role"], e.detail["with_request"]) for e in audit_events(core, pid, "decision.approve")]
    assert approved == [
        ("owner", None),
        ("governance", None),
        ("department_lead", reqs["governance"].id),
        ("finance", reqs["governance"].id),
    ]


def test_a_request_nobody_may_decide_waits_and_follows_the_directory(core):
    pid = core.submit(GOV, "console", high_billing(owner="U_OWNER")).proposal_id  # the one governance member
    waiting = requests_by_role(core, pid)["governance"]
    assert (waiting.approver, waiting.waiting) == ("", "no_eligible_holder")
    assert waiting.note == (
        "waiting: every governance member requested or owns this proposal; "
        "name someone else with `roles set governance <user>`"
    )
    assert _card_ids(core, GOV) == []
    core.set_role(GOV, "governance", "", [GOV, "UGOV2"])
    routed = requests_by_role(core, pid)["governance"]
    assert (routed.approver, routed.waiting) == ("UGOV2", None)


def test_import_routes_under_separation_of_duties(core):
    set_roles(core, ("department_lead", "Support", ["U_RITA"]))
    report = core.import_proposals("U_RITA", "console", [medium(owner="U_RITA")])
    pid = report["rows"][0]["proposal_id"]
    assert requests_by_role(core, pid)["department_lead"].approver == GOV


# --------------------------------------------------------------------------- quorum


@pytest.fixture
def quorum_core(database_url, clock, tmp_path_factory):
    policy = quorum_policy_file(tmp_path_factory.getbasetemp())
    settings = Settings(database_url=database_url, governance="UGOV", policy_file=str(policy), _env_file=None)
    core = build_core(settings, clock=clock)
    set_roles(core, ("governance", "", [GOV, "UGOV2"]), ("department_lead", "Support", ["U_LEAD"]))
    set_roles(core, ("finance", "", ["U_FIN"]))
    return core


def test_a_quorum_needs_approvals_by_distinct_holders(quorum_core):
    core = quorum_core
    pid = core.submit("U_REQ", "console", high_billing()).proposal_id
    reqs = requests_by_role(core, pid)
    assert reqs["governance"].quorum == 2
    for user, role in (("U_OWNER", "owner"), ("U_LEAD", "department_lead"), ("U_FIN", "finance")):
        core.decide(user, reqs[role].id, "approve")
    first = core.decide(GOV, reqs["governance"].id, "approve")
    assert first.notice == f"Approved: 1 of 2 governance approvals; #{pid} waits for more."
    assert first.card.buttons == ()  # counted: no second click for them
    assert core.decide(GOV, reqs["governance"].id, "approve").status == "duplicate"
    card = core.approval_card(reqs["governance"].id, "UGOV2")
    assert ("Quorum", "1 of 2 governance approvals") in [(s.title, s.text) for s in card.sections]
    assert core.decide("UGOV2", reqs["governance"].id, "approve").proposal_stage == "approved"
    status = core.status_data(pid)
    governance = next(a for a in status["approvals"] if a["role"] == "governance")
    assert (governance["status"], governance["approvals"], [d["actor"] for d in governance["decisions"]]) == (
        "approved",
        2,
        [GOV, "UGOV2"],
    )


def test_one_reject_rejects_a_quorum(quorum_core):
    core = quorum_core
    pid = core.submit("U_REQ", "console", high_billing()).proposal_id
    reqs = requests_by_role(core, pid)
    core.decide("U_OWNER", reqs["owner"].id, "approve")
    core.decide(GOV, reqs["governance"].id, "approve")
    core.decide("UGOV2", reqs["governance"].id, "reject", comment="no refunds without a cap")
    assert (requests_by_role(core, pid)["governance"].status, stage_of(core, pid)) == ("rejected", "rejected")
