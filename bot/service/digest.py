"""The weekly status digest: draft, store, review, post.

Facts come from SQL (`uow.facts.digest`); the text from the LLM behind the
`bot.ports.Drafter` (None without OPENAI_API_KEY: the template writer writes it and
says so), checked against the facts by `bot.service.digest_writer`. Every digest is one
`digests` row. With review on (`GOVBOT_DIGEST_REVIEW`, the default) the draft goes to
the governance lead(s) with `digest.post` / `digest.regenerate` buttons; posting queues
it in the outbox for the configured Slack channel and Teams conversation.

Digest channels: `GOVBOT_DIGEST_SLACK_CHANNEL` / `GOVBOT_DIGEST_TEAMS_CONVERSATION`, or
`digest here` typed in a Slack channel or Teams conversation, which stores the
conversation id in the key-value table (`digest.channel.slack` / `digest.channel.teams`)
and wins over the environment.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import NotFound, Refused, UsageError
from bot.domain.portfolio import portfolio_config
from bot.domain.records import DigestRow
from bot.domain.roles import OPERATOR, SYSTEM
from bot.messages.digest import digest_message
from bot.messages.message import Message
from bot.ports import Clock, Drafter, UnitOfWork
from bot.service.digest_writer import load_prompt, write_digest
from bot.service.notify import channel_for, enqueue
from bot.service.roles import governance_members, is_governance
from bot.settings import Settings

logger = logging.getLogger(__name__)

PLATFORMS = ("slack", "teams")
SETTING_KEY = "digest.channel.{platform}"
SYSTEM_ACTORS = (None, OPERATOR, SYSTEM)  # the command line and the scheduler act for the operator
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --------------------------------------------------------------------------- drafting


def draft_digest(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    drafter: Drafter | None,
    now: datetime | None = None,
    actor: str | None = None,
    *,
    period: tuple[datetime, datetime] | None = None,
) -> DigestRow:
    """Draft and store one digest for `period` (default: the 7 days up to `now`).

    The facts are read in one unit of work, the LLM is called outside any
    transaction, and the row is stored (status "draft") with its audit event.
    """
    now = now or clock.now()
    start, end = period or (now - timedelta(days=7), now)
    prompt = load_prompt()
    with uow:
        facts = uow.facts.digest(start, end, now, portfolio_config(settings))
    result = write_digest(facts, drafter, prompt)
    row = DigestRow(
        id=0,
        period_start=start,
        period_end=end,
        facts=facts,
        prompt_name=prompt.name,
        prompt_version=prompt.version,
        model=result.model,
        text=result.text,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        latency_ms=result.latency_ms,
        status="draft",
        fallback_reason=result.fallback_reason,
        posted_to=[],
        created_at=now,
    )
    with uow:
        row = uow.digests.add(row)
        uow.audit.add(
            None,
            actor or "govbot",
            "digest.drafted",
            {
                "digest_id": row.id,
                "model": row.model,
                "fallback_reason": row.fallback_reason,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
            },
            now,
        )
        uow.commit()
    logger.info("digest %s drafted by %s (fallback: %s)", row.id, row.model, bool(row.fallback_reason))
    return row


# --------------------------------------------------------------------------- review and posting


def _review_key(digest_id: int, user: str) -> str:
    return f"digest:{digest_id}:review:{user}"


def send_for_review(
    uow: UnitOfWork, clock: Clock, settings: Settings, row: DigestRow, *, skip: str | None = None
) -> DigestRow:
    """Queue the draft to every governance member (but `skip`) and mark it in review."""
    now = clock.now()
    message = digest_message(row, review=True)
    with uow:
        row = uow.digests.get(row.id)
        members = governance_members(uow, settings)
        for user in members:
            if user == skip:
                continue
            key = _review_key(row.id, user)
            enqueue(uow, channel_for(uow, settings, user, None), user, message, now, ref_key=key, dedupe_key=key)
        row.status = "in_review"
        uow.digests.update(row)
        uow.audit.add(None, "govbot", "digest.review_requested", {"digest_id": row.id, "to": members}, now)
        uow.commit()
    return row


def destinations(uow: UnitOfWork, settings: Settings) -> list[tuple[str, str]]:
    """(platform, channel or conversation id) the digest is posted to (read in the open `uow`)."""
    configured = {"slack": settings.digest_slack_channel, "teams": settings.digest_teams_conversation}
    out = []
    for platform in PLATFORMS:
        target = uow.keyvalues.get(SETTING_KEY.format(platform=platform)) or configured[platform]
        if target:
            out.append((platform, target))
    return out


def _require_governance(uow: UnitOfWork, settings: Settings, actor: str | None, what: str, now: datetime) -> None:
    if actor is None or actor in SYSTEM_ACTORS or is_governance(uow, actor, settings):
        return
    uow.audit.add(None, actor, "digest.refused", {"attempt": what}, now)
    uow.commit()
    raise Refused(f"Only governance may {what}.", code="not_governance")


def _get(uow: UnitOfWork, digest_id: int | str) -> DigestRow:
    try:
        return uow.digests.get(int(digest_id))
    except (TypeError, ValueError):
        raise UsageError(f"digest id: {digest_id!r} is not a number") from None
    except NotFound:
        raise UsageError(f"digest id: there is no digest {digest_id}") from None


def post_digest(uow: UnitOfWork, clock: Clock, settings: Settings, actor: str | None, digest_id: int | str) -> Message:
    """Queue the digest to the configured Slack channel and Teams conversation and
    record where it went (governance, the CLI or the scheduler only). Posting twice
    posts once."""
    now = clock.now()
    with uow:
        _require_governance(uow, settings, actor, "post the digest", now)
        row = _get(uow, digest_id)
        if row.status == "posted":
            return Message(
                "notice",
                f"Digest #{row.id} was already posted to {', '.join(row.posted_to)}.",
                meta={"digest_id": row.id},
            )
        targets = destinations(uow, settings)
        if not targets:
            return Message(
                "notice",
                "No digest channel is configured: type `digest here` in the Slack channel "
                "or Teams conversation that should receive it, or set GOVBOT_DIGEST_SLACK_CHANNEL / "
                "GOVBOT_DIGEST_TEAMS_CONVERSATION.",
                meta={"digest_id": row.id},
            )
        message = digest_message(row)
        for platform, target in targets:
            enqueue(uow, platform, target, message, now, dedupe_key=f"digest:{row.id}:post:{platform}:{target}")
        row.posted_to = [f"{platform}:{target}" for platform, target in targets]
        row.status = "posted"
        uow.digests.update(row)
        by = "the command line" if actor == OPERATOR else "govbot" if actor in SYSTEM_ACTORS else f"<@{actor}>"
        done = digest_message(row, note=f"Posted by {by} to {', '.join(row.posted_to)}.")
        for user in governance_members(uow, settings):  # the review copies lose their buttons
            key = _review_key(row.id, user)
            enqueue(
                uow,
                channel_for(uow, settings, user, None),
                user,
                done,
                now,
                update_key=key,
                dedupe_key=f"{key}:posted",
            )
        uow.audit.add(None, actor or "govbot", "digest.posted", {"digest_id": row.id, "to": row.posted_to}, now)
        uow.commit()
    logger.info("digest %s queued for %s", row.id, row.posted_to)
    return Message(
        "notice", f"Digest #{row.id} is on its way to {', '.join(row.posted_to)}.", meta={"digest_id": row.id}
    )


def regenerate_digest(
    uow: UnitOfWork, clock: Clock, settings: Settings, drafter: Drafter | None, actor: str, digest_id: int | str
) -> Message:
    """Governance only: draft the same period again; the new draft goes for review and
    is returned (with its buttons) to the actor."""
    with uow:
        _require_governance(uow, settings, actor, "regenerate the digest", clock.now())
        old = _get(uow, digest_id)
    row = draft_digest(uow, clock, settings, drafter, clock.now(), actor, period=(old.period_start, old.period_end))
    row = send_for_review(uow, clock, settings, row, skip=actor)
    if old.status != "posted":  # the old review copies lose their buttons
        now = clock.now()
        replaced = digest_message(old, note=f"Replaced by digest #{row.id} (regenerated by <@{actor}>).")
        with uow:
            for user in governance_members(uow, settings):
                key = _review_key(old.id, user)
                enqueue(
                    uow,
                    channel_for(uow, settings, user, None),
                    user,
                    replaced,
                    now,
                    update_key=key,
                    dedupe_key=f"{key}:replaced",
                )
            uow.audit.add(None, actor, "digest.regenerated", {"digest_id": old.id, "new_digest_id": row.id}, now)
            uow.commit()
    return digest_message(row, review=True, note=f"Regenerated from digest #{old.id}.")


# --------------------------------------------------------------------------- chat command


def digest_command(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    drafter: Drafter | None,
    actor: str,
    channel: str,
    args: list[str] | tuple[str, ...] = (),
    conversation_id: str | None = None,
) -> Message:
    """The chat command `digest [here|post ID|regenerate ID]`.

    - `digest`: governance gets a fresh draft of the last 7 days with Post /
      Regenerate buttons; anyone else sees the latest posted digest.
    - `digest here`: governance registers this conversation as the digest channel of
      its platform. The handler passes the Slack channel id / Teams conversation id as
      `conversation_id` (or it may be typed: `digest here C123`).
    - `digest post ID` / `digest regenerate ID`: the buttons, typed (console).
    Raises UsageError for bad arguments and Refused when governance is required.
    """
    words = [a for a in args if a]
    if not words:
        return _show(uow, clock, settings, drafter, actor)
    verb, rest = words[0].lower(), words[1:]
    if verb == "here":
        return register_here(uow, clock, settings, actor, channel, conversation_id or (rest[0] if rest else None))
    if verb in ("post", "regenerate"):
        if len(rest) != 1:
            raise UsageError(f"digest {verb}: give the digest id, e.g. `digest {verb} 3`")
        if verb == "post":
            return post_digest(uow, clock, settings, actor, rest[0])
        return regenerate_digest(uow, clock, settings, drafter, actor, rest[0])
    raise UsageError(
        f"digest: unknown option {verb!r}; allowed: `digest`, `digest here`, `digest post ID`, `digest regenerate ID`"
    )


def _show(uow: UnitOfWork, clock: Clock, settings: Settings, drafter: Drafter | None, actor: str) -> Message:
    with uow:
        governance = is_governance(uow, actor, settings)
        latest = uow.digests.latest()
    if governance:
        row = draft_digest(uow, clock, settings, drafter, clock.now(), actor)
        row = send_for_review(uow, clock, settings, row, skip=actor)
        return digest_message(row, review=True)
    if latest is None or latest.status != "posted":
        return Message("notice", "No digest has been posted yet; governance drafts it every week.")
    return digest_message(latest)


def register_here(
    uow: UnitOfWork, clock: Clock, settings: Settings, actor: str, channel: str, conversation_id: str | None
) -> Message:
    """Governance only: post future digests in this Slack channel / Teams conversation."""
    if channel not in PLATFORMS:
        raise UsageError(f"digest here: works in a Slack channel or a Teams conversation, not in {channel!r}")
    if not conversation_id or not conversation_id.strip():
        raise UsageError("digest here: the conversation id is missing; type it in a Slack channel or Teams chat")
    target = conversation_id.strip()[:500]
    now = clock.now()
    with uow:
        _require_governance(uow, settings, actor, "choose the digest channel", now)
        uow.keyvalues.put(SETTING_KEY.format(platform=channel), target)
        uow.audit.add(None, actor, "digest.channel_set", {"platform": channel, "conversation": target}, now)
        uow.commit()
    return Message(
        "notice",
        f"From now on the weekly digest is posted here ({channel} {target}).",
        meta={"platform": channel, "conversation": target},
    )


# --------------------------------------------------------------------------- schedule


def scheduled_period(settings: Settings, now: datetime) -> tuple[datetime, datetime] | None:
    """(start, end) of the digest due this week: it ends at this ISO week's configured
    day and local time (GOVBOT_DIGEST_DAY / _TIME / GOVBOT_TIMEZONE) and spans 7 days.
    None while that moment has not come yet."""
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(settings.timezone or "UTC")
    except Exception:
        raise UsageError(f"GOVBOT_TIMEZONE: unknown time zone {settings.timezone!r}") from None
    day = (settings.digest_day or "mon").strip().lower()[:3]
    if day not in WEEKDAYS:
        raise UsageError(f"GOVBOT_DIGEST_DAY: {settings.digest_day!r}; allowed: {', '.join(WEEKDAYS)}")
    try:
        hour, minute = (int(x) for x in (settings.digest_time or "09:00").split(":", 1))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise UsageError(f"GOVBOT_DIGEST_TIME: {settings.digest_time!r}; use HH:MM, e.g. 09:00") from None
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    due_day = monday + timedelta(days=WEEKDAYS.index(day))
    due = datetime(due_day.year, due_day.month, due_day.day, hour, minute, tzinfo=zone)
    if local < due:
        return None
    end = due.astimezone(now.tzinfo)
    return end - timedelta(days=7), end


def weekly_job(
    uow: UnitOfWork, clock: Clock, settings: Settings, drafter: Drafter | None, now: datetime
) -> dict[str, Any] | None:
    """Draft this week's digest (the jobs runner claims the week first) and send it for
    review, or post it at once when review is off. Nothing before the configured time."""
    period = scheduled_period(settings, now)
    if period is None:
        return None
    row = draft_digest(uow, clock, settings, drafter, now, "govbot", period=period)
    posted: str | None
    if settings.digest_review:
        row = send_for_review(uow, clock, settings, row)
        posted = None
    else:
        posted = post_digest(uow, clock, settings, "govbot", row.id).text
    return {
        "digest_id": row.id,
        "model": row.model,
        "fallback_reason": row.fallback_reason,
        "review": bool(settings.digest_review),
        "posted": posted,
    }


__all__ = [
    "digest_command",
    "draft_digest",
    "post_digest",
    "regenerate_digest",
    "register_here",
    "scheduled_period",
    "send_for_review",
    "weekly_job",
]
