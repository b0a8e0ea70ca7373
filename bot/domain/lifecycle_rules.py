"""Lifecycle rules: which stage allows which move, limits of notes and reasons, parsing users and dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.domain.errors import UsageError
from bot.domain.records import ProposalRow
from bot.domain.usertext import user_text

ACTIONS = ("pause", "resume", "retire", "promote")


PAUSABLE = ("approved", "pilot", "production")


RETIRABLE = ("in_review", "changes_requested", "approved", "pilot", "production", "paused")


RUNNING = ("pilot", "production")  # stages that report value and may change autonomy


CHECKIN_VALUE_MAX = 200


NOTE_MAX = 1000


REASON_MAX = 2000


MAX_DELEGATION_DAYS = 366


REPEAT_WINDOW = timedelta(minutes=10)


def iso_week(at: datetime) -> str:
    """The ISO week a moment falls in, e.g. "2026-W47" (check-in and weekly job period)."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


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


def proposal_label(row: ProposalRow) -> str:
    """`#12 "Title"`, as the notices name a proposal (the title marked as user-written)."""
    return f'#{row.id} "{user_text(row.title)}"'


def proposal_people(row: ProposalRow, *extra: str) -> list[str]:
    """Owner, requester and extras, without duplicates or blanks."""
    out: list[str] = []
    for user in (row.owner, row.requester, *extra):
        if user and user not in out:
            out.append(user)
    return out
