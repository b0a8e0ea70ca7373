"""Reopening approvals when a running or reviewed proposal's verdict changes, shared by
reassessment (`reassess`), policy apply (`policy_versions`) and `assess <id>` (`assess`).

Two ways, both in the caller's unit of work:

- `reopen_all`: the answers changed the risk level, so every live request is
  superseded (the old cards lose their buttons) and every role the new verdict needs
  is asked again from the start, in review.
- `ask_missing_roles`: the verdict needs roles that were never asked (pending or
  approved); only they are asked, and an approved or running workflow goes back to
  review until they decide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.approval_rules import NoGovernance, current, released
from bot.domain.records import ApprovalRequestRow, ClassificationRow, ProposalRow, StoredVerdict
from bot.ports import UnitOfWork
from bot.service import approvals, notify
from bot.service.publish import publish
from bot.settings import Settings

ASK_IN = ("in_review", "approved", "pilot", "production", "paused")  # stages where new roles are asked now
REOPEN_FROM = ("approved", "pilot", "production")  # these go back to review for the new roles


def reopen_all(
    uow: UnitOfWork,
    settings: Settings,
    row: ProposalRow,
    result: dict[str, Any],
    actor: str,
    now: datetime,
    *,
    why: str,
    round: int,
    **detail: Any,
) -> list[ApprovalRequestRow]:
    """Supersede every live request of `row` and ask every role `result` needs again;
    the proposal moves to review (`why` is the reason on the closed cards and the move)."""
    live = current(uow.approvals.for_proposal(row.id))
    closed = approvals.supersede(uow, live, f"#{row.id} {why}", now)
    publish(uow, settings, row, closed, now, classification=result)  # the old cards lose their buttons
    routes = approvals.plan_routes(uow, settings, result.get("approver_roles") or [], row.answers)
    routes = approvals.separate(
        uow, routes, requester=row.requester, owner=row.owner, quorum=result.get("approver_quorum")
    )
    opened = approvals.open_requests(uow, row, routes, round=round, now=now, owner_first=settings.owner_first)
    if row.stage != "in_review":
        approvals.move(uow, row, "in_review", actor, now, reason=why, **detail)
    for r in opened:
        if released(r, opened):
            notify.queue_request(uow, settings, row, r, result, now)
    return opened


def ask_missing_roles(
    uow: UnitOfWork,
    settings: Settings,
    row: ProposalRow,
    result: dict[str, Any],
    actor: str,
    now: datetime,
    *,
    why: str,
    request_detail: dict[str, Any] | None = None,
    **detail: Any,
) -> tuple[list[ApprovalRequestRow], str | None]:
    """Ask the roles `result` needs that were never asked, when `row` is in a stage
    that asks them now; an approved or running workflow goes back to review. Returns
    the requests opened and a note when nobody holds governance to route to. `why` is
    the reason of the move ("{roles}" in it names the roles asked), with `detail` in its
    audit event; `request_detail` goes into each request's audit event."""
    if row.stage not in ASK_IN:
        return [], None
    asked = {r.role for r in current(uow.approvals.for_proposal(row.id)) if r.status in ("pending", "approved")}
    needed = [role for role in result.get("approver_roles") or () if role not in asked]
    if not needed:
        return [], None
    try:
        routes = approvals.plan_routes(uow, settings, needed, row.answers)
        routes = approvals.separate(
            uow, routes, requester=row.requester, owner=row.owner, quorum=result.get("approver_quorum")
        )
    except NoGovernance as exc:
        return [], str(exc)
    if not routes:
        return [], None
    opened = approvals.open_requests(uow, row, routes, round=row.revision, now=now, owner_first=settings.owner_first)
    for r in opened:
        about = {"request_id": r.id, "role": r.role, "department": r.department, "approver": r.approver}
        uow.audit.add(row.id, actor, "approval.requested", {**about, "note": r.note, **(request_detail or {})}, now)
    if row.stage in REOPEN_FROM:
        roles = ", ".join(r.role for r in opened)
        approvals.move(uow, row, "in_review", actor, now, reason=why.format(roles=roles), **detail)
    live = current(uow.approvals.for_proposal(row.id))
    for r in opened:
        if released(r, live):
            notify.queue_request(uow, settings, row, r, result, now)
    return opened, None


def stored_verdict(row: ProposalRow, latest: ClassificationRow | None) -> StoredVerdict:
    """What `row`'s latest stored classification says (`verdict_change` compares a new one)."""
    result = latest.result if latest is not None else {}
    return StoredVerdict(
        row.id,
        row.answers,
        latest.risk_level if latest is not None else row.risk_level,
        row.eu_tier,
        tuple(result.get("stop_conditions") or ()),
        tuple(result.get("approver_roles") or ()),
    )
