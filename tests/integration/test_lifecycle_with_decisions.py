"""Lifecycle features together with the core's decisions and chat commands: autonomy
steps applied by `Govbot.decide`, delegation honoured, escalated requests decided by
governance from the escalation buttons, and the lifecycle chat commands."""

from __future__ import annotations

from datetime import date

from tests.support.core_state import GOV, audit_events, outbox_for, stage_of
from tests.support.stages import OWNER, REQUESTER, pending_request, seed


def _autonomy(core, pid):
    with core.uow() as uow:
        row = uow.proposals.get(pid)
        requests = [r for r in uow.approvals.for_proposal(pid) if r.kind == "autonomy"]
    return row.autonomy, requests


def test_autonomy_step_applies_once_the_department_lead_and_governance_approve(core):
    core.set_role(GOV, "department_lead", "Support", ["U_LEAD"])
    p = seed(core, "pilot", risk="high", autonomy="draft_only")
    core.request_autonomy_step(OWNER, p.id)
    _, requests = _autonomy(core, p.id)
    by_role = {r.role: r for r in requests}
    assert core.decide(OWNER, by_role["department_lead"].id, "approve").status == "refused"  # their own step
    out = core.decide("U_LEAD", by_role["department_lead"].id, "approve")
    assert out.status == "recorded"
    assert _autonomy(core, p.id)[0] == "draft_only"  # governance still to approve
    core.decide(GOV, by_role["governance"].id, "approve")
    level, _ = _autonomy(core, p.id)
    assert level == "human_approves"
    assert audit_events(core, p.id, "autonomy.changed")[0].detail["to"] == "human_approves"

    # the next step starts from the new level
    core.request_autonomy_step(OWNER, p.id)
    _, requests = _autonomy(core, p.id)
    assert sorted(r.target for r in requests if r.status == "pending") == ["human_monitors", "human_monitors"]


def test_one_governance_decision_stands_in_for_the_missing_department_lead(core):
    p = seed(core, "production", risk="high", autonomy="human_approves")  # nobody leads Support
    core.request_autonomy_step(OWNER, p.id)
    first = {r.role: r for r in _autonomy(core, p.id)[1]}
    assert (first["department_lead"].approver, first["department_lead"].governance_fallback) == (GOV, True)
    core.decide(GOV, first["governance"].id, "reject", comment="not before the incident review")
    assert _autonomy(core, p.id)[0] == "human_approves"
    with core.uow() as uow:
        assert uow.approvals.get(first["department_lead"].id).status == "rejected"

    core.request_autonomy_step(OWNER, p.id)
    level, requests = _autonomy(core, p.id)
    fresh = {r.role: r for r in requests if r.status == "pending"}
    assert set(fresh) == {"department_lead", "governance"}
    assert {r.id for r in requests if r.status == "superseded"} == {first["department_lead"].id, first["governance"].id}
    core.decide(GOV, fresh["governance"].id, "approve")  # one decision, recorded for both roles
    assert _autonomy(core, p.id)[0] == "human_monitors"
    decided = [e.detail for e in audit_events(core, p.id, "decision.approve")]
    assert [(d["request_id"], d["with_request"]) for d in decided] == [
        (fresh["governance"].id, None),
        (fresh["department_lead"].id, fresh["governance"].id),
    ]


def test_delegate_decides_for_the_approver_who_is_told(core):
    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    refused = core.decide("UDEP", req.id, "approve")
    assert refused.status == "refused"

    core.delegate("USEC", "UDEP", date(2026, 11, 30))
    out = core.decide("UDEP", req.id, "approve", comment="covering for USEC")
    assert out.status == "recorded"
    with core.uow() as uow:
        decision = uow.decisions.for_request(req.id)
    assert (decision.actor, decision.on_behalf_of) == ("UDEP", "USEC")
    assert [r.kind for r in outbox_for(core, "USEC")] == ["approval_decided", "decision_on_your_behalf"]
    assert [line for line in core.audit_lines(p.id) if "delegation" in line] == [
        "2026-11-16T09:00:00Z  USEC  delegation.created  delegate=UDEP delegation_id=1 "
        "ends_at=2026-12-01T00:00:00+00:00 request_id=1"
    ]


def test_delegation_ends_on_time(core, clock):
    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    core.delegate("USEC", "UDEP", date(2026, 11, 17))
    clock.advance(days=2)  # 2026-11-18: the delegation ended at the end of the 17th
    assert core.decide("UDEP", req.id, "approve").status == "refused"


def test_governance_decides_an_escalated_request_from_the_buttons(core, clock):
    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    assert core.decide(GOV, req.id, "approve").status == "refused"  # not escalated: needs a written reason
    clock.advance(days=5, hours=1)
    core.run_due(clock.now())
    out = core.decide(GOV, req.id, "approve")
    assert out.status == "recorded"
    with core.uow() as uow:
        decision = uow.decisions.for_request(req.id)
    assert (decision.actor, decision.on_behalf_of) == (GOV, "USEC")


def test_lifecycle_chat_commands(core):
    p = seed(core, "pilot", use_area="none")
    reply = core.handle_command(OWNER, "console", f"pause {p.id}")
    assert stage_of(core, p.id) == "paused"
    assert "paused" in reply.message.text
    core.handle_command(OWNER, "console", f"resume {p.id}")
    assert stage_of(core, p.id) == "pilot"

    reply = core.handle_command(OWNER, "console", f"promote {p.id}")
    assert stage_of(core, p.id) == "pilot"
    assert "cannot go to production yet" in reply.message.plain_text()

    reply = core.handle_command(OWNER, "console", f"checkin {p.id} 9min per ticket")
    assert reply.message.plain_text().startswith("value: '9min' is not a number")
    core.handle_command(OWNER, "console", f"checkin {p.id} 0.4 per ticket")
    reply = core.handle_command(OWNER, "console", f"promote {p.id}")
    assert stage_of(core, p.id) == "production"

    q = seed(core, "pilot", use_area="none")
    reply = core.handle_command(GOV, "console", f"promote {q.id} board wants it live before the audit")
    assert reply.message.plain_text().startswith("promote: unexpected 'board wants it live before the audit'")
    core.handle_command(GOV, "console", f"promote {q.id} --override board wants it live before the audit")
    assert stage_of(core, q.id) == "production"
    assert (
        audit_events(core, q.id, "stage.production")[0].detail["override_reason"]
        == "board wants it live before the audit"
    )

    r = seed(core, "approved", stops=("invisible_failure",))
    core.handle_command(GOV, "console", f"override {r.id} invisible_failure sampled every morning")
    assert stage_of(core, r.id) == "pilot"
    reply = core.handle_command(REQUESTER, "console", f"retire {r.id}")
    assert stage_of(core, r.id) == "pilot"
    assert (
        reply.message.plain_text()
        == f'Only the workflow owner or governance may retire #{r.id} "Refund triage assistant".'
    )

    reply = core.handle_command(OWNER, "console", "delegate <@UDEP> 2026-12-01")
    assert reply.message.text == "<@UDEP> may decide your approvals from 2026-11-16 09:00 to 2026-12-02 00:00 UTC."
    reply = core.handle_command(OWNER, "console", f"autonomy {p.id}")
    assert "human_approves" in reply.message.text
