"""Vendors and models (ISO/IEC 42001 A.10, the portfolio per vendor) and hand-offs to
downstream departments (their leads approve; the portfolio lists who never signed off)."""

from __future__ import annotations

import json

import pytest

from bot.domain.proposal import ProposalInvalid
from tests.support.core_state import requests_by_role, set_roles
from tests.support.proposals import make_proposal as proposal


def _vendor(core, vendor, title, department="Support", **extra):
    return core.submit("U_REQ", "slack", proposal(title=title, department=department, vendor=vendor, **extra))


def test_vendor_and_model_are_stored_and_shown_in_status(core):
    pid = _vendor(core, "OpenAI", "Ticket tagging", model="gpt-4.1").proposal_id
    p = core.status_data(pid)["proposal"]
    assert (p["vendor"], p["model"]) == ("OpenAI", "gpt-4.1")
    assert "AI vendor: OpenAI / gpt-4.1" in core.status(pid).plain_text()


def test_a_named_vendor_evidences_iso_42001_a10(core):
    named = _vendor(core, "Anthropic", "Contract summaries").classification["regulatory"]["iso_42001"]
    unnamed = _vendor(core, None, "Survey themes").classification["regulatory"]["iso_42001"]
    assert ("A.10" in named["evidenced"], "A.10" in unnamed["missing"]) == (True, True)


def test_vendor_model_downstream_and_similar_are_in_the_export(core):
    pid = _vendor(core, "OpenAI", "Ticket tagging", model="gpt-4o", downstream=["Finance"]).proposal_id
    [record] = json.loads(core.export("json"))["proposals"]
    assert (record["id"], record["vendor"], record["model"], record["downstream"], record["similar"]) == (
        pid,
        "OpenAI",
        "gpt-4o",
        ["Finance"],
        [],
    )
    header, row = core.export("csv").strip().split("\n")
    values = dict(zip(header.split(","), row.split(","), strict=False))
    assert (values["vendor"], values["model"], values["downstream"]) == ("OpenAI", "gpt-4o", "Finance")


def test_the_audit_pack_names_vendor_model_and_hand_offs(core):
    pid = _vendor(core, "Mistral", "Ticket tagging", model="mistral-large", downstream=["Legal"]).proposal_id
    md = core.audit_pack(pid, "md").decode()
    assert ("| AI vendor | Mistral |" in md, "| Model | mistral-large |" in md, "| Hands work to | Legal |" in md) == (
        True,
        True,
        True,
    )


def test_the_portfolio_counts_live_workflows_per_vendor(core):
    _vendor(core, "OpenAI", "Ticket tagging")
    _vendor(core, "openai", "Invoice capture", department="Finance")
    _vendor(core, "Anthropic", "Contract review", department="Legal")
    _vendor(core, None, "Shift rota planning", department="Operations")
    rejected = _vendor(core, "Anthropic", "Lead scoring", department="Sales").proposal_id
    core.decide("U_OWNER", requests_by_role(core, rejected)["owner"].id, "reject", comment="no")
    assert core.portfolio_data()["by_vendor"] == {
        "total": 2,
        "items": [{"vendor": "OpenAI", "count": 2}, {"vendor": "Anthropic", "count": 1}],
        "unnamed": 1,
    }


def test_each_downstream_department_lead_is_routed_as_an_approver(core):
    set_roles(core, ("department_lead", "Finance", ["U_FINLEAD"]))
    pid = _vendor(core, None, "Refund summaries", downstream=["Finance", "Legal", "support"]).proposal_id
    with core.uow() as uow:
        leads = sorted(
            (r.department, r.approver, r.note)
            for r in uow.approvals.for_proposal(pid)
            if r.role == "department_lead" and r.department != "Support"  # the own department: by risk only
        )
    assert leads == [
        ("Finance", "U_FINLEAD", "Finance receives its output"),
        (
            "Legal",
            "UGOV",
            "Legal receives its output, but no department_lead is assigned for Legal; routed to governance",
        ),
    ]


def test_downstream_must_be_a_list_of_names(core):
    with pytest.raises(ProposalInvalid) as err:
        core.submit("U_REQ", "slack", proposal(downstream="Finance"))
    assert [str(e) for e in err.value.errors] == [
        'downstream: must be a list of department names, e.g. ["Finance", "Legal"]'
    ]


def test_the_portfolio_lists_hand_offs_to_departments_that_never_signed_off(core):
    set_roles(core, ("department_lead", "Finance", ["U_FINLEAD"]))
    signed = _vendor(core, None, "Refund summaries", downstream=["Finance"]).proposal_id
    unsigned = _vendor(core, None, "Claim drafting", department="Claims", downstream=["Finance"]).proposal_id
    [finance] = [r for r in requests_by_role(core, signed).values() if r.department == "Finance"]
    core.decide("U_FINLEAD", finance.id, "approve")
    hand = core.portfolio_data()["handoffs"]
    assert (hand["count"], [(h["id"], h["to"]) for h in hand["items"]]) == (1, [(unsigned, "Finance")])


def test_imported_workflows_handing_work_on_are_listed_too(core):
    rows = [proposal(title="Legacy invoice bot", department="Finance", downstream=["Procurement"])]
    report = core.import_proposals("UGOV", "import", rows)
    [row] = report["rows"]
    hand = core.portfolio_data()["handoffs"]
    assert [(h["id"], h["to"]) for h in hand["items"]] == [(row["proposal_id"], "Procurement")]
