"""Approval routing, decisions and the chain rules (DESIGN.md approver roles, issue 5).

Routing turns the classifier's `approver_roles` into one approval request per role,
through the role directory: the owner is the proposal's own `owner`; the department
lead is looked up per department; the other roles are company-wide. A role nobody
holds goes to governance with a note that names the missing assignment.

Who may decide (`authority`): the routed approver or any other current holder of the
routed role (for that department), an active delegate of one of them, any governance
member for what was routed to governance, or a governance member with a written
reason. Every holder gets the approval message, each copy under its own ref key. Deciding itself, and what a decision causes, is `bot.decisions`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import views
from bot.domain import is_blank
from bot.messages import Message
from bot.outbox import enqueue
from bot.ports import ApprovalRequestRow, DecisionRow, ProposalRow
from bot.roles import PER_DEPARTMENT, governance_members, holders

logger = logging.getLogger(__name__)

CHAT_CHANNELS = ("slack", "teams", "console")
DECISION_STATUS = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}
ACTIVE = ("pending", "approved", "rejected", "changes_requested")


ROUTED_TO_GOVERNANCE = "routed to governance"  # the end of a fallback route's note


class NoGovernance(Exception):
    """Nobody holds governance, so unassigned roles have nowhere to go."""


@dataclass(frozen=True)
class Route:
    role: str
    department: str | None
    approver: str
    note: str | None = None


# --------------------------------------------------------------------------- routing


def plan_routes(uow: Any, settings: Any, roles: Sequence[str], answers: dict[str, Any]) -> list[Route]:
    """One route per routed role (sorted as the classifier lists them)."""
    gov = governance_members(uow, settings)

    def fallback(role: str, department: str | None, why: str) -> Route:
        if not gov:
            raise NoGovernance(
                f"{why}, and nobody holds governance to take it; set GOVBOT_GOVERNANCE or `roles set governance <user>`"
            )
        return Route(role, department, gov[0], f"{why}; {ROUTED_TO_GOVERNANCE}")

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


def route_key(role: str, department: str | None, approver: str) -> tuple[str, str, str]:
    """What makes two requests "the same" across resubmissions: the role, and its
    department (department lead) or person (owner)."""
    if role == "department_lead":
        return (role, (department or "").casefold(), "")
    if role == "owner":
        return (role, "", approver)
    return (role, "", "")


def open_requests(
    uow: Any,
    proposal: ProposalRow,
    routes: Sequence[Route],
    *,
    round: int,
    now: datetime,
    owner_first: bool,
    kind: str = "proposal",
    target: str | None = None,
) -> list[ApprovalRequestRow]:
    """Insert one pending request per route; with owner_first the owner is sequence 0
    and everyone else waits (sequence 1) until the owner approved."""
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
        )
        for route in routes
    ]
    return uow.approvals.add_many(rows)  # one statement, ids in the routes' order


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


def channel_for(uow: Any, settings: Any, user: str, proposal: ProposalRow | None) -> str:
    """Where to reach a user: the proposal's chat channel, else where we have talked
    with them, else the configured platform, else the console."""
    if proposal is not None and proposal.channel in CHAT_CHANNELS:
        return proposal.channel
    for platform in ("teams", "slack"):
        if uow.conversations.get(platform, user) is not None:
            return platform
    if getattr(settings, "slack_bot_token", None) is not None:
        return "slack"
    if getattr(settings, "teams_enabled", False) or getattr(settings, "microsoft_app_id", None):
        return "teams"
    return "console"


def send(
    uow: Any, settings: Any, proposal: ProposalRow, recipient: str, message: Message, now: datetime, **keys: Any
) -> None:
    """Queue a message about `proposal` to `recipient` (meta names the proposal)."""
    if "proposal_id" not in message.meta:
        message = Message(
            message.kind,
            message.text,
            message.sections,
            message.buttons,
            message.image_png,
            {**message.meta, "proposal_id": proposal.id},
        )
    enqueue(uow, channel_for(uow, settings, recipient, proposal), recipient, message, now, **keys)


def tell_requester(
    uow: Any,
    settings: Any,
    proposal: ProposalRow,
    notice: Message,
    now: datetime,
    dedupe_key: str,
) -> None:
    """A notice to the requester, threaded under the proposal's classification message."""
    send(
        uow,
        settings,
        proposal,
        proposal.requester,
        notice,
        now,
        thread_key=f"classification:{proposal.id}",
        dedupe_key=dedupe_key,
    )


def card_key(request: ApprovalRequestRow, user: str) -> str:
    """The ref key of `user`'s copy of the approval message: `approval:<id>` for the
    routed approver (threads and updates point at it), `approval:<id>:<user>` for the
    other holders of the routed role."""
    return f"approval:{request.id}" if user == request.approver else f"approval:{request.id}:{user}"


def _card_dedupe(request: ApprovalRequestRow, user: str, tag: str = "") -> str:
    base = f"approval:{request.id}" if user == request.approver else f"approval:{request.id}:holder:{user}"
    return f"{base}:{tag}" if tag else base


def request_holders(uow: Any, settings: Any, request: ApprovalRequestRow) -> list[str]:
    """Everyone who may decide the request as a holder of the role it is routed to,
    the routed approver first: governance members for what went to governance, the
    role's current holders (per department for department leads), or the owner alone."""
    if routed_to_governance(request):
        others = governance_members(uow, settings)
    elif request.role == "owner":
        others = []
    elif request.role in PER_DEPARTMENT:
        others = holders(uow, request.role, request.department) if request.department else []
    else:
        others = holders(uow, request.role)
    return list(dict.fromkeys([request.approver, *others]))


