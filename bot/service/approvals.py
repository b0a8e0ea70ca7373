"""Approval routing and who may decide (DESIGN.md, approver roles).

Routing turns the classifier's `approver_roles` into one approval request per role,
through the role directory: the owner is the proposal's own `owner`; the department
lead is looked up per department; the other roles are company-wide. A role nobody
holds goes to governance with a note that names the missing assignment.

Who may decide (`authority`): the routed approver or any other current holder of the
routed role (for that department), an active delegate of one of them, any governance
member for what was routed to governance, or a governance member with a written
reason. Every holder gets the approval message, each copy under its own ref key.
Deciding itself, and what a decision causes, is `bot.service.decisions`; what to tell
whom afterwards is `bot.service.publish`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain import duties
from bot.domain.approval_rules import (
    DECISION_STATUS,
    ROUTED_TO_GOVERNANCE,
    Authority,
    NoGovernance,
    Route,
    current,
    delegating,
    routed_to_governance,
    seat,
)
from bot.domain.events import RequestSuperseded, StageChanged
from bot.domain.proposal import is_blank
from bot.domain.records import ApprovalRequestRow, DecisionRow, ProposalRow
from bot.domain.roles import PER_DEPARTMENT
from bot.messages import compose
from bot.ports import UnitOfWork
from bot.service.roles import governance_members, holders, request_holders
from bot.settings import Settings

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- routing


def plan_routes(uow: UnitOfWork, settings: Settings, roles: Sequence[str], answers: dict[str, Any]) -> list[Route]:
    """One route per routed role (sorted as the classifier lists them)."""
    gov = governance_members(uow, settings)

    def fallback(role: str, department: str | None, why: str) -> Route:
        if not gov:
            raise NoGovernance(
                f"{why}, and nobody holds governance to take it; set GOVBOT_GOVERNANCE or `roles set governance <user>`"
            )
        return Route(role, department, gov[0], f"{why}; {ROUTED_TO_GOVERNANCE}", governance_fallback=True)

    routes: list[Route] = []
    for role in sorted(roles, key=lambda r: r != "owner"):  # the owner first, then as classified
        if role == "owner":
            owner = answers.get("owner")
            routes.append(
                Route("owner", None, str(owner)) if not is_blank(owner) else fallback("owner", None, "no owner named")
            )
        elif role == "department_lead":
            dept = (answers.get("department") or "").strip() or None
            found = holders(uow, role, dept) if dept else []
            if found:
                routes.append(Route(role, dept, found[0]))
            elif dept:
                routes.append(fallback(role, dept, f"no department_lead assigned for {dept}"))
            else:
                routes.append(fallback(role, None, "no department given, so no department_lead could be found"))
        elif role == "governance":
            if not gov:
                raise NoGovernance(
                    "governance must approve, but nobody holds governance; set "
                    "GOVBOT_GOVERNANCE or `roles set governance <user>`"
                )
            routes.append(Route(role, None, gov[0]))
        else:
            found = holders(uow, role)
            routes.append(Route(role, None, found[0]) if found else fallback(role, None, f"no {role} assigned"))
    return routes


def separate(
    uow: UnitOfWork,
    routes: Sequence[Route],
    *,
    requester: str | None,
    owner: str | None,
    quorum: Mapping[str, int] | None = None,
) -> list[Route]:
    """Planned routes under separation of duties (DESIGN.md "Gates"): nobody is routed
    a request they may not decide, and nobody two. A request whose holders are all
    excluded goes to another holder of the role, else to governance, else waits
    (`waiting`, approver "") with a note naming what is missing. Everything routed to
    governance goes to one member, who decides it together. `quorum` by role."""
    quorum = quorum or {}
    taken: set[str] = set()
    out: list[Route] = []
    to_governance: list[int] = []
    for route in routes:
        route = replace(route, quorum=quorum.get(route.role, 1))
        if route.role == "owner" and not route.governance_fallback:
            out.append(route)  # the owner decides their own request; routing excludes them elsewhere
            continue
        if route.governance_fallback or route.role == "governance":
            to_governance.append(len(out))
            out.append(route)
            continue
        excluded = duties.routing_excluded(route.role, requester=requester, owner=owner) | taken
        people = [route.approver, *holders(uow, route.role, route.department)]
        approver = duties.pick(people, excluded)
        if approver is not None:
            taken.add(approver)
            out.append(replace(route, approver=approver))
            continue
        why = f"nobody else may decide {_label(route)}: its holders requested or own this proposal"
        to_governance.append(len(out))
        out.append(replace(route, note=f"{why}; {ROUTED_TO_GOVERNANCE}", governance_fallback=True))
    if to_governance:
        excluded = duties.routing_excluded("governance", requester=requester, owner=owner) | taken
        member = duties.pick(governance_members(uow), excluded)
        for i in to_governance:
            route = out[i]
            if member is not None:
                out[i] = replace(route, approver=member)
            else:
                out[i] = replace(
                    route,
                    approver="",
                    waiting=duties.WAITING_NO_ELIGIBLE,
                    note=waiting_note(route),
                )
    return out


def waiting_note(route: Route | ApprovalRequestRow) -> str:
    """What a request that nobody may decide waits for, for people to read."""
    if route.role == "governance":
        return (
            "waiting: every governance member requested or owns this proposal; "
            "name someone else with `roles set governance <user>`"
        )
    label = _label(route)
    role_set = f"`roles set {route.role}{' ' + route.department if route.role in PER_DEPARTMENT and route.department else ''} <user>`"
    named = f"{role_set} or " if route.role not in ("owner", "governance") else ""
    return (
        f"waiting: everyone who holds {label} or governance requested or owns this proposal; "
        f"name someone else with {named}`roles set governance <user>`"
    )


def _label(route: Route | ApprovalRequestRow) -> str:
    return route.role + (f" for {route.department}" if route.role in PER_DEPARTMENT and route.department else "")


def open_requests(
    uow: UnitOfWork,
    proposal: ProposalRow,
    routes: Sequence[Route],
    *,
    round: int,
    now: datetime,
    owner_first: bool,
    kind: str = "proposal",
    target: str | None = None,
    requested_by: str | None = None,
) -> list[ApprovalRequestRow]:
    """Insert one pending request per route; with owner_first the owner is sequence 0
    and everyone else waits (sequence 1) until the owner approved. `requested_by`
    names who asked for an autonomy step."""
    has_owner = any(r.role == "owner" for r in routes)
    rows = [
        ApprovalRequestRow(
            id=0,
            proposal_id=proposal.id,
            role=route.role,
            department=route.department,
            approver=route.approver,
            kind=kind,
            target=target,
            round=round,
            status="pending",
            note=route.note,
            created_at=now,
            sequence=1 if owner_first and has_owner and route.role != "owner" else 0,
            governance_fallback=route.governance_fallback,
            quorum=route.quorum,
            requested_by=requested_by,
            waiting=route.waiting,
        )
        for route in routes
    ]
    return uow.approvals.add_many(rows)  # one statement, ids in the routes' order


def supersede(
    uow: UnitOfWork, requests: Sequence[ApprovalRequestRow], why: str, now: datetime
) -> list[RequestSuperseded]:
    """Close requests that no longer need a decision (`why` is for people); publishing
    the events takes the buttons off the cards that were still pending."""
    events = []
    for r in requests:
        was = r.status
        r.status = "superseded"
        uow.approvals.update(r)
        events.append(RequestSuperseded(r, why, was_pending=was == "pending"))
    return events


# --------------------------------------------------------------------------- who may decide


def authority(
    uow: UnitOfWork,
    settings: Settings,
    request: ApprovalRequestRow,
    actor: str,
    override_reason: str | None,
    now: datetime,
) -> Authority:
    """May `actor` decide this request? The routed approver, any other current holder
    of the routed role, an active delegate of one of them, or governance — always
    within the separation of duties (`duty_refusal`)."""
    auth = _by_role(uow, settings, request, actor, override_reason, now)
    if not (auth.ok or auth.needs_reason):
        held = _duty_reason(uow, request, actor)  # a holder of the role governance stands in for
        return auth if held is None else Authority(False, reason=held, duty=True)
    why = duty_refusal(uow, request, actor)
    return auth if why is None else Authority(False, reason=why, duty=True)


def _duty_reason(uow: UnitOfWork, request: ApprovalRequestRow, actor: str) -> str | None:
    """Why a holder of the role that fell back to governance may not decide it: the
    separation of duties that made it fall back, in plain words (None otherwise). Who
    asked for an autonomy step is told why they never decide it."""
    if request.kind == "autonomy" and actor == request.requested_by:
        return duties.excluded(actor, seat(request), requester=actor, owner=None)
    if not request.governance_fallback or request.role in ("owner", "governance"):
        return None
    if actor not in holders(uow, request.role, request.department):
        return None
    proposal = uow.proposals.get(request.proposal_id)
    requester = request.requested_by if request.kind == "autonomy" else proposal.requester
    owner = proposal.owner if request.kind == "proposal" else None
    as_role = duties.Seat(request.id, request.role, request.kind, governance=False)
    why = duties.excluded(actor, as_role, requester=requester, owner=owner)
    if why is None:
        return None
    return why.rsplit(", so ", 1)[0] + f", so governance decides this {duties.role_person(request.role)} request"


def siblings(uow: UnitOfWork, request: ApprovalRequestRow) -> list[ApprovalRequestRow]:
    """The live requests one person decides at most one of: the proposal's current
    requests, or the requests of the same autonomy step."""
    live = current(uow.approvals.for_proposal(request.proposal_id), request.kind)
    if request.kind == "autonomy":
        return [r for r in live if r.target == request.target and r.round == request.round]
    return live


def decision_group(uow: UnitOfWork, request: ApprovalRequestRow) -> list[ApprovalRequestRow]:
    """The pending requests one decision on `request` decides (`request` first): what
    went to governance is decided together."""
    others = [r for r in siblings(uow, request) if r.status == "pending" and not r.waiting]
    ids = {s.id for s in duties.group(seat(request), [seat(r) for r in others])}
    return [request, *(r for r in others if r.id in ids and r.id != request.id)]


def duty_refusal(uow: UnitOfWork, request: ApprovalRequestRow, actor: str) -> str | None:
    """Why separation of duties keeps `actor` from deciding `request` (None when it does not)."""
    proposal = uow.proposals.get(request.proposal_id)
    requester = request.requested_by if request.kind == "autonomy" else proposal.requester
    owner = proposal.owner if request.kind == "proposal" else None
    grouped = {r.id for r in decision_group(uow, request)}
    mine = {d.request_id for d in uow.decisions.for_proposal(proposal.id) if d.actor == actor}
    decided = [seat(r) for r in siblings(uow, request) if r.id in mine and r.id not in grouped]
    return duties.refusal(actor, seat(request), requester=requester, owner=owner, decided=decided)


def _by_role(
    uow: UnitOfWork,
    settings: Settings,
    request: ApprovalRequestRow,
    actor: str,
    override_reason: str | None,
    now: datetime,
) -> Authority:
    """Authority by role alone (before separation of duties)."""
    people = request_holders(uow, settings, request)  # the directory now, not at routing time
    if actor == request.approver and actor in people:
        return Authority(True, None, "approver")
    if actor in people and not routed_to_governance(request):
        return Authority(True, request.approver, "holder")
    delegators = set(uow.delegations.delegators_of(actor, now))
    for user in delegating(request, people):
        if user in delegators:
            if actor == uow.proposals.get(request.proposal_id).requester:
                return Authority(False, reason="a delegation never covers your own proposal; you requested it")
            return Authority(True, user, "delegate")
    if actor in governance_members(uow, settings):
        if routed_to_governance(request):  # any governance member may take what was routed to governance
            return Authority(True, request.approver, "governance_peer")
        if override_reason and override_reason.strip():
            return Authority(True, request.approver, "governance")
        if request.escalated_at is not None:  # escalated by the jobs: governance decides in their place
            return Authority(True, request.approver, "governance")
        return Authority(
            False,
            reason=f"this request is routed to {compose.mention(request.approver)}; as governance "
            "you may decide it only with a written override reason",
            needs_reason=True,
        )
    return Authority(
        False,
        reason=f"this request is routed to {compose.mention(request.approver)}"
        + (" (or another holder of its role)" if len(people) > 1 else "")
        + "; only they, their delegate, or governance with a written reason may decide it",
    )


def record(
    uow: UnitOfWork,
    request: ApprovalRequestRow,
    actor: str,
    decision: str,
    auth: Authority,
    comment: str | None,
    override_reason: str | None,
    now: datetime,
) -> DecisionRow:
    """Insert the decision (Conflict when `actor` already decided it) and mark the
    request decided: a reject or a request for changes at once, an approval once the
    request's quorum of distinct approvers is reached (it stays pending until then)."""
    row = uow.decisions.add(
        DecisionRow(
            id=0,
            request_id=request.id,
            decision=decision,
            actor=actor,
            on_behalf_of=auth.on_behalf_of,
            comment=(comment or "").strip() or None,
            override_reason=(override_reason or "").strip() or None if auth.via == "governance" else None,
            created_at=now,
        )
    )
    if decision == "approve":
        approvers = {d.actor for d in uow.decisions.all_for_request(request.id) if d.decision == "approve"}
        if not duties.quorum_met(len(approvers), request.quorum):
            return row
    request.status = DECISION_STATUS[decision]
    request.decided_at = now
    uow.approvals.update(request)
    return row


def move(
    uow: UnitOfWork,
    proposal: ProposalRow,
    to: str,
    actor: str,
    now: datetime,
    *,
    request_id: int | None = None,
    comment: str | None = None,
    blocking: Sequence[str] = (),
    **detail: Any,
) -> StageChanged:
    """Change the stage, with its audit event, in the caller's unit of work. A move a
    decision caused names it (`request_id`, `comment`); `blocking` lists the stop
    conditions that hold an approved proposal back from pilot."""
    before = proposal.stage
    proposal.stage = to
    proposal.stage_changed_at = now
    proposal.updated_at = now
    uow.proposals.update(proposal)
    cause: dict[str, Any] = {"request_id": request_id, "comment": comment} if request_id is not None else {}
    if blocking:
        cause["blocking"] = list(blocking)
    uow.audit.add(proposal.id, actor, f"stage.{to}", {"from": before, "to": to, **cause, **detail}, now)
    return StageChanged(proposal.id, before, to, actor, request_id, comment, tuple(blocking))
