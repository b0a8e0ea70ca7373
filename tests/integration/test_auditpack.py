"""The audit pack (`govbot audit-pack ID --format md|pdf`) for a proposal with a full
history: a revision, decisions (one by a delegate), an override, stage moves, value
check-ins, reminders and escalation. The PDF is read back with pypdf."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from bot.domain.errors import NotFound, UsageError
from tests.support.core_state import GOV
from tests.support.stages import OWNER, REQUESTER, pending_request, seed

REGULATORY = {
    "eu_ai_act": {
        "tier": "limited",
        "role": "deployer",
        "basis": ["Art. 50(1): people interact with the system"],
        "duties": ["Tell people they are talking to an AI system"],
    },
    "nist_ai_rmf": {
        "govern": {"evidenced": ["owner named"], "missing": []},
        "map": {"evidenced": ["current process"], "missing": ["use area"]},
        "measure": {"evidenced": ["value metric"], "missing": []},
        "manage": {"evidenced": [], "missing": ["rollback path"]},
    },
    "iso_42001": {"evidenced": ["A.3 roles"], "missing": ["A.5 impact assessment"]},
}


def _full_history(core, clock):
    p = seed(
        core,
        "in_review",
        risk="high",
        stops=("invisible_failure",),
        eu_tier="limited",
        title="Kundenservice-Entwürfe für Rückerstattungen",
        rollback_path=None,  # given in revision 2
    )
    now = clock.now()
    with core.uow() as uow:  # the requester edits after "changes requested": revision 2, re-classified
        row = uow.proposals.get(p.id)
        answers = {
            **row.answers,
            "review": "spot_check",
            "rollback_path": "switch off; agents write by hand",
            "use_area": "none",
        }
        row.revision = uow.proposals.add_revision(p.id, answers, REQUESTER, now)
        row.answers = answers
        uow.proposals.update(row)
        uow.classifications.add(
            p.id,
            row.revision,
            {
                "risk_level": "high",
                "reasons": ["actions include change_billing (from description: 'issues the refund')"],
                "stop_conditions": ["invisible_failure"],
                "readiness": {"score": 5, "max": 6, "missing": ["escalation_path"], "ready_to_scale": False},
                "approver_roles": ["governance", "owner", "security"],
                "rollout": {"risk_level": "high", "owner": OWNER, "rollback_path": "switch off; agents write by hand"},
                "effective": {"data": ["customer"], "actions": ["change_billing", "draft"]},
                "regulatory": REGULATORY,
            },
            now,
        )
        uow.commit()
    owner_req = pending_request(core, p.id, OWNER, role="owner")
    sec_req = pending_request(core, p.id, "USEC", role="security")
    gov_req = pending_request(core, p.id, GOV, role="governance")
    clock.advance(hours=49)
    core.run_due(clock.now())  # reminders
    core.decide(OWNER, owner_req.id, "approve", comment="I own the outcome")
    core.delegate("USEC", "UDEP", date(2026, 12, 31))
    core.decide("UDEP", sec_req.id, "approve")
    core.decide(GOV, gov_req.id, "approve")
    core.override_stop(GOV, p.id, "invisible_failure", "agents sample 10% of drafts daily")
    core.record_checkin(OWNER, p.id, "2", note="baseline 3")
    clock.advance(days=7)
    core.record_checkin(OWNER, p.id, "0.5")
    core.transition(GOV, p.id, "promote", reason="escalation path is in the support runbook")
    core.transition(GOV, p.id, "pause", reason="vendor incident")
    core.report_incident("UAGENT", p.id, "high", "Refund drafted in the wrong currency")
    core.resolve_incident(OWNER, 1, "Currency rule added to the prompt")
    core.report_incident("UAGENT", p.id, "low", "One draft quoted an old policy")
    return p, (owner_req, sec_req, gov_req)


def _stage_sequence(core, pid):
    with core.uow() as uow:
        return [e.action[6:] for e in uow.audit.for_proposal(pid) if e.action.startswith("stage.")]


def test_markdown_pack_covers_the_whole_history(core, clock):
    p, (owner_req, sec_req, _) = _full_history(core, clock)
    assert _stage_sequence(core, p.id) == ["approved", "pilot", "production", "paused"]
    md = core.audit_pack(p.id, "md").decode("utf-8")
    assert md.startswith(f"# Audit pack: #{p.id} Kundenservice-Entwürfe für Rückerstattungen")
    sections = re.findall(r"^## (.+)$", md, flags=re.M)
    assert sections == [
        "Answers (revision 2)",
        "Revisions",
        "Classification (revision 2, 2026-11-16T09:00:00Z)",
        "Regulatory mapping",
        "Stop conditions and overrides",
        "Approvals and decisions",
        "Lifecycle moves",
        "Value check-ins",
        "Incidents",
        "Similar workflows in other departments",
        "Full audit trail",
    ]
    # every revision, the second as a diff
    assert "### Revision 1 by UREQ" in md and "### Revision 2 by UREQ" in md
    assert "- review: every_output -> spot_check" in md
    assert "- rollback_path: — -> switch off; agents write by hand" in md
    # classification and its reasons
    assert "- actions include change_billing (from description: 'issues the refund')" in md
    assert "| Readiness | 5/6; missing: escalation_path; ready to scale: no |" in md
    # regulatory mapping
    assert "Tier: limited; role: deployer" in md
    assert "- Tell people they are talking to an AI system" in md
    assert "| manage | — | rollback path |" in md
    assert "| A.3 roles | A.5 impact assessment |" in md
    # approvals and decisions, with the delegate and reminders
    assert (
        f"| #{owner_req.id} round 1 | owner | UOWN | approved | approve by UOWN at 2026-11-18T10:00:00Z "
        "(I own the outcome) | asked 2026-11-16T09:00:00Z; reminded 2026-11-18T10:00:00Z |" in md
    )
    assert "approve by UDEP for USEC" in md
    # override with its reason
    assert "| invisible_failure | overridden | UGOV | agents sample 10% of drafts daily |" in md
    # lifecycle moves with who and why
    assert "| UGOV | production -> paused | pause | vendor incident |" in md
    assert "| UGOV | pilot -> production | promote |" in md
    assert "| UGOV | approved -> pilot | override | invisible_failure |" in md
    # value check-ins
    assert "| 2026-W47 | 2 | baseline 3 | UOWN |" in md
    assert "| 2026-W48 | 0.5 | — | UOWN |" in md
    # incidents: what happened and how it was resolved
    assert "2 reported, 1 open." in md
    assert (
        "| 1 | high | resolved | Refund drafted in the wrong currency | UAGENT, 2026-11-25T10:00:00Z | "
        "Currency rule added to the prompt (UOWN, 2026-11-25T10:00:00Z) |" in md
    )
    assert "| 2 | low | open | One draft quoted an old policy | UAGENT, 2026-11-25T10:00:00Z | — |" in md
    # the full trail
    for action in (
        "incident.reported",
        "incident.resolved",
        "approval.reminded",
        "decision.approve",
        "delegation.created",
        "stop_condition.overridden",
        "checkin.recorded",
        "stage.production",
        "stage.paused",
    ):
        assert action in md.split("## Full audit trail", 1)[1], action


def test_pdf_pack_reads_back_with_the_same_content(core, clock):
    p, _ = _full_history(core, clock)
    data = core.audit_pack(p.id, "pdf")
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert reader.metadata.title.startswith(f"Audit pack: #{p.id}")
    for expected in (
        f"Audit pack: #{p.id} Kundenservice-Entwürfe für Rückerstattungen",  # unicode survives (DejaVu)
        "Revision 2 by UREQ",
        "review: every_output -> spot_check",
        "actions include change_billing",
        "Tier: limited; role: deployer",
        "Tell people they are talking to an AI system",
        "A.5 impact assessment",
        "agents sample 10% of drafts daily",
        "approve by UDEP for USEC",
        "vendor incident",
        "baseline 3",
        "2026-W48",
        "stop_condition.overridden",
        "Refund drafted in the wrong currency",
        "Currency rule added to the prompt",
    ):
        assert expected in flat, expected


def test_pack_for_a_fresh_proposal_says_what_is_missing(core):
    p = seed(core, "in_review")
    md = core.audit_pack(p.id, "md").decode()
    assert "No regulatory mapping was recorded with the classification." in md
    assert "No approval was requested." in md
    assert "No lifecycle move recorded." in md
    assert "No check-in reported." in md
    assert "No incident reported." in md
    assert PdfReader(io.BytesIO(core.audit_pack(p.id, "pdf"))).pages


def test_pack_errors(core):
    with pytest.raises(NotFound):
        core.audit_pack(777, "md")
    p = seed(core, "pilot")
    with pytest.raises(UsageError) as err:
        core.audit_pack(p.id, "docx")
    assert err.value.message == "format: unknown 'docx'; allowed: md, pdf"


# --------------------------------------------------------------------------- through the real core


def _live(core, pid):
    with core.uow() as uow:
        return [r for r in uow.approvals.for_proposal(pid) if r.kind == "proposal" and r.status == "pending"]


def test_pack_after_a_real_submit_changes_resubmit_approve_override_and_promotion(core, clock):
    """The whole flow through `Govbot.submit` / `decide` and the real classifier."""
    from tests.support.proposals import make_proposal

    answers = make_proposal(
        title="Customer chat assistant",
        audience="customer",
        interacts_with_people=True,
        failure_visible=False,
        owner=OWNER,
    )
    first = core.submit(REQUESTER, "console", answers)
    pid = first.proposal_id
    lead = [r for r in _live(core, pid) if r.role == "department_lead"][0]
    core.decide(lead.approver, lead.id, "request_changes", comment="name a rollback owner")
    clock.advance(hours=2)
    core.submit(REQUESTER, "console", {**answers, "rollback_path": "Support lead switches it off"}, proposal_id=pid)
    for request in _live(core, pid):
        core.decide(request.approver, request.id, "approve")
    with core.uow() as uow:
        assert uow.proposals.get(pid).stage == "approved"  # invisible_failure blocks pilot
    core.override_stop(GOV, pid, "invisible_failure", "customers report errors through the chat")
    core.record_checkin(OWNER, pid, "0.5", note="31% of chats resolved without an agent")
    core.transition(OWNER, pid, "promote")

    md = core.audit_pack(pid, "md").decode()
    assert "### Revision 2 by UREQ" in md
    assert "- rollback_path: Switch the job off; the manual process still works. -> Support lead switches it off" in md
    assert "request_changes by" in md and "name a rollback owner" in md
    assert "Tier: limited; role: deployer" in md
    assert "Transparency: tell people they are interacting with an AI system" in md
    assert "| measure | control_points, value_metric | failure_visibility |" in md
    assert "| invisible_failure | overridden | UGOV | customers report errors through the chat |" in md
    assert "| UOWN | pilot -> production | promote |" in md
    assert "31% of chats resolved without an agent" in md

    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(core.audit_pack(pid, "pdf"))).pages).split()
    )
    for expected in (
        "Revision 2 by UREQ",
        "name a rollback owner",
        "Tier: limited",
        "failure_visibility",
        "customers report errors through the chat",
        "31% of chats resolved",
    ):
        assert expected in text, expected
