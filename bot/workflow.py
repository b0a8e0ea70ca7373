"""Shared pieces of the lifecycle commands (`bot.lifecycle`, `bot.running`): the
stage sets and limits, who counts as governance, queuing a message, auditing a
refusal, parsing users and times, and the small proposal helpers.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import approvals, roles
from bot.messages import Message
from bot.outbox import enqueue
from bot.ports import ProposalRow
from bot.service import Refused, UsageError

logger = logging.getLogger(__name__)

ACTIONS = ("pause", "resume", "retire", "promote")
PAUSABLE = ("approved", "pilot", "production")
RETIRABLE = ("in_review", "changes_requested", "approved", "pilot", "production", "paused")
RUNNING = ("pilot", "production")  # stages that report value and may change autonomy
CHECKIN_VALUE_MAX = 200
NOTE_MAX = 1000
REASON_MAX = 2000
MAX_DELEGATION_DAYS = 366
REPEAT_WINDOW = timedelta(minutes=10)


# --------------------------------------------------------------------------- helpers


def iso_week(at: datetime) -> str:
    """The ISO week a moment falls in, e.g. "2026-W47" (check-in and weekly job period)."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def is_governance(core: Any, uow: Any, actor: str) -> bool:
    """True when `actor` holds the governance role (directory or GOVBOT_GOVERNANCE)."""
    return roles.is_governance(uow, actor, core.settings)


def governance_members(core: Any, uow: Any) -> list[str]:
    """Everyone holding governance, directory first, without duplicates."""
    return roles.governance_members(uow, core.settings)


def queue(
    core: Any,
    uow: Any,
    recipient: str,
    message: Message,
    at: datetime,
    *,
    proposal: ProposalRow | None = None,
    ref_key: str | None = None,
    thread_key: str | None = None,
    update_key: str | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Put one message in the outbox, in the caller's unit of work, on the channel
    that reaches `recipient` (the proposal's own channel when it has one)."""
    channel = approvals.channel_for(uow, core.settings, recipient, proposal)
    enqueue(
        uow,
        channel,
        recipient,
        message,
        at,
        ref_key=ref_key,
        thread_key=thread_key,
        update_key=update_key,
        dedupe_key=dedupe_key,
    )


def refuse(
    core: Any, actor: str, proposal_id: int | None, what: str, message: str, *, code: str = "refused"
) -> Refused:
    """Audit a refused attempt in its own unit of work and return the exception to raise."""
    with core.uow() as uow:
        uow.audit.add(
            proposal_id,
            actor,
            "lifecycle.refused",
            {"attempt": what, "reason": message, "code": code},
            core.clock.now(),
        )
        uow.commit()
    logger.info("refused %s on proposal %s for %s: %s", what, proposal_id, actor, code)
    return Refused(message, code=code)


def parse_user(text: str, field: str = "user") -> str:
    """Accept a bare platform id or a chat mention (`<@U123>`, `<@U123|name>`, `@U123`)."""
    value = (text or "").strip()
    match = re.fullmatch(r"<@([^|>]+)(?:\|[^>]*)?>", value)
    if match:
        value = match.group(1)
    value = value.lstrip("@").strip()
    if not value or any(c.isspace() for c in value) or len(value) > 200:
        raise UsageError(f"{field}: give one user, e.g. @alice or U123")
    return value


def parse_until(value: str | date | datetime, field: str = "until", zone: tzinfo = UTC) -> datetime:
    """An end time: a datetime, or a date meaning the end of that day in `zone`
    (GOVBOT_TIMEZONE); a time without an offset is read in `zone` too."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    text = (value or "").strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return parse_until(date.fromisoformat(text), field, zone)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{field}: {text!r} is not a date; use YYYY-MM-DD or an ISO time such as 2026-12-01T17:00Z"
        ) from None
    return parse_until(parsed, field, zone)


def local_zone(core: Any) -> tzinfo:
    """GOVBOT_TIMEZONE as a tzinfo (UTC when unset or unknown)."""
    try:
        return ZoneInfo(core.settings.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def load_proposal(uow: Any, proposal_id: int) -> ProposalRow:
    """The proposal, locked for the change (NotFound propagates)."""
    return uow.proposals.get(proposal_id, for_update=True)


def move_stage(uow: Any, row: ProposalRow, to: str, now: datetime) -> str:
    """Set the stage (the caller audits it); returns the stage it left."""
    before = row.stage
    row.stage = to
    row.stage_changed_at = now
    row.updated_at = now
    uow.proposals.update(row)
    return before


def proposal_label(row: ProposalRow) -> str:
    """`#12 "Title"`, as the notices name a proposal."""
    return f'#{row.id} "{row.title}"'


def proposal_people(row: ProposalRow, *extra: str) -> list[str]:
    """Owner, requester and extras, without duplicates or blanks."""
    out: list[str] = []
    for user in (row.owner, row.requester, *extra):
        if user and user not in out:
            out.append(user)
    return out


def proposal_notice(kind: str, text: str, row: ProposalRow, **meta: Any) -> Message:
    """A plain notice about `row` (meta names the proposal)."""
    return Message(kind=kind, text=text, meta={"proposal_id": row.id, **meta})


def paused_from(uow: Any, proposal_id: int) -> str | None:
    """The stage the latest pause left (recorded in its audit detail)."""
    for event in reversed(uow.audit.for_proposal(proposal_id)):
        if event.action == "stage.paused":
            return event.detail.get("from")
    return None
