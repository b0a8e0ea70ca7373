"""Readable outputs on the real store: sprawl facts say how many each department holds,
and the audit-pack PDF has a title page, page numbers and whole timestamps."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from bot.messages.message import plain
from bot.messages.portfolio import sprawl_line
from tests.support.core_state import set_roles
from tests.support.proposals import high_billing, make_proposal


def test_sprawl_facts_count_each_departments_proposals(core):
    for title, department in [
        ("Summarise invoices", "Finance"),
        ("Summarise the invoices", "Finance"),
        ("Invoices summarised", "Finance"),
        ("Summarise invoices", "Sales"),
    ]:
        core.submit("U1", "console", make_proposal(title=title, department=department))
    (group,) = core.portfolio_data()["sprawl"]["groups"]
    assert [p["department"] for p in group["proposals"]] == ["Finance", "Sales", "Finance", "Finance"]
    assert plain(sprawl_line(group)) == (
        "4 proposals in 2 departments — Finance 3 (e.g. #1 Summarise invoices), Sales 1 (#4 Summarise invoices) — "
        "both are about summarise, invoices, internal and support"
    )


def pdf_pages(core) -> list[str]:
    set_roles(core, ("department_lead", "Support", ["U_DANA"]), ("finance", "", ["U_FIONA"]))
    result = core.submit("U1", "console", high_billing())
    for request in core.status_data(result.proposal_id)["approvals"]:
        core.decide(request["approver"], request["id"], "approve")
    reader = PdfReader(io.BytesIO(core.audit_pack(result.proposal_id, "pdf")))
    return [page.extract_text() for page in reader.pages]


def test_the_pdf_has_a_title_page_with_contents(core):
    first, second, *_ = pdf_pages(core)
    assert first.startswith("Audit pack: #1 Refund agent")
    assert "Contents" in first and "- Approvals and decisions" in first
    assert "Key Answer" not in first and "Answers (revision 1)\nKey Answer" in second  # the body starts on page 2


def test_every_pdf_page_is_numbered(core):
    pages = pdf_pages(core)
    assert [page.strip().splitlines()[-1] for page in pages] == [
        f"Page {n} of {len(pages)}" for n in range(1, len(pages) + 1)
    ]


def test_pdf_timestamps_are_never_broken_across_lines(core):
    text = "\n".join(pdf_pages(core))
    assert re.findall(r"\d{4}-\d\d-\d\dT[\d:]*\n", text) == []
    assert "2026-11-16T09:00:00Z" in text
