"""Reassessment of running workflows (DESIGN.md "After go-live → Reassessment").

A workflow in pilot or production is due for review `review_days` (policy, by risk
level) after its answers were last confirmed: stored as a revision, or confirmed or
edited in an earlier reassessment. The daily job opens a reassessment for each due
workflow and asks its owner to confirm the answers still hold (`reassessment.confirm`)
or to edit them (`reassessment.edit` reopens the interview prefilled); an edit that
changes the risk level reopens every approval. A reassessment still open
`drift_after_days` after it fell due is governance drift in the portfolio and digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.domain.approval_rules import current
from bot.domain.errors import NotFound, UsageError
from bot.domain.lifecycle_rules import RUNNING
from bot.domain.policy import Policy
from bot.domain.policy_diff import tier_of
from bot.domain.records import ProposalRow, ReassessmentRow
from bot.messages import compose
from bot.messages.message import REASSESSMENT_CONFIRM, REASSESSMENT_EDIT, Button, Message, Section
from bot.ports import Clock, UnitOfWork
from bot.service import notify
from bot.service.refusals import refuse
from bot.service.reopen import reopen_all
from bot.service.results import Submitted
from bot.service.roles import governance_members, is_governance
from bot.settings import Settings

logger = logging.getLogger(__name__)


def day_period(at: datetime) -> str:
    """The job period of the reassessment job: the UTC day, e.g. "2026-11-16"."""
    return at.date().isoformat()


def due_at(policy: Policy, risk_level: str, confirmed_at: datetime) -> datetime:
    """When answers confirmed at `confirmed_at` are due for review again."""
    return confirmed_at + timedelta(days=policy.review_days.get(risk_level, min(policy.review_days.values())))


# --------------------------------------------------------------------------- the job


def open_due(uow: UnitOfWork, settings: Settings, policy: Policy, now: datetime) -> dict[str, Any]:
    """Open a reassessment for every running workflow that is due at `now` and has
    none open; ask its owner (governance when it has none) to confirm or edit."""
    running = uow.proposals.in_stages(RUNNING)
    ids = [p.id for p in running]
    revised = uow.reassessments.last_revised_at(ids)
    reviewed = uow.reassessments.last_closed_at(ids)
    already = uow.reassessments.open_ids(ids)
    members = governance_members(uow, settings)
    opened = []
    for proposal in running:
        if proposal.id in already:
            continue
        confirmed = max(t for t in (revised.get(proposal.id), reviewed.get(proposal.id), proposal.created_at) if t)
        due = due_at(policy, proposal.risk_level, confirmed)
        if due > now:
            continue
        row = uow.reassessments.add(
            ReassessmentRow(
                id=0,
                proposal_id=proposal.id,
                status="open",
                risk_level=proposal.risk_level,
                due_at=due,
                drift_at=due + timedelta(days=policy.drift_after_days),
                opened_at=now,
            )
        )
        recipient = proposal.owner or (members[0] if members else None)
        uow.audit.add(
            proposal.id,
            "govbot",
            "reassessment.opened",
            {"reassessment_id": row.id, "due_at": due.isoformat(), "risk_level": proposal.risk_level, "to": recipient},
            now,
        )
        if recipient is not None:
            notify.queue(
                uow,
                settings,
                recipient,
                request_message(proposal, row, policy),
                now,
                proposal=proposal,
                dedupe_key=f"reassessment:{row.id}",
            )
        opened.append(proposal.id)
    return {"opened": len(opened), "ids": opened}


def request_message(proposal: ProposalRow, row: ReassessmentRow, policy: Policy) -> Message:
    """The owner's card: do the answers still hold?"""
    days = policy.review_days.get(row.risk_level)
    return Message(
        kind="reassessment_request",
        text=f'Time to review #{proposal.id} "{proposal.title}": do its answers still hold? '
        f"{row.risk_level.capitalize()}-risk workflows are reviewed every {days} days.",
        sections=(
            Section(
                fields=(
                    ("Stage", proposal.stage),
                    ("Risk", row.risk_level),
                    ("Due", row.due_at.date().isoformat()),
                    ("Counts as drift after", row.drift_at.date().isoformat()),
                )
            ),
            Section(
                text="Confirm if nothing changed (data, actions, audience, autonomy, owner, value metric), or edit "
                "the answers; a changed risk level sends it back to its approvers."
            ),
        ),
        buttons=(
            Button(REASSESSMENT_CONFIRM, "The answers still hold", str(row.id), "primary"),
            Button(REASSESSMENT_EDIT, "Edit the answers", str(proposal.id)),
        ),
        meta={"proposal_id": proposal.id, "reassessment_id": row.id},
    )


