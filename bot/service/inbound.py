"""Acknowledged means done: actions recorded before the platform is told, processed
from the record, resumed after a restart.

A channel calls `receive` before it acknowledges an approval click (Slack's `ack()`,
the answer to a Teams invoke): one row in `inbound_actions`, claimed by the process
that received it (`owner`, e.g. "host:pid:token") for a lease. It then calls `process`,
which records the decision (idempotent per request: a second run returns the existing
decision) and marks the row `done`. A process that died in between leaves the row
`received`; `resume_due` hands it to another process once its lease ran out or its
owner is known to be gone, and `process(..., resumed=True)` finishes it and tells the
person through the outbox, since nobody waits for the answer any more. An action that
cannot be recorded (an unknown request, too many failed attempts) is `failed` and the
person is told; nothing is swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import NotFound, Refused, UsageError
from bot.domain.records import InboundAction
from bot.messages import compose
from bot.ports import Clock, UnitOfWork
from bot.service.notify import enqueue
from bot.service.results import DecisionOutcome

logger = logging.getLogger(__name__)

RECEIVED, DONE, FAILED = "received", "done", "failed"
STATUSES = (RECEIVED, DONE, FAILED)
PLATFORMS = ("slack", "teams")
KINDS = ("decide",)
DECISIONS = ("approve", "reject", "request_changes")
LEASE = timedelta(seconds=30)  # a row's owner may work on it this long before another process takes it over
MAX_ATTEMPTS = 5
RETRY_AFTER_S = (5, 15, 60, 300)  # wait before the 2nd, 3rd... attempt after a failure on our side
KEY_MAX = 200
TEXT_MAX = 3000  # a comment or an override reason
REF_MAX = 1000  # each value of the clicked message's reference (a Teams conversation id can be long)
PERMANENT = (UsageError, NotFound, Refused)  # phrased for the person; trying again changes nothing

Decide = Callable[..., DecisionOutcome]  # `Govbot.decide`
Orphaned = Callable[[str | None], bool]  # is the process that holds a row known to be gone?


def check_payload(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The minimal payload of an action of `kind`, or UsageError naming the field and
    what is allowed. `decide`: request_id (a positive whole number), decision (approve,
    reject, request_changes), comment and override_reason (text or null), in_place (the
    clicked message's reference, a small object of text values, or null)."""
    if kind not in KINDS:
        raise UsageError(f"kind: {kind[:40]!r} is not an action govbot records; allowed: {', '.join(KINDS)}")
    request_id = payload.get("request_id")
    if isinstance(request_id, bool) or not isinstance(request_id, int) or not 0 < request_id < 2**31:
        raise UsageError("request_id: a positive whole number (the approval request id) is required")
    decision = payload.get("decision")
    if decision not in DECISIONS:
        raise UsageError(f"decision: must be one of {', '.join(DECISIONS)}")
    clean: dict[str, Any] = {"request_id": request_id, "decision": decision}
    for name in ("comment", "override_reason"):
        value = payload.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > TEXT_MAX:
            raise UsageError(f"{name}: text of at most {TEXT_MAX} characters, or nothing")
        clean[name] = value
    ref = payload.get("in_place")
    if ref is not None:
        if (
            not isinstance(ref, dict)
            or len(ref) > 4
            or not all(isinstance(k, str) and isinstance(v, str) and len(v) <= REF_MAX for k, v in ref.items())
        ):
            raise UsageError("in_place: the clicked message's reference, at most 4 text values, or nothing")
        clean["in_place"] = dict(ref)
    return clean


Incoming = tuple[str, str, str, str, dict[str, Any]]  # platform, key, actor, kind, payload


def receive(
    uow: UnitOfWork,
    clock: Clock,
    platform: str,
    key: str,
    actor: str,
    kind: str,
    payload: dict[str, Any],
    owner: str,
) -> InboundAction | None:
    """Record one action, claimed by `owner`, and commit; None when this platform key
    was recorded before (a repeated delivery: whoever holds that row finishes it).
    Raises UsageError naming a bad field; nothing is written then."""
    result = receive_many(uow, clock, [(platform, key, actor, kind, payload)], owner)[0]
    if isinstance(result, UsageError):
        raise result
    return result


