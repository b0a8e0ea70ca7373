"""Running workflows (pilot, production): value check-ins and autonomy steps.

Each public function is one chat command, run in one unit of work with its audit
event and the outbox messages it causes (see `bot.service.lifecycle`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.domain import approval_rules, duties
from bot.domain.approval_rules import NoGovernance
from bot.domain.errors import UsageError
from bot.domain.lifecycle_rules import CHECKIN_VALUE_MAX, NOTE_MAX, REPEAT_WINDOW, RUNNING, iso_week, proposal_label
from bot.domain.proposal import AUTONOMY, is_blank
from bot.domain.records import ApprovalRequestRow, Checkin, ProposalRow, as_utc
from bot.domain.usertext import refuse_nul
from bot.domain.value import parse_number, show_number, standing_line
from bot.messages import compose
from bot.messages.message import Message, Section, user_text
from bot.ports import Clock, UnitOfWork
from bot.service import approvals, notify
from bot.service.gates import value_standing
from bot.service.lifecycle import load_proposal, refuse
from bot.service.notify import proposal_notice, queue
from bot.service.roles import is_governance
from bot.settings import Settings

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- check-ins


def record_checkin(
    uow: UnitOfWork, clock: Clock, settings: Settings, actor: str, proposal_id: int, value: str, note: str | None = None
) -> Message:
    """The owner (or governance) reports the latest value of a running workflow's
    metric: a number in the metric's unit (DESIGN.md "Gates")."""
    value = (value or "").strip() if isinstance(value, str) else str(value)
    if is_blank(value):
        raise UsageError("value: give the latest value of the metric as a number: checkin <id> <number> [note]")
    if len(value) > CHECKIN_VALUE_MAX:
        raise UsageError(f"value: at most {CHECKIN_VALUE_MAX} characters")
    refuse_nul(value, "value")
    number = parse_number(value)
    note = (note or "").strip() or None
    refuse_nul(note, "note")
    if note is not None and len(note) > NOTE_MAX:
        raise UsageError(f"note: at most {NOTE_MAX} characters")
    now = clock.now()
    period = iso_week(now)
    problem: tuple[str, str] | None = None
    with uow:
        row = load_proposal(uow, proposal_id)
        if number is None:
            unit = row.answers.get("value_unit")
            raise UsageError(
                f"value: {value[:40]!r} is not a number; a check-in is the latest value of the metric"
                f"{f' in {user_text(unit)}' if unit else ''}, e.g. checkin {row.id} 6.5 [note]"
            )
        value = show_number(number)
        if actor != row.owner and not is_governance(uow, actor, settings):
            problem = (
                "not_owner",
                f"Only the workflow owner or governance may report value for {proposal_label(row)}.",
            )
        elif row.stage not in RUNNING:
            problem = (
                "bad_stage",
                f"{proposal_label(row)} is {row.stage}; check-ins are for pilot or production workflows.",
            )
        elif _repeat(uow.checkins.latest(row.id), actor, value, note, period, now):
            # a retried submission (platform retry, double click): keep the first one
            text = f"Check-in already recorded for {proposal_label(row)} ({period}): {user_text(value)}"
        else:
            saved = uow.checkins.add(Checkin(0, row.id, value, note, actor, period, now))
            uow.audit.add(
                row.id,
                actor,
                "checkin.recorded",
                {"checkin_id": saved.id, "value": value, "period": period, "note": note},
                now,
            )
            text = f"Check-in recorded for {proposal_label(row)} ({period}): "
            text += standing_line(value_standing(row, uow.checkins.for_proposal(row.id)))
            if actor != row.owner and row.owner:
                queue(
                    uow,
                    settings,
                    row.owner,
                    proposal_notice("checkin", text + f" (reported by <@{actor}>)", row),
                    now,
                    proposal=row,
                )
            uow.commit()
    if problem is not None:
        raise refuse(uow, clock, actor, proposal_id, "checkin", problem[1], code=problem[0])
    logger.info("proposal %s: check-in for %s by %s", proposal_id, period, actor)
    return proposal_notice("checkin", text, row, period=period)


def _repeat(latest: Checkin | None, actor: str, value: str, note: str | None, period: str, now: datetime) -> bool:
    """The same report by the same person in the last few minutes counts once."""
    if latest is None:
        return False
    same = (latest.reported_by, latest.value, latest.note, latest.period) == (actor, value, note, period)
    return same and now - as_utc(latest.created_at) <= REPEAT_WINDOW


# --------------------------------------------------------------------------- autonomy


def next_autonomy(current: str | None) -> str | None:
    """The next level along draft_only -> human_approves -> human_monitors -> autonomous."""
    index = AUTONOMY.index(current) if current in AUTONOMY else 0
    return AUTONOMY[index + 1] if index + 1 < len(AUTONOMY) else None


