"""Deciding approval requests and the chain rules that follow.

One decision is one unit of work: the decision row (unique per request and decider), the request's
status, the audit event, and whatever the decision causes — rejected, changes
requested, the owner-first release, pilot or `approved` while stop conditions hold, or
an autonomy step applied. Each of those returns the events of `bot.domain.events`;
`bot.service.publish` turns them into the outbox messages (the card updated in place,
the notices) in the same unit of work, before it commits.

Who may decide and which decisions need a comment are asked here, once, for every
channel: `decision_form` before a channel asks for input, `decide` when it records.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.domain.approval_rules import DECISION_STATUS, Authority, comment_required, current, missing_comment, released
from bot.domain.errors import CommentRequired, Conflict, NotFound, UsageError
from bot.domain.events import (
    AutonomyChanged,
    AutonomyDeclined,
    Decided,
    Event,
    QuorumCounted,
    RequestReleased,
    StageChanged,
)
from bot.domain.records import ApprovalRequestRow, DecisionRow, ProposalRow
from bot.domain.usertext import refuse_nul
from bot.messages import compose
from bot.messages.message import Message
from bot.ports import Clock, UnitOfWork
from bot.service import rounds
from bot.service.approvals import authority, decision_group, move, record, supersede
from bot.service.notify import MessageRef, card_copies, same_message, similar_on_card, update_card
from bot.service.publish import publish
from bot.service.results import DecisionForm, DecisionOutcome
from bot.settings import Settings

logger = logging.getLogger(__name__)


def decide(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    request_id: int,
    decision: str,
    comment: str | None = None,
    override_reason: str | None = None,
    *,
    in_place: MessageRef | None = None,
) -> DecisionOutcome:
    """Record one decision in one unit of work; see `Govbot.decide`."""
    _check_decision(decision)
    refuse_nul(comment, "comment")
    refuse_nul(override_reason, "override_reason")
    now = clock.now()
    try:
        with uow:
            proposal = uow.proposals.get(_request(uow, request_id).proposal_id, for_update=True)
            request = uow.approvals.get(request_id, for_update=True)
            auth = authority(uow, settings, request, actor, override_reason, now)
            decided = uow.decisions.all_for_request(request.id)
            own = next((d for d in decided if d.actor == actor), None)
            if own is not None or (auth.ok and decided and request.status != "pending"):
                return _duplicate(settings, proposal, request, own or decided[-1])
            state = not_decidable(uow, proposal, request)
            refusal = state if auth.ok else auth.reason
            if refusal is not None:
                uow.audit.add(
                    proposal.id,
                    actor,
                    "decision.refused",
                    {
                        "request_id": request.id,
                        "role": request.role,
                        "decision": decision,
                        "reason": refusal,
                        "approver": request.approver,
                        "separation_of_duties": auth.duty,
                    },
                    now,
                )
                uow.commit()
                logger.info("decision on request %s by %s refused", request.id, actor)
                return DecisionOutcome(
                    "refused",
                    request.id,
                    proposal.id,
                    None,
                    f"Not recorded: {refusal}.",
                    card_for(uow, settings, now, proposal, request, viewer=actor),
                    proposal.stage,
                    may_override=auth.needs_reason and state is None,
                )
            problem = missing_comment(decision, comment)  # asked only of someone who may decide
            if problem is not None:
                raise CommentRequired(problem)
            events: list[Event] = []
            rows: list[DecisionRow] = []
            for member in decision_group(uow, request):
                member_auth = auth if member.id == request.id else _standing_in(member, actor, auth)
                row = record(uow, member, actor, decision, member_auth, comment, override_reason, now)
                uow.audit.add(
                    proposal.id,
                    actor,
                    f"decision.{decision}",
                    {
                        "request_id": member.id,
                        "role": member.role,
                        "kind": member.kind,
                        "target": member.target,
                        "comment": row.comment,
                        "on_behalf_of": row.on_behalf_of,
                        "override_reason": row.override_reason,
                        "via": member_auth.via,
                        "status": member.status,
                        "approvals": _approvals(uow, member),
                        "quorum": member.quorum,
                        "with_request": request.id if member.id != request.id else None,
                    },
                    now,
                )
                if member.status == "pending":  # a quorum still short of approvals
                    events.append(QuorumCounted(member, row, _approvals(uow, member)))
                else:
                    events.append(Decided(member, row, member_auth.via))
                rows.append(row)
            if request.kind == "autonomy":
                events += _after_autonomy(uow, proposal, request, decision, actor, now)
            else:
                events += _after_proposal(uow, proposal, request, decision, actor, rows[0], now)
            cards = publish(uow, settings, proposal, events, now, in_place=in_place)
            waiting = sum(
                1 for r in current(uow.approvals.for_proposal(proposal.id), request.kind) if r.status == "pending"
            )
            counted = _approvals(uow, request)
            if request.status == "pending":  # the clicker's copy: counted, no buttons for them
                cards[request.id] = card_for(uow, settings, now, proposal, request, viewer=actor)
            uow.commit()
    except Conflict:
        with uow:
            request = uow.approvals.get(request_id)
            proposal = uow.proposals.get(request.proposal_id)
            existing = next((d for d in uow.decisions.all_for_request(request_id) if d.actor == actor), None)
            if existing is None:
                raise
            return _duplicate(settings, proposal, request, existing)
    logger.info("request %s decided %s by %s (%s)", request_id, decision, actor, auth.via)
    if request.status == "pending":  # counted towards a quorum; the request waits for more
        line = f"Approved: {compose.quorum_line(request, counted)}; #{proposal.id} waits for more."
        return DecisionOutcome("recorded", request_id, proposal.id, decision, line, cards[request.id], proposal.stage)
    if request.kind == "autonomy":
        notice = f"{compose.DECIDED_VERB[decision]}." + (
            f" #{proposal.id} waits on {waiting} more approval(s) for {request.target}."
            if waiting
            else f" #{proposal.id} runs at autonomy level {proposal.autonomy}."
        )
    else:
        notice = compose.outcome_notice(decision, proposal.id, proposal.stage, waiting)
    return DecisionOutcome("recorded", request_id, proposal.id, decision, notice, cards[request.id], proposal.stage)


def decision_form(
    uow: UnitOfWork, clock: Clock, settings: Settings, actor: str, request_id: int, decision: str
) -> DecisionForm:
    """What deciding asks of `actor` before a channel shows a form: refused outright,
    or which inputs are required (a comment; a written reason from governance deciding
    in the approver's place). Writes nothing."""
    _check_decision(decision)
    now = clock.now()
    with uow:
        request = _request(uow, request_id)
        proposal = uow.proposals.get(request.proposal_id)
        auth = authority(uow, settings, request, actor, None, now)
        refusal = not_decidable(uow, proposal, request) if auth.ok or auth.needs_reason else auth.reason
    return DecisionForm(
        request_id,
        decision,
        refusal=refusal,
        comment_required=comment_required(decision),
        reason_required=refusal is None and not auth.ok,
    )


def requeue_card(uow: UnitOfWork, clock: Clock, settings: Settings, request_id: int, in_place: MessageRef) -> bool:
    """A channel could not replace the message `in_place` after a decision: queue the
    decided card for that copy through the outbox after all. False when no stored copy
    is that message or the request is not decided."""
    now = clock.now()
    with uow:
        request = _request(uow, request_id)
        existing = uow.decisions.for_request(request.id)
        proposal = uow.proposals.get(request.proposal_id)
        mine = [
            key
            for _, key in card_copies(uow, settings, proposal, request, now)
            if same_message(uow.message_refs.get(key), in_place)
        ]
        if existing is None or request.status == "pending" or not mine:
            return False
        card = compose.decided_card(proposal, request, existing, settings.timezone)
        update_card(uow, settings, proposal, request, card, now, "decided")  # the copies done already are deduplicated
        uow.commit()
    return True


def _check_decision(decision: str) -> None:
    if decision not in DECISION_STATUS:
        raise UsageError(f"decision: unknown decision {decision!r}; allowed: {', '.join(DECISION_STATUS)}")


def _request(uow: UnitOfWork, request_id: int) -> ApprovalRequestRow:
    try:
        return uow.approvals.get(request_id)
    except NotFound:
        raise UsageError(f"request id: there is no approval request {request_id}") from None


def _duplicate(
    settings: Settings, proposal: ProposalRow, request: ApprovalRequestRow, existing: DecisionRow
) -> DecisionOutcome:
    line = compose.decided_line(existing, settings.timezone)
    card = compose.decided_card(proposal, request, existing, settings.timezone)
    return DecisionOutcome(
        "duplicate", request.id, proposal.id, existing.decision, f"Already decided: {line}.", card, proposal.stage
    )


def _approvals(uow: UnitOfWork, request: ApprovalRequestRow) -> int:
    """Approvals by distinct people recorded on the request so far."""
    return len({d.actor for d in uow.decisions.all_for_request(request.id) if d.decision == "approve"})


def _standing_in(request: ApprovalRequestRow, actor: str, auth: Authority) -> Authority:
    """The authority one governance decision has on another request it decides with it."""
    if request.approver == actor:
        return Authority(True, None, "approver")
    return Authority(True, request.approver or None, "governance" if auth.via == "governance" else "governance_peer")


def not_decidable(uow: UnitOfWork, proposal: ProposalRow, request: ApprovalRequestRow) -> str | None:
    """Why nobody can decide the request now (None when it waits for a decision)."""
    if request.status == "superseded":
        return "this request was replaced by a newer round of approvals"
    if request.status != "pending":
        return f"this request is already {request.status}"
    if request.kind == "autonomy":
        return (
            None
            if proposal.stage in ("pilot", "production")
            else f"#{proposal.id} is {proposal.stage}; autonomy steps apply to pilot or production workflows"
        )
    if proposal.stage == "changes_requested":
        return f"changes were requested on #{proposal.id}; decide once the requester resubmits"
    if proposal.stage != "in_review":
        return f"#{proposal.id} is {proposal.stage}; no decision is needed"
    if request.waiting:
        return request.note or "nobody who may decide this request holds its role yet"
    together = {r.id for r in decision_group(uow, request)}  # decided at once: no turn among them
    if not released(request, [r for r in uow.approvals.for_proposal(proposal.id) if r.id not in together]):
        return "the workflow owner approves first; you will get this request once they have"
    return None


def card_for(
    uow: UnitOfWork,
    settings: Settings,
    now: datetime,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    viewer: str | None,
) -> Message:
    """The approval message as `viewer` should see it now."""
    existing = uow.decisions.for_request(request.id)
    if existing is not None and request.status != "pending":
        return compose.decided_card(proposal, request, existing, settings.timezone)
    if request.status == "superseded":
        return compose.closed_card(proposal, request, "replaced by a newer round of approvals")
    latest = uow.classifications.latest(proposal.id)
    # governance sees the buttons too; deciding then asks for a written reason
    counted = {d.actor for d in uow.decisions.all_for_request(request.id) if d.decision == "approve"}
    may = (
        viewer is not None
        and viewer not in counted
        and not_decidable(uow, proposal, request) is None
        and authority(uow, settings, request, viewer, "(shown)", now).ok
    )
    similar = similar_on_card(uow, proposal.id)
    result = latest.result if latest else None
    changes = rounds.changes_for(uow, proposal, request)  # the same changes its card showed
    return compose.approval_request_card(
        proposal, request, result, with_buttons=may, similar=similar, changes=changes, approvals=len(counted)
    )


def _after_proposal(
    uow: UnitOfWork,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    decision: str,
    actor: str,
    row: DecisionRow,
    now: datetime,
) -> list[Event]:
    requests = uow.approvals.for_proposal(proposal.id)
    live = current(requests)
    if decision == "reject":
        moved = move(uow, proposal, "rejected", actor, now, request_id=request.id, comment=row.comment)
        pending = [r for r in live if r.status == "pending"]
        return [moved, *supersede(uow, pending, f"rejected by {compose.mention(actor)}", now)]
    if decision == "request_changes":
        return [move(uow, proposal, "changes_requested", actor, now, request_id=request.id, comment=row.comment)]
    return [*release_waiting(requests), *complete_if_done(uow, proposal, live, actor, now)]


def release_waiting(requests: Sequence[ApprovalRequestRow]) -> list[RequestReleased]:
    """Owner-first: the waiting requests whose turn has come (publishing sends each once)."""
    return [
        RequestReleased(r)
        for r in current(requests)
        if r.status == "pending" and r.sequence > 0 and released(r, requests)
    ]


def complete_if_done(
    uow: UnitOfWork, proposal: ProposalRow, live: Sequence[ApprovalRequestRow], actor: str, now: datetime
) -> list[StageChanged]:
    """Every live request approved: on to pilot, or `approved` while stop conditions hold."""
    if not live or any(r.status != "approved" for r in live) or proposal.stage != "in_review":
        return []
    blocking = sorted(s.code for s in uow.stop_conditions.for_proposal(proposal.id) if s.status == "open")
    if not blocking:
        return [move(uow, proposal, "pilot", actor, now, reason="all approvals in, no open stop condition")]
    return [
        move(
            uow,
            proposal,
            "approved",
            actor,
            now,
            blocking=blocking,
            reason="all approvals in; stop conditions block pilot",
        )
    ]


def _after_autonomy(
    uow: UnitOfWork,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    decision: str,
    actor: str,
    now: datetime,
) -> list[Event]:
    group = [
        r
        for r in current(uow.approvals.for_proposal(proposal.id), "autonomy")
        if r.target == request.target and r.round == request.round
    ]
    if decision != "approve":
        pending = [r for r in group if r.status == "pending"]
        closed = supersede(uow, pending, f"autonomy step declined by {compose.mention(actor)}", now)
        uow.audit.add(
            proposal.id, actor, "autonomy.declined", {"target": request.target, "request_id": request.id}, now
        )
        return [*closed, AutonomyDeclined(request, decision, actor)]
    if any(r.status != "approved" for r in group):
        return []
    before = proposal.autonomy
    proposal.autonomy = request.target
    proposal.updated_at = now
    uow.proposals.update(proposal)
    uow.audit.add(
        proposal.id,
        actor,
        "autonomy.changed",
        {"from": before, "to": request.target, "request_ids": [r.id for r in group]},
        now,
    )
    return [AutonomyChanged(request, actor, before)]
