"""Deciding approval requests and the chain rules that follow (issue 5).

One decision is one unit of work: the decision row (unique per request), the request's
status, the audit event, the approval message updated in place, a threaded notice to
the requester, and whatever the decision causes — rejected, changes requested, the
owner-first release, pilot or `approved` while stop conditions hold, or an autonomy
step applied.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.approval_rules import DECISION_STATUS, current, released
from bot.domain.proposal import is_blank
from bot.domain.records import ApprovalRequestRow, DecisionRow, ProposalRow
from bot.messages import compose
from bot.messages.message import Message
from bot.service.approvals import authority, move, record, supersede
from bot.service.notify import card_key, queue_request, send, tell_requester, update_card
from bot.service.roles import governance_members

logger = logging.getLogger(__name__)


def decide(
    core: Any, actor: str, request_id: int, decision: str, comment: str | None, override_reason: str | None
) -> Any:
    """Record one decision in one unit of work; see `Govbot.decide`."""
    from bot.domain.errors import Conflict, NotFound, UsageError
    from bot.service.results import DecisionOutcome

    if decision not in DECISION_STATUS:
        raise UsageError(f"decision: unknown decision {decision!r}; allowed: {', '.join(DECISION_STATUS)}")
    settings = core.settings
    now = core.clock.now()
    try:
        with core.uow() as uow:
            try:
                first = uow.approvals.get(request_id)
            except NotFound:
                raise UsageError(f"request id: there is no approval request {request_id}") from None
            proposal = uow.proposals.get(first.proposal_id, for_update=True)
            request = uow.approvals.get(request_id, for_update=True)
            auth = authority(uow, settings, request, actor, override_reason, now)
            refusal = auth.reason if not auth.ok else None
            existing = uow.decisions.for_request(request.id)
            if refusal is None and existing is not None:
                return _duplicate(core, uow, proposal, request, existing, DecisionOutcome)
            if refusal is None:
                refusal = not_decidable(uow, proposal, request)
            if refusal is not None:
                uow.audit.add(
                    proposal.id,
                    actor,
                    "decision.refused",
                    {"request_id": request.id, "decision": decision, "reason": refusal, "approver": request.approver},
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
                    card_for(core, uow, proposal, request, viewer=actor),
                    proposal.stage,
                )
            if decision in ("reject", "request_changes") and is_blank(comment):
                # asked only of someone who may decide: a refusal needs no comment
                what = "rejecting" if decision == "reject" else "requesting changes"
                raise UsageError(f"comment: a comment is required when {what}; say what must change or why")
            row = record(uow, request, actor, decision, auth, comment, override_reason, now)
            uow.audit.add(
                proposal.id,
                actor,
                f"decision.{decision}",
                {
                    "request_id": request.id,
                    "role": request.role,
                    "kind": request.kind,
                    "target": request.target,
                    "comment": row.comment,
                    "on_behalf_of": row.on_behalf_of,
                    "override_reason": row.override_reason,
                    "via": auth.via,
                },
                now,
            )
            card = compose.decided_card(proposal, request, row, settings.timezone)
            update_card(uow, settings, proposal, request, card, now, "decided")
            line = compose.decided_line(row, settings.timezone)
            what = (
                f"on the autonomy step to {request.target}"
                if request.kind == "autonomy"
                else f"as {compose.ROLE_LABEL.get(request.role, request.role)}"
            )
            tell_requester(
                uow,
                settings,
                proposal,
                compose.notice(
                    "decision_notice",
                    f"{line} {what} — #{proposal.id} {proposal.title}",
                    proposal.id,
                    detail=row.comment or "",
                ),
                now,
                f"decision:{row.id}:requester",
            )
            if auth.via in ("delegate", "governance", "governance_peer"):
                send(
                    uow,
                    settings,
                    proposal,
                    auth.on_behalf_of or request.approver,
                    compose.notice(
                        "decision_on_your_behalf",
                        f"{line} on your behalf ({'your delegate' if auth.via == 'delegate' else 'governance'})"
                        f" — #{proposal.id} {proposal.title}",
                        proposal.id,
                        detail=row.override_reason or row.comment or "",
                    ),
                    now,
                    thread_key=card_key(request, auth.on_behalf_of or request.approver),
                    dedupe_key=f"decision:{row.id}:approver",
                )
            if request.kind == "autonomy":
                _after_autonomy(uow, settings, proposal, request, decision, actor, now)
            else:
                _after_proposal(uow, settings, proposal, request, decision, actor, row, now)
            waiting = sum(
                1 for r in current(uow.approvals.for_proposal(proposal.id), request.kind) if r.status == "pending"
            )
            uow.commit()
            stage = proposal.stage
    except Conflict:
        with core.uow() as uow:
            request = uow.approvals.get(request_id)
            proposal = uow.proposals.get(request.proposal_id)
            existing = uow.decisions.for_request(request_id)
            if existing is None:
                raise
            return _duplicate(core, uow, proposal, request, existing, DecisionOutcome)
    logger.info("request %s decided %s by %s (%s)", request_id, decision, actor, auth.via)
    if request.kind == "autonomy":
        notice = f"{compose.DECIDED_VERB[decision]}." + (
            f" #{proposal.id} waits on {waiting} more approval(s) for {request.target}."
            if waiting
            else f" #{proposal.id} runs at autonomy level {proposal.autonomy}."
        )
    else:
        notice = compose.outcome_notice(decision, proposal.id, stage, waiting)
    return DecisionOutcome("recorded", request_id, proposal.id, decision, notice, card, stage)


def _duplicate(
    core: Any, uow: Any, proposal: ProposalRow, request: ApprovalRequestRow, existing: DecisionRow, outcome: Any
) -> Any:
    line = compose.decided_line(existing, core.settings.timezone)
    card = compose.decided_card(proposal, request, existing, core.settings.timezone)
    return outcome(
        "duplicate", request.id, proposal.id, existing.decision, f"Already decided: {line}.", card, proposal.stage
    )


def not_decidable(uow: Any, proposal: ProposalRow, request: ApprovalRequestRow) -> str | None:
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
    if not released(request, uow.approvals.for_proposal(proposal.id)):
        return "the workflow owner approves first; you will get this request once they have"
    return None


def card_for(core: Any, uow: Any, proposal: ProposalRow, request: ApprovalRequestRow, viewer: str | None) -> Message:
    """The approval message as `viewer` should see it now."""
    existing = uow.decisions.for_request(request.id)
    if existing is not None:
        return compose.decided_card(proposal, request, existing, core.settings.timezone)
    if request.status == "superseded":
        return compose.closed_card(proposal, request, "replaced by a newer round of approvals")
    now = core.clock.now()
    latest = uow.classifications.latest(proposal.id)
    # governance sees the buttons too; deciding then asks for a written reason
    may = (
        viewer is not None
        and not_decidable(uow, proposal, request) is None
        and authority(uow, core.settings, request, viewer, "(shown)", now).ok
    )
    similar = uow.similarity.linked(proposal.id, limit=core.policy.similarity.shown)
    result = latest.result if latest else None
    return compose.approval_request_card(proposal, request, result, with_buttons=may, similar=similar)


def _after_proposal(
    uow: Any,
    settings: Any,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    decision: str,
    actor: str,
    row: DecisionRow,
    now: datetime,
) -> None:
    requests = uow.approvals.for_proposal(proposal.id)
    live = current(requests)
    if decision == "reject":
        move(uow, proposal, "rejected", actor, now, request_id=request.id, comment=row.comment)
        supersede(
            uow,
            settings,
            proposal,
            [r for r in live if r.status == "pending"],
            f"rejected by {compose.mention(actor)}",
            now,
        )
        tell_requester(
            uow,
            settings,
            proposal,
            compose.notice(
                "proposal_rejected",
                f"#{proposal.id} {proposal.title} was rejected by {compose.mention(actor)}.",
                proposal.id,
                detail=row.comment or "",
            ),
            now,
            f"rejected:{proposal.id}:{request.id}",
        )
        return
    if decision == "request_changes":
        move(uow, proposal, "changes_requested", actor, now, request_id=request.id, comment=row.comment)
        tell_requester(
            uow,
            settings,
            proposal,
            compose.notice(
                "changes_requested",
                f"{compose.mention(actor)} asks for changes to #{proposal.id} {proposal.title}. Edit and resubmit it.",
                proposal.id,
                detail=row.comment or "",
                buttons=(compose.edit_button(proposal.id),),
            ),
            now,
            f"changes:{proposal.id}:{request.id}",
        )
        return
    release_waiting(uow, settings, proposal, requests, now)
    complete_if_done(uow, settings, proposal, live, actor, now)


def release_waiting(
    uow: Any, settings: Any, proposal: ProposalRow, requests: Sequence[ApprovalRequestRow], now: datetime
) -> list[int]:
    """Owner-first: send the requests whose turn has come (deduplicated per request)."""
    sent = []
    latest = None
    for r in current(requests):
        if r.status == "pending" and r.sequence > 0 and released(r, requests):
            if latest is None:
                found = uow.classifications.latest(proposal.id)
                latest = found.result if found else {}
            queue_request(uow, settings, proposal, r, latest, now)
            sent.append(r.id)
    return sent


def complete_if_done(
    uow: Any, settings: Any, proposal: ProposalRow, live: Sequence[ApprovalRequestRow], actor: str, now: datetime
) -> bool:
    """Every live request approved: on to pilot, or `approved` while stop conditions hold."""
    if not live or any(r.status != "approved" for r in live) or proposal.stage != "in_review":
        return False
    blocking = sorted(s.code for s in uow.stop_conditions.for_proposal(proposal.id) if s.status == "open")
    if not blocking:
        move(uow, proposal, "pilot", actor, now, reason="all approvals in, no open stop condition")
        text = f"All approvals are in: #{proposal.id} {proposal.title} moves to pilot."
        tell_requester(
            uow,
            settings,
            proposal,
            compose.notice("stage_pilot", text, proposal.id),
            now,
            f"stage:{proposal.id}:pilot:{proposal.revision}",
        )
        if proposal.owner and proposal.owner != proposal.requester:
            send(
                uow,
                settings,
                proposal,
                proposal.owner,
                compose.notice("stage_pilot", text, proposal.id),
                now,
                dedupe_key=f"stage:{proposal.id}:pilot:{proposal.revision}:owner",
            )
        return True
    move(
        uow, proposal, "approved", actor, now, blocking=blocking, reason="all approvals in; stop conditions block pilot"
    )
    detail = "\n".join(compose.stop_label(c) for c in blocking)
    text = (
        f"All approvals are in for #{proposal.id} {proposal.title}, but stop conditions block pilot: "
        f"{', '.join(blocking)}. Resolve them and resubmit, or governance may override each with a written "
        f"reason: `override {proposal.id} <code> <reason>`."
    )
    tell_requester(
        uow,
        settings,
        proposal,
        compose.notice("stage_approved_blocked", text, proposal.id, detail=detail),
        now,
        f"stage:{proposal.id}:approved:{proposal.revision}",
    )
    for member in governance_members(uow, settings):
        send(
            uow,
            settings,
            proposal,
            member,
            compose.notice("stage_approved_blocked", text, proposal.id, detail=detail),
            now,
            dedupe_key=f"stage:{proposal.id}:approved:{proposal.revision}:{member}",
        )
    return True


def _after_autonomy(
    uow: Any,
    settings: Any,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    decision: str,
    actor: str,
    now: datetime,
) -> None:
    group = [
        r
        for r in current(uow.approvals.for_proposal(proposal.id), "autonomy")
        if r.target == request.target and r.round == request.round
    ]
    people = [u for u in dict.fromkeys((proposal.owner, proposal.requester)) if u]
    if decision != "approve":
        supersede(
            uow,
            settings,
            proposal,
            [r for r in group if r.status == "pending"],
            f"autonomy step declined by {compose.mention(actor)}",
            now,
        )
        uow.audit.add(
            proposal.id, actor, "autonomy.declined", {"target": request.target, "request_id": request.id}, now
        )
        text = (
            f"The autonomy step to {request.target} for #{proposal.id} {proposal.title} was declined by "
            f"{compose.mention(actor)}."
        )
    elif all(r.status == "approved" for r in group):
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
        text = f"#{proposal.id} {proposal.title} now runs at autonomy level {request.target} (was {before or '-'})."
    else:
        return
    for user in people:
        send(
            uow,
            settings,
            proposal,
            user,
            compose.notice("autonomy_result", text, proposal.id),
            now,
            dedupe_key=f"autonomy:{request.id}:{decision}:{user}",
        )
