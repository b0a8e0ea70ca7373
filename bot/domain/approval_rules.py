"""Approval rules: decision statuses, routes, which request is current or released, who has authority."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import duties
from bot.domain.records import ApprovalRequestRow, ProposalRow

DECISION_STATUS = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}


ACTIVE = ("pending", "approved", "rejected", "changes_requested")


ROUTED_TO_GOVERNANCE = "routed to governance"  # how a fallback route's note ends (for people to read)


class NoGovernance(Exception):
    """Nobody holds governance, so unassigned roles have nowhere to go."""


@dataclass(frozen=True)
class Route:
    role: str
    department: str | None
    approver: str
    note: str | None = None
    governance_fallback: bool = False  # nobody (else) may decide as the role: governance decides
    quorum: int = 1  # approvals by distinct holders it needs
    waiting: str | None = None  # nobody may decide it yet (bot.domain.duties.WAITING_NO_ELIGIBLE); approver ""


def route_key(role: str, department: str | None, approver: str) -> tuple[str, str, str]:
    """What makes two requests "the same" across resubmissions: the role, and its
    department (department lead) or person (owner)."""
    if role == "department_lead":
        return (role, (department or "").casefold(), "")
    if role == "owner":
        return (role, "", approver)
    return (role, "", "")


def current(requests: Sequence[ApprovalRequestRow], kind: str = "proposal") -> list[ApprovalRequestRow]:
    """The live requests of a kind (everything not superseded)."""
    return [r for r in requests if r.kind == kind and r.status != "superseded"]


def released(request: ApprovalRequestRow, siblings: Sequence[ApprovalRequestRow]) -> bool:
    """True when it is this request's turn (owner-first: the earlier sequence approved)."""
    if request.sequence == 0:
        return True
    return all(
        s.status == "approved"
        for s in siblings
        if s.kind == request.kind and s.status != "superseded" and s.sequence < request.sequence and s.id != request.id
    )


def delegating(request: ApprovalRequestRow, people: Sequence[str]) -> list[str]:
    """Whose active delegates may decide: every holder, but only the routed approver
    for what went to governance (the other members may decide it themselves), and
    only while they still hold it (`people` are the current holders)."""
    if routed_to_governance(request):
        return [request.approver] if request.approver in people else []
    return list(people)


@dataclass(frozen=True)
class Authority:
    ok: bool
    on_behalf_of: str | None = None
    via: str = ""  # approver | holder | delegate | governance | governance_peer
    reason: str = ""  # why refused
    needs_reason: bool = False  # refused only for want of a written governance reason
    duty: bool = False  # refused by separation of duties


COMMENT_REQUIRED = frozenset({"reject", "request_changes"})


def comment_required(decision: str) -> bool:
    """Rejecting and requesting changes need a comment the requester can act on."""
    return decision in COMMENT_REQUIRED


def missing_comment(decision: str, comment: str | None) -> str | None:
    """Why `comment` will not do for `decision` (None when it will)."""
    if not comment_required(decision) or (comment or "").strip():
        return None
    if decision == "reject":
        return "comment: say why; a comment is required when rejecting (the requester sees it)"
    return "comment: say what must change; a comment is required when requesting changes (the requester sees it)"


def routed_to_governance(request: ApprovalRequestRow) -> bool:
    """The request went to governance as a role, or as the fallback for a missing one."""
    return request.role == "governance" or request.governance_fallback


def seat(request: ApprovalRequestRow) -> duties.Seat:
    """The request as separation of duties sees it."""
    return duties.Seat(request.id, request.role, request.kind, routed_to_governance(request))


def may_be_asked(proposal: ProposalRow, request: ApprovalRequestRow, user: str) -> bool:
    """Whether separation of duties lets `user` decide `request` at all, before anyone
    decided (cards and `mine` skip the people it never lets)."""
    requester = request.requested_by if request.kind == "autonomy" else proposal.requester
    owner = proposal.owner if request.kind == "proposal" else None
    return duties.excluded(user, seat(request), requester=requester, owner=owner) is None
