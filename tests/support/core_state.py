"""Set up and read back what the core stored, for tests that drive the real core:
roles, approval requests, stages, the audit trail, decisions and the outbox."""

from __future__ import annotations

from typing import Any

from bot.messages.message import APPROVE, Message

GOV = "UGOV"  # GOVBOT_GOVERNANCE of the `settings` fixture


def set_roles(core: Any, *entries: tuple[str, str, list[str]]) -> None:
    """Name role holders as governance: `(role, department, [users])` each."""
    for role, dept, users in entries:
        core.set_role(GOV, role, dept, users)


def requests_by_role(core: Any, proposal_id: int) -> dict[str, Any]:
    """Live (not superseded) proposal requests keyed by role."""
    with core.uow() as uow:
        rows = uow.approvals.for_proposal(proposal_id)
    return {r.role: r for r in rows if r.kind == "proposal" and r.status != "superseded"}


def stage_of(core: Any, proposal_id: int) -> str:
    with core.uow() as uow:
        return uow.proposals.get(proposal_id).stage


def audit_actions(core: Any, proposal_id: int | None) -> list[str]:
    """The audit actions about a proposal (or, with None, the whole log), oldest first."""
    with core.uow() as uow:
        if proposal_id is None:
            return [e.action for e in reversed(uow.audit.recent(500))]
        return [e.action for e in uow.audit.for_proposal(proposal_id)]


def audit_events(core: Any, proposal_id: int, action: str) -> list[Any]:
    """The audit events of one action about a proposal, oldest first."""
    with core.uow() as uow:
        return [e for e in uow.audit.for_proposal(proposal_id) if e.action == action]


def decisions(core: Any, proposal_id: int) -> list[tuple[str, str]]:
    """(actor, decision) of every decision stored for the proposal."""
    with core.uow() as uow:
        return [(d.actor, d.decision) for d in uow.decisions.for_proposal(proposal_id)]


def outbox_for(core: Any, recipient: str) -> list[Any]:
    """The recipient's outbox rows, oldest first."""
    with core.uow() as uow:
        return list(reversed(uow.outbox.for_recipient(recipient, limit=500)))


def messages_for(core: Any, recipient: str) -> list[Message]:
    return [Message.from_json(r.payload) for r in outbox_for(core, recipient)]


def approve_buttons(messages: list[Message]) -> list[int]:
    return [int(b.value) for m in messages for b in m.buttons if b.action == APPROVE]
