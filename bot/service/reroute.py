"""When a role changes hands (`roles set`), its pending requests follow the directory.

A pending request whose routed approver no longer holds the role is closed (its cards
lose their buttons, saying why) and opened again for the role's current holders; the
fallback of DESIGN.md "Gates" applies when none of them may decide it: another holder,
else governance, else the request waits with a note naming what is missing. A request
that fell back to governance because nobody held the role goes to the new holders.
A request whose approver still holds the role stays as it is: the new holders find
it in `mine` (no stray card), the former holders' copies lose their buttons. Everything happens in the
caller's unit of work (it commits), audited, with the cards sent through the events
and the outbox (`bot.service.publish`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.approval_rules import ROUTED_TO_GOVERNANCE, Route, released, routed_to_governance
from bot.domain.duties import WAITING_NO_ELIGIBLE, routing_excluded
from bot.domain.events import Event, RequestReleased
from bot.domain.records import ApprovalRequestRow, ProposalRow
from bot.domain.roles import PER_DEPARTMENT
from bot.messages import compose
from bot.ports import UnitOfWork
from bot.service.approvals import supersede
from bot.service.notify import card_key, send
from bot.service.publish import publish
from bot.service.roles import governance_members, holders, role_holders
from bot.settings import Settings


def reroute(
    uow: UnitOfWork,
    settings: Settings,
    role: str,
    department: str,
    before: list[str],
    actor: str,
    now: datetime,
) -> list[int]:
    """Make the pending requests of (role, department) follow its new holders; returns
    the ids of the requests re-routed or left waiting."""
    removed = [u for u in before if u not in role_holders_now(uow, role, department)]
    touched: list[int] = []
    wanted = department.strip().casefold()
    for request in uow.approvals.pending_in_roles([role], governance_fallback=role == "governance"):
        if role in PER_DEPARTMENT and (request.department or "").strip().casefold() != wanted:
            continue
        if request.role == "owner" and not request.governance_fallback:
            continue  # the owner is named on the proposal, not in the directory
        proposal = uow.proposals.get(request.proposal_id, for_update=True)
        request = uow.approvals.get(request.id, for_update=True)
        if request.status != "pending":
            continue
        if _follow(uow, settings, proposal, request, role, removed, actor, now):
            touched.append(request.id)
    return touched


def role_holders_now(uow: UnitOfWork, role: str, department: str) -> list[str]:
    if role == "governance":
        return governance_members(uow)
    return list(uow.roles.holders(role, department))


def _follow(
    uow: UnitOfWork,
    settings: Settings,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    role: str,
    removed: Sequence[str],
    actor: str,
    now: datetime,
) -> bool:
    """Re-route one pending request, or refresh its copies; True when it was re-routed
    or left waiting."""
    _close_copies(uow, settings, proposal, request, removed, role, now)
    fell_back = request.governance_fallback and role != "governance"
    if fell_back:
        eligible = [u for u in holders(uow, request.role, request.department) if u not in _excluded(proposal, request)]
        if not eligible:
            return False  # still nobody else: it stays with governance
        route = Route(request.role, request.department, eligible[0])
    else:
        current = role_holders(uow, request)
        if request.approver in current:
            return False  # new holders find it in `mine` and may decide it; no stray card
        route_or_note = _new_route(uow, proposal, request, current, role)
        if isinstance(route_or_note, str):
            request.note = route_or_note
            request.waiting = WAITING_NO_ELIGIBLE
            uow.approvals.update(request)
            uow.audit.add(
                proposal.id,
                actor,
                "approval.waiting",
                {
                    "request_id": request.id,
                    "role": request.role,
                    "department": request.department,
                    "from": request.approver,
                    "note": route_or_note,
                },
                now,
            )
            return True
        route = route_or_note
    why = f"{_role_label(request)} changed hands; re-routed to {compose.mention(route.approver)}"
    events: list[Event] = [*supersede(uow, [request], why, now)]
    (opened,) = uow.approvals.add_many(
        [
            ApprovalRequestRow(
                id=0,
                proposal_id=proposal.id,
                role=route.role,
                department=route.department,
                approver=route.approver,
                kind=request.kind,
                target=request.target,
                round=request.round,
                status="pending",
                note=route.note,
                created_at=now,
                sequence=request.sequence,
                governance_fallback=route.governance_fallback,
                quorum=request.quorum,
                requested_by=request.requested_by,
            )
        ]
    )
    uow.audit.add(
        proposal.id,
        actor,
        "approval.rerouted",
        {
            "request_id": request.id,
            "new_request_id": opened.id,
            "role": request.role,
            "department": request.department,
            "from": request.approver,
            "to": route.approver,
            "governance_fallback": route.governance_fallback,
        },
        now,
    )
    if _is_released(uow, opened):
        events.append(RequestReleased(opened))
    publish(uow, settings, proposal, events, now)
    return True


def _new_route(
    uow: UnitOfWork, proposal: ProposalRow, request: ApprovalRequestRow, current: list[str], role: str
) -> Route | str:
    """Another holder, else governance, else a note saying what is missing (str)."""
    excluded = _excluded(proposal, request)
    eligible = [u for u in current if u not in excluded]
    if eligible:
        note = request.note
        if request.waiting:  # it waited for someone who may decide: now it is routed
            note = (
                f"nobody else may decide {_role_label(request)}; {ROUTED_TO_GOVERNANCE}"
                if request.governance_fallback
                else None
            )
        return Route(request.role, request.department, eligible[0], note, request.governance_fallback)
    label = _role_label(request)
    governance = [u for u in governance_members(uow) if u not in excluded]
    if governance and not routed_to_governance(request):
        why = f"nobody else holds {label}" if current else f"nobody holds {label}"
        return Route(request.role, request.department, governance[0], f"{why}; {ROUTED_TO_GOVERNANCE}", True)
    return (
        f"waiting: nobody who may decide holds {label}; "
        f"name a holder with `roles set {role}{' ' + (request.department or '') if role in PER_DEPARTMENT else ''} <user>`"
    )


def _close_copies(
    uow: UnitOfWork,
    settings: Settings,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    removed: Sequence[str],
    role: str,
    now: datetime,
) -> None:
    """Former holders' copies of the card lose their buttons (the routed approver's
    copy closes with the request when it is re-routed)."""
    pending: set[str] | None = None
    for user in removed:
        if user == request.approver:
            continue
        key = card_key(request, user)
        if uow.message_refs.get(key) is None:
            if pending is None:
                pending = {row.ref_key for row in uow.outbox.pending_for_proposal(proposal.id) if row.ref_key}
            if key not in pending:
                continue
        card = compose.closed_card(proposal, request, f"you no longer hold {role}")
        stamp = now.isoformat()
        send(
            uow,
            settings,
            proposal,
            user,
            card,
            now,
            ref_key=key,
            update_key=key,
            dedupe_key=f"approval:{request.id}:holder:{user}:unheld:{stamp}",
        )


def _excluded(proposal: ProposalRow, request: ApprovalRequestRow) -> frozenset[str]:
    """Who separation of duties keeps from being routed the request."""
    if request.kind == "autonomy":
        return frozenset(u for u in (request.requested_by,) if u)
    return routing_excluded(request.role, requester=proposal.requester, owner=proposal.owner)


def _is_released(uow: UnitOfWork, request: ApprovalRequestRow) -> bool:
    return released(request, uow.approvals.for_proposal(request.proposal_id))


def _role_label(request: ApprovalRequestRow) -> str:
    return request.role + (
        f" for {request.department}" if request.role in PER_DEPARTMENT and request.department else ""
    )