# --------------------------------------------------------------------------- confirm


def confirm(
    uow: UnitOfWork, clock: Clock, settings: Settings, policy: Policy, actor: str, reassessment_id: int
) -> Message:
    """`reassessment.confirm`: the owner (or governance) says the answers still hold."""
    now = clock.now()
    problem = None
    with uow:
        try:
            row = uow.reassessments.get(reassessment_id, for_update=True)
        except NotFound:
            raise UsageError(f"reassessment id: there is no reassessment {reassessment_id}") from None
        proposal = uow.proposals.get(row.proposal_id)
        if actor != proposal.owner and not is_governance(uow, actor, settings):
            problem = f"only the owner ({compose.mention(proposal.owner)}) or governance may confirm #{proposal.id}"
        elif row.status != "open":
            return compose.notice(
                "reassessment_closed", f"The review of #{proposal.id} is already {row.status}.", proposal.id
            )
        else:
            row.status, row.closed_at, row.closed_by = "confirmed", now, actor
            uow.reassessments.update(row)
            uow.audit.add(proposal.id, actor, "reassessment.confirmed", {"reassessment_id": row.id}, now)
            uow.commit()
    if problem is not None:
        raise refuse(uow, clock, actor, row.proposal_id, "reassessment.refused", problem)
    following = due_at(policy, proposal.risk_level, now).date().isoformat()
    return compose.notice(
        "reassessment_confirmed",
        f"Thanks: the answers of #{proposal.id} {proposal.title} stand. Next review due {following}.",
        proposal.id,
    )


# --------------------------------------------------------------------------- edit


def editing(uow: UnitOfWork, actor: str, proposal_id: int) -> bool:
    """True when `actor` may edit `proposal_id` for its open reassessment (the owner or
    the requester of a running workflow with one open); read in its own transaction."""
    with uow:
        try:
            row = uow.proposals.get(proposal_id)
        except NotFound:
            return False
        if row.stage not in RUNNING or actor not in (row.owner, row.requester):
            return False
        return uow.reassessments.open_for(proposal_id) is not None


def resubmit(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    proposal_id: int,
    answers: dict[str, Any],
    result: dict[str, Any],
    *,
    claim: Callable[[UnitOfWork, datetime], None],
    done: Callable[[UnitOfWork, int, int, datetime], None],
) -> Submitted:
    """The edited answers of a reassessment: a new revision and verdict; the same
    risk keeps the workflow running, a changed risk reopens every approval. `claim`
    and `done` record the submission under its idempotency key (bot.service.submit)."""
    now = clock.now()
    with uow:
        claim(uow, now)
        row = uow.proposals.get(proposal_id, for_update=True)
        review = uow.reassessments.open_for(proposal_id)
        if review is None or row.stage not in RUNNING:
            raise UsageError(f"id: #{proposal_id} has no open review to edit it for")
        before = row.risk_level
        revision = uow.proposals.add_revision(row.id, answers, actor, now)
        row.title, row.department, row.owner = answers["title"], answers.get("department"), answers.get("owner")
        row.capacity, row.answers, row.revision, row.updated_at = answers.get("capacity"), answers, revision, now
        row.risk_level, row.eu_tier = result["risk_level"], tier_of(result)
        uow.proposals.update(row)
        uow.classifications.add(row.id, revision, result, now)
        uow.stop_conditions.set_open(row.id, result.get("stop_conditions") or [], now)
        opened = []
        if before != row.risk_level:
            opened = reopen_all(
                uow,
                settings,
                row,
                result,
                actor,
                now,
                why="changed risk in its review",
                round=revision,
                revision=revision,
            )
        review.status, review.closed_at, review.closed_by = "edited", now, actor
        uow.reassessments.update(review)
        uow.audit.add(
            row.id,
            actor,
            "reassessment.edited",
            {
                "reassessment_id": review.id,
                "revision": revision,
                "risk_before": before,
                "risk_after": row.risk_level,
                "approvals_reopened": bool(opened),
                "opened": [r.id for r in opened],
            },
            now,
        )
        live = current(uow.approvals.for_proposal(row.id))
        message = compose.classification_message(row, result, live, resubmitted=True)
        notify.send_classification(uow, settings, row, row.requester, message, now)
        uow.drafts.delete(row.channel, actor)
        done(uow, row.id, revision, now)
        uow.commit()
    logger.info("proposal %s edited in its review by %s (risk %s -> %s)", row.id, actor, before, row.risk_level)
    return Submitted(row.id, revision, result, message, [r.id for r in live])
