"""Proposals and helpers shared by the service and approval tests (not a test module)."""

from __future__ import annotations

from typing import Any

from bot.messages.message import APPROVE, Message


def proposal(**overrides: Any) -> dict[str, Any]:
    """A complete, low-risk proposal: internal summaries with an owner and a metric."""
    base: dict[str, Any] = {
        "title": "Summarise weekly support themes",
        "department": "Support",
        "description": "Summarise the week's internal support notes into themes for the team lead.",
        "current_process": "A lead reads every note on Friday and writes a summary by hand.",
        "expected_output": "A one-page internal summary of themes.",
        "data": ["internal"],
        "actions": ["summarize"],
        "audience": "internal",
        "owner": "U_OWNER",
        "review": "every_output",
        "autonomy": "draft_only",
        "exception_path": "The lead drops the summary and writes it by hand.",
        "escalation_path": "The lead escalates to the support manager.",
        "control_points": "The lead reads every summary before it is shared.",
        "rollback_path": "Switch the job off; the manual process still works.",
        "value_metric": "Hours spent on the weekly summary, from 3 to 0.5",
        "failure_visible": True,
        "stack": "processes",
        "capacity": "incremental",
    }
    base.update(overrides)
    return base


def medium(**overrides: Any) -> dict[str, Any]:
    """Medium risk (team audience), no stop condition: owner + department lead."""
    return proposal(audience="team", **overrides)


def high_billing(**overrides: Any) -> dict[str, Any]:
    """High risk with a stop condition: issues refunds (change_billing)."""
    return proposal(
        title="Refund agent",
        description="The agent issues the refund to the customer's card.",
        data=["customer", "financial"],
        actions=["change_billing", "draft"],
        audience="customer",
        **overrides,
    )


def requests_by_role(core: Any, proposal_id: int) -> dict[str, Any]:
    """Live (not superseded) proposal requests keyed by role."""
    with core.uow() as uow:
        rows = uow.approvals.for_proposal(proposal_id)
    return {r.role: r for r in rows if r.kind == "proposal" and r.status != "superseded"}


def stage(core: Any, proposal_id: int) -> str:
    with core.uow() as uow:
        return uow.proposals.get(proposal_id).stage


def audit_actions(core: Any, proposal_id: int | None) -> list[str]:
    with core.uow() as uow:
        if proposal_id is None:
            return [e.action for e in reversed(uow.audit.recent(500))]
        return [e.action for e in uow.audit.for_proposal(proposal_id)]


def outbox_for(core: Any, recipient: str) -> list[Any]:
    with core.uow() as uow:
        return list(reversed(uow.outbox.for_recipient(recipient, limit=500)))  # oldest first


def messages_for(core: Any, recipient: str) -> list[Message]:
    return [Message.from_json(r.payload) for r in outbox_for(core, recipient)]


def approve_buttons(messages: list[Message]) -> list[int]:
    return [int(b.value) for m in messages for b in m.buttons if b.action == APPROVE]


def set_roles(core: Any, *entries: tuple[str, str, list[str]]) -> None:
    for role, dept, users in entries:
        core.set_role("UGOV", role, dept, users)