def delegating(request: ApprovalRequestRow, people: Sequence[str]) -> list[str]:
    """Whose active delegates may decide: every holder, but only the routed approver
    for what went to governance (the other members may decide it themselves)."""
    return [request.approver] if routed_to_governance(request) else list(people)


def queue_request(
    uow: Any,
    settings: Any,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    result: dict[str, Any] | None,
    now: datetime,
    card: Message | None = None,
) -> None:
    """The approval request card to every holder of the routed role (once per request
    and holder, each copy under its own ref key so it can be updated in place), and a
    copy to anyone they delegated to for now. `card` replaces the standard card."""
    card = card if card is not None else views.approval_request_card(proposal, request, result)
    people = request_holders(uow, settings, request)
    for user in people:
        key = card_key(request, user)
        send(uow, settings, proposal, user, card, now, ref_key=key, dedupe_key=_card_dedupe(request, user))
    for user in delegating(request, people):
        for delegation in uow.delegations.active_for(user, now):  # a copy for an active delegate
            if delegation.delegate_id in people:
                continue
            copy = views.approval_request_card(proposal, request, result, delegate_of=user)
            send(
                uow,
                settings,
                proposal,
                delegation.delegate_id,
                copy,
                now,
                dedupe_key=f"approval:{request.id}:delegate:{delegation.delegate_id}",
            )


def update_card(
    uow: Any, settings: Any, proposal: ProposalRow, request: ApprovalRequestRow, card: Message, now: datetime, tag: str
) -> None:
    """Replace the approval message in place: the routed approver's (posted anew if it
    never went out) and every other current holder's copy that went out."""
    pending: set[str] | None = None  # ref keys of copies still in the outbox
    for user in request_holders(uow, settings, request):
        key = card_key(request, user)
        if user != request.approver and uow.message_refs.get(key) is None:
            if pending is None:
                pending = {row.ref_key for row in uow.outbox.pending_for_proposal(proposal.id) if row.ref_key}
            if key not in pending:
                continue  # this holder never got a copy (e.g. named after it went out)
        send(
            uow,
            settings,
            proposal,
            user,
            card,
            now,
            ref_key=key,
            update_key=key,
            dedupe_key=_card_dedupe(request, user, tag),
        )


def supersede(
    uow: Any, settings: Any, proposal: ProposalRow, requests: Sequence[ApprovalRequestRow], why: str, now: datetime
) -> list[int]:
    """Close requests that no longer need a decision; pending cards lose their buttons."""
    ids = []
    for r in requests:
        was = r.status
        r.status = "superseded"
        uow.approvals.update(r)
        ids.append(r.id)
        if was == "pending":
            update_card(uow, settings, proposal, r, views.closed_card(proposal, r, why), now, "closed")
    return ids


# --------------------------------------------------------------------------- who may decide


@dataclass(frozen=True)
class Authority:
    ok: bool
    on_behalf_of: str | None = None
    via: str = ""  # approver | delegate | governance | governance_peer
    reason: str = ""  # why refused


def routed_to_governance(request: ApprovalRequestRow) -> bool:
    """The request went to governance as a role, or as the fallback for a missing one."""
    return request.role == "governance" or (request.note or "").endswith(ROUTED_TO_GOVERNANCE)


def authority(
    uow: Any, settings: Any, request: ApprovalRequestRow, actor: str, override_reason: str | None, now: datetime
) -> Authority:
    """May `actor` decide this request? The routed approver, any other current holder
    of the routed role, an active delegate of one of them, or governance."""
    if actor == request.approver:
        return Authority(True, None, "approver")
    people = request_holders(uow, settings, request)
    if actor in people and not routed_to_governance(request):
        return Authority(True, request.approver, "holder")
    delegators = set(uow.delegations.delegators_of(actor, now))
    for user in delegating(request, people):
        if user in delegators:
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
            reason=f"this request is routed to {views.mention(request.approver)}; as governance "
            "you may decide it only with a written override reason",
        )
    return Authority(
        False,
        reason=f"this request is routed to {views.mention(request.approver)}"
        + (" (or another holder of its role)" if len(people) > 1 else "")
        + "; only they, their delegate, or governance with a written reason may decide it",
    )


def record(
    uow: Any,
    request: ApprovalRequestRow,
    actor: str,
    decision: str,
    auth: Authority,
    comment: str | None,
    override_reason: str | None,
    now: datetime,
) -> DecisionRow:
    """Insert the decision (Conflict on a second one) and mark the request decided."""
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
    request.status = DECISION_STATUS[decision]
    request.decided_at = now
    uow.approvals.update(request)
    return row


def move(uow: Any, proposal: ProposalRow, to: str, actor: str, now: datetime, **detail: Any) -> None:
    """Change the stage, with its audit event, in the caller's unit of work."""
    before = proposal.stage
    proposal.stage = to
    proposal.stage_changed_at = now
    proposal.updated_at = now
    uow.proposals.update(proposal)
    uow.audit.add(proposal.id, actor, f"stage.{to}", {"from": before, "to": to, **detail}, now)
