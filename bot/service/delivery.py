"""Outbox delivery (DESIGN.md, Reliability).

Messages are queued with `enqueue` in the same unit of work as the change that causes
them; `deliver_due` hands due rows to the channel's `Sender` with retries and
exponential backoff. A channel without a sender keeps its rows pending (visible in
`govbot status`); a row that keeps failing is marked `failed` and stays visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.domain.records import OutboxRow
from bot.messages.message import Message
from bot.ports import Clock, Sender, UnitOfWork
from bot.service.people import named

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 15  # with the 1 h cap: about 7 hours of retries before giving up
BASE_DELAY_S = 5.0
MAX_DELAY_S = 3600.0
LEASE_S = 120.0


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds to wait before the next attempt, after `attempts` failed ones."""
    if retry_after is not None and retry_after >= 0:
        return min(float(retry_after), MAX_DELAY_S)
    return min(BASE_DELAY_S * 2.0 ** max(attempts - 1, 0), MAX_DELAY_S)


def _claim(uow: UnitOfWork, clock: Clock, channels: list[str], limit: int) -> list[OutboxRow]:
    now = clock.now()
    lease = now + timedelta(seconds=LEASE_S)
    claimed = []
    with uow:
        rows = uow.outbox.due(channels, now, limit)
    for row in rows:
        with uow:
            if not uow.outbox.claim(row.id, now, lease):
                continue
            uow.commit()
        claimed.append(row)
    return claimed


def _refs(uow: UnitOfWork, row: OutboxRow) -> tuple[bool, dict[str, Any] | None, dict[str, Any] | None, OutboxRow]:
    """(wait, thread_ref, update_ref, row with people's names). Refs are read just
    before sending, so a message threads on (or replaces) one delivered earlier in the
    same round. When the message it refers to is itself still pending, wait for it (the
    claim's lease retries us). Names are read at sending time too, so a message shows
    the names the platforms gave most recently."""
    with uow:
        row = _named(uow, row)
        thread_ref = uow.message_refs.get(row.thread_key) if row.thread_key else None
        update_ref = uow.message_refs.get(row.update_key) if row.update_key else None
        missing = {k for k, ref in ((row.thread_key, thread_ref), (row.update_key, update_ref)) if k and ref is None}
        proposal_id = (row.payload.get("meta") or {}).get("proposal_id")
        if missing and proposal_id is not None:
            for other in uow.outbox.pending_for_proposal(int(proposal_id)):
                if other.id < row.id and other.status == "pending" and other.ref_key in missing:
                    return True, None, None, row
    return False, thread_ref, update_ref, row


def _named(uow: UnitOfWork, row: OutboxRow) -> OutboxRow:
    try:
        message = named(uow, Message.from_json(row.payload))
    except Exception:  # a payload that is no message, or a failed read: send it as it is
        logger.debug("outbox %s: names not added", row.id, exc_info=True)
        return row
    return replace(row, payload=message.to_json())


def _sent(uow: UnitOfWork, clock: Clock, row: OutboxRow, ref: dict[str, Any] | None) -> None:
    with uow:
        if ref and row.ref_key:
            uow.message_refs.put(row.ref_key, row.channel, ref)
        uow.outbox.mark_sent(row.id, clock.now())
        uow.commit()


def _failed(uow: UnitOfWork, clock: Clock, row: OutboxRow, exc: BaseException, max_attempts: int) -> bool:
    attempts = row.attempts + 1
    retry_after = getattr(exc, "retry_after", None)
    permanent = bool(getattr(exc, "permanent", False))
    give_up = permanent or attempts >= max_attempts
    next_at = clock.now() + timedelta(seconds=backoff(attempts, retry_after))
    error = f"{type(exc).__name__}: {exc}"[:500]
    with uow:
        uow.outbox.mark_retry(row.id, error, next_at, give_up)
        uow.commit()
    if give_up:
        logger.warning(
            "outbox %s to %s via %s failed for good after %s attempt(s): %s",
            row.id,
            row.recipient,
            row.channel,
            attempts,
            error,
        )
    else:
        logger.info(
            "outbox %s via %s failed (attempt %s), retry at %s: %s",
            row.id,
            row.channel,
            attempts,
            next_at.isoformat(),
            error,
        )
    return give_up


async def deliver_due(
    uow: UnitOfWork,
    clock: Clock,
    senders: Mapping[str, Sender | None],
    limit: int = 50,
    max_attempts: int = MAX_ATTEMPTS,
) -> int:
    """Deliver due rows of the channels that have a sender; returns how many were sent.
    `uow` is used by this call alone (one transaction at a time)."""
    active = {c: s for c, s in senders.items() if s is not None}
    if not active:
        return 0
    claimed = await asyncio.to_thread(_claim, uow, clock, sorted(active), limit)
    sent = 0
    for row in claimed:
        wait, thread_ref, update_ref, row = await asyncio.to_thread(_refs, uow, row)
        if wait:
            logger.debug("outbox %s waits for the message it refers to", row.id)
            continue
        try:
            ref = await active[row.channel].send(row, thread_ref, update_ref)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any error means: try again later
            await asyncio.to_thread(_failed, uow, clock, row, exc, max_attempts)
            continue
        await asyncio.to_thread(_sent, uow, clock, row, ref if isinstance(ref, dict) else None)
        sent += 1
    return sent


async def run_outbox_loop(
    uow: UnitOfWork, clock: Clock, senders: Mapping[str, Sender | None], interval: float, stop: asyncio.Event
) -> None:
    """Deliver until `stop` is set; errors are logged and the loop keeps going."""
    while not stop.is_set():
        try:
            while await deliver_due(uow, clock, senders) > 0 and not stop.is_set():
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("outbox delivery round failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


__all__ = ["backoff", "deliver_due", "run_outbox_loop"]