def request_autonomy_step(uow: UnitOfWork, clock: Clock, settings: Settings, actor: str, proposal_id: int) -> Message:
    """Ask to move a pilot/production workflow one autonomy step on.

    Opens approval requests (kind "autonomy") that the asker never decides: the
    department lead (and the owner when someone else asked), and governance at high
    risk or past the autonomy ceiling; `bot.service.decisions.decide` applies the step
    once every one is approved.
    """
    now = clock.now()
    problem: tuple[str, str] | None = None
    with uow:
        row = load_proposal(uow, proposal_id)
        current = str(row.autonomy or row.answers.get("autonomy") or AUTONOMY[0])
        target = next_autonomy(current)
        pending = [r for r in uow.approvals.for_proposal(row.id) if r.kind == "autonomy" and r.status == "pending"]
        if actor != row.owner and not is_governance(uow, actor, settings):
            problem = (
                "not_owner",
                f"Only the workflow owner or governance may ask for more autonomy for {proposal_label(row)}.",
            )
        elif row.stage not in RUNNING:
            problem = (
                "bad_stage",
                f"{proposal_label(row)} is {row.stage}; only pilot or production workflows can change autonomy.",
            )
        elif target is None:
            problem = ("at_max", f"{proposal_label(row)} is already {current}; there is no further step.")
        elif pending:
            problem = (
                "pending",
                f"{proposal_label(row)} already has an autonomy step to {pending[0].target} awaiting approval.",
            )
        else:
            # A declined earlier attempt at the same step must not count towards this one.
            earlier = [
                r for r in approval_rules.current(uow.approvals.for_proposal(row.id), "autonomy") if r.target == target
            ]
            for old in earlier:
                old.status = "superseded"
                uow.approvals.update(old)
            latest = uow.classifications.latest(row.id)
            ceiling = ceiling_of(row, latest.result if latest else None)
            requests = _open_autonomy_requests(uow, settings, row, actor, target, ceiling, now)
            uow.audit.add(
                row.id,
                actor,
                "autonomy.requested",
                {
                    "from": current,
                    "to": target,
                    "request_ids": [r.id for r in requests],
                    "roles": [r.role for r in requests],
                    "superseded": [r.id for r in earlier],
                    "ceiling": ceiling,
                    "past_ceiling": duties.past_ceiling(target, ceiling),
                    "waiting": [r.id for r in requests if r.waiting],
                },
                now,
            )
            for request in requests:
                result = latest.result if latest else None
                card = autonomy_card(row, request, current, actor, result)
                notify.queue_request(uow, settings, row, request, result, now, card=card)
            uow.commit()
    if problem is not None:
        raise refuse(uow, clock, actor, proposal_id, "autonomy", problem[1], code=problem[0])
    asked = " and ".join(r.role for r in requests)
    beyond = (
        f" It goes past the autonomy ceiling ({ceiling}), so governance decides too."
        if target is not None and duties.past_ceiling(target, ceiling)
        else ""
    )
    logger.info("proposal %s: autonomy step %s -> %s requested by %s", proposal_id, current, target, actor)
    return proposal_notice(
        "autonomy",
        f"Asked {asked} to approve moving {proposal_label(row)} from {current} to {target}.{beyond}",
        row,
        request_ids=[r.id for r in requests],
        target=target,
    )


def _open_autonomy_requests(
    uow: UnitOfWork, settings: Settings, row: ProposalRow, asker: str, target: str, ceiling: str, now: datetime
) -> list[ApprovalRequestRow]:
    """The step's requests: never decided by `asker` (DESIGN.md "Gates", autonomy)."""
    roles = duties.autonomy_step_roles(
        asker_is_owner=asker == row.owner, risk_level=row.risk_level, past=duties.past_ceiling(target, ceiling)
    )
    try:
        routes = approvals.plan_routes(uow, settings, roles, row.answers)
    except NoGovernance:
        raise UsageError(
            "governance: nobody holds the governance role; set GOVBOT_GOVERNANCE or `roles set governance <user>` first"
        ) from None
    routes = approvals.separate(uow, routes, requester=asker, owner=None)
    return approvals.open_requests(
        uow,
        row,
        routes,
        round=row.revision,
        now=now,
        owner_first=False,
        kind="autonomy",
        target=target,
        requested_by=asker,
    )


def ceiling_of(row: ProposalRow, result: dict[str, Any] | None) -> str:
    """The autonomy ceiling of a proposal: as its verdict was stamped, else the default."""
    stamped = (result or {}).get("autonomy_ceiling")
    return stamped if isinstance(stamped, str) else duties.ceiling_for(row.risk_level, duties.DEFAULT_AUTONOMY_CEILING)


def autonomy_card(
    row: ProposalRow, request: ApprovalRequestRow, current: str, asked_by: str, result: dict[str, Any] | None = None
) -> Message:
    """The approval message for one autonomy step, with the approval buttons."""
    card = compose.approval_request_card(row, request, result)
    line = f"{compose.mention(asked_by)} asks to remove one checkpoint: {current} -> {request.target}."
    return Message(
        card.kind,
        card.text,
        card.sections + (Section("Checkpoint before autonomy", line),),
        card.buttons,
        card.image_png,
        {**card.meta, "kind": "autonomy", "target": request.target},
    )