def receive_many(
    uow: UnitOfWork, clock: Clock, items: Sequence[Incoming], owner: str
) -> list[InboundAction | None | UsageError]:
    """`receive` for several actions in one transaction (a burst of clicks is one
    commit): per item the recorded row, None for a repeated delivery, or the UsageError
    naming its bad field (that item alone is not written)."""
    results: list[InboundAction | None | UsageError] = []
    valid: list[tuple[int, str, str, str, str, dict[str, Any]]] = []
    for n, (platform, key, actor, kind, payload) in enumerate(items):
        try:
            valid.append((n, platform, key, actor, kind, _checked(platform, key, actor, kind, payload)))
            results.append(None)
        except UsageError as exc:
            results.append(exc)
    if not valid:
        return results
    now = clock.now()
    with uow:
        for n, platform, key, actor, kind, clean in valid:
            action, new = uow.inbound.add(platform, key, actor, kind, clean, owner, now, now + LEASE)
            if new:
                results[n] = action
            else:
                logger.info("inbound %s action %s received again; it is recorded as #%s", platform, kind, action.id)
        uow.commit()
    return results


def _checked(platform: str, key: str, actor: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if platform not in PLATFORMS:
        raise UsageError(f"platform: {platform[:40]!r} is not one of {', '.join(PLATFORMS)}")
    if not key or len(key) > KEY_MAX:
        raise UsageError(f"key: the platform's idempotency key, 1 to {KEY_MAX} characters")
    if not actor or len(actor) > KEY_MAX:
        raise UsageError(f"actor: the user id of who acted, 1 to {KEY_MAX} characters")
    return check_payload(kind, payload)


def process(
    uow: UnitOfWork,
    clock: Clock,
    action_id: int,
    owner: str,
    decide: Decide,
    *,
    resumed: bool = False,
) -> DecisionOutcome | None:
    """Carry out the recorded action held by `owner` and mark it done (or failed, or
    to be tried again); None when it is no longer `owner`'s to do. A live action
    replaces the clicked message itself (its `in_place`) and its channel tells the
    person; a `resumed` one lets the outbox update every copy of the card and tells
    the person through the outbox. Errors are re-raised for the caller to report."""
    with uow:
        action = uow.inbound.get(action_id)
    if action.status != RECEIVED or action.claimed_by != owner:
        return None
    p = action.payload
    in_place = None if resumed else p.get("in_place")
    try:
        outcome = decide(
            action.actor,
            int(p["request_id"]),
            str(p["decision"]),
            p.get("comment"),
            p.get("override_reason"),
            in_place=in_place,
        )
    except PERMANENT as exc:
        why = str(getattr(exc, "message", None) or exc)
        _settle(uow, clock, action, owner, FAILED, why, tell=_failed_text(action, why) if resumed else None)
        raise  # a live action's channel tells the person at once
    except Exception as exc:
        _after_error(uow, clock, action, owner, exc)
        raise
    told = f"Your {_verb(action)} on request {p['request_id']} reached me before a restart; {outcome.notice}"
    try:
        _settle(uow, clock, action, owner, DONE, None, tell=told if resumed else None)
    except Exception:  # the decision stands; the lease brings the row back and the next run finds it decided
        logger.warning("inbound action %s: decided, but could not be marked done", action.id, exc_info=True)
    return outcome


def resume_due(
    uow: UnitOfWork, clock: Clock, owner: str, orphaned: Orphaned, skip: Collection[int] = (), limit: int = 50
) -> list[int]:
    """Take over the unfinished actions whose lease ran out or whose owner is gone
    (`orphaned`), except those in `skip` (already running here); return their ids for
    `process(..., resumed=True)`. One that was tried MAX_ATTEMPTS times is failed
    instead, and the person told."""
    now = clock.now()
    taken: list[int] = []
    given_up: list[InboundAction] = []
    with uow:
        for action in uow.inbound.unfinished(limit):
            if action.id in skip or (action.claimed_by == owner and not _expired(action, now)):
                continue  # running here, or about to be
            if not (_expired(action, now) or orphaned(action.claimed_by)):
                continue
            if not uow.inbound.claim(action.id, action.claimed_by, owner, now, now + LEASE):
                continue
            if action.attempts >= MAX_ATTEMPTS:
                given_up.append(action)
            else:
                taken.append(action.id)
        uow.commit()
    for action in given_up:
        why = f"it failed {action.attempts} times ({action.last_error or 'the server stopped while recording it'})"
        _settle(uow, clock, action, owner, FAILED, why, tell=_failed_text(action, why))
    if taken:
        logger.warning("resuming %d acknowledged action(s) left unfinished: %s", len(taken), taken)
    return taken


def renew(uow: UnitOfWork, clock: Clock, action_ids: Sequence[int], owner: str) -> None:
    """Extend the lease of the actions `owner` is still working on."""
    if not action_ids:
        return
    with uow:
        uow.inbound.renew(action_ids, owner, clock.now() + LEASE)
        uow.commit()


def report(uow: UnitOfWork, status: str | None = None, limit: int = 50) -> dict[str, Any]:
    """`govbot actions`: {"counts": {status: n}, "actions": [newest first]}; UsageError
    for an unknown status."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"status: must be one of {', '.join(STATUSES)}")
    with uow:
        counts = uow.inbound.counts()
        rows = uow.inbound.recent(status, limit)
    return {
        "counts": {s: counts.get(s, 0) for s in STATUSES},
        "actions": [
            {
                "id": a.id,
                "platform": a.platform,
                "actor": a.actor,
                "kind": a.kind,
                "request_id": a.payload.get("request_id"),
                "decision": a.payload.get("decision"),
                "status": a.status,
                "attempts": a.attempts,
                "last_error": a.last_error,
                "received_at": a.received_at.isoformat(),
                "finished_at": a.finished_at.isoformat() if a.finished_at else None,
            }
            for a in rows
        ],
    }


# --------------------------------------------------------------------------- helpers


def _expired(action: InboundAction, now: datetime) -> bool:
    return action.lease_until is None or action.lease_until <= now


def _verb(action: InboundAction) -> str:
    return {"approve": "approval", "reject": "rejection", "request_changes": "request for changes"}.get(
        str(action.payload.get("decision")), "decision"
    )


def _failed_text(action: InboundAction, why: str) -> str:
    return (
        f"Sorry, your {_verb(action)} on request {action.payload.get('request_id')} was not recorded: {why}. "
        "Nothing was decided; please try again."
    )


def _after_error(uow: UnitOfWork, clock: Clock, action: InboundAction, owner: str, exc: Exception) -> None:
    """A failure on our side: try again later, or give up after MAX_ATTEMPTS and say so."""
    error = f"{type(exc).__name__}: {str(exc)[:300]}"
    if action.attempts >= MAX_ATTEMPTS:
        why = f"it failed {action.attempts} times ({type(exc).__name__})"
        _settle(uow, clock, action, owner, FAILED, error, tell=_failed_text(action, why))
        return
    now = clock.now()
    wait = RETRY_AFTER_S[min(action.attempts, len(RETRY_AFTER_S)) - 1]
    try:
        with uow:
            uow.inbound.retry_later(action.id, owner, error, now, now + timedelta(seconds=wait))
            uow.commit()
    except Exception:  # the database itself may be what failed: the lease brings the action back
        logger.warning("inbound action %s: could not note the failure; its lease will bring it back", action.id)


def _settle(
    uow: UnitOfWork,
    clock: Clock,
    action: InboundAction,
    owner: str,
    status: str,
    error: str | None,
    *,
    tell: str | None,
) -> None:
    """Mark the action `status` and, in the same unit of work, queue `tell` to the person."""
    now = clock.now()
    with uow:
        if not uow.inbound.finish(action.id, owner, status, error, now):
            return  # taken over meanwhile: its new owner settles it
        if tell is not None:
            message = compose.notice("notice", tell)
            enqueue(uow, action.platform, action.actor, message, now, dedupe_key=f"inbound:{action.id}:{status}")
        uow.commit()
    if status == FAILED:
        logger.warning("inbound %s action %s by %s failed: %s", action.platform, action.id, action.actor, error)
