"""Lifecycle moves, stop-condition overrides, delegation, value check-ins and
autonomy steps (issue 5).

Each public function is one chat command. It runs in one unit of work together with
its audit event and the outbox messages it causes, and returns the neutral `Message`
the actor sees. Refusals are audited (in their own unit of work) and raised as
`bot.service.Refused`; malformed input raises `bot.service.UsageError`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import approvals, roles, views
from bot.domain import AUTONOMY, STOP_CONDITIONS, is_blank
from bot.messages import Message, Section
from bot.outbox import enqueue
from bot.ports import ApprovalRequestRow, Checkin, Delegation, ProposalRow
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


def _load(uow: Any, proposal_id: int) -> ProposalRow:
    """The proposal, locked for the change (NotFound propagates)."""
    return uow.proposals.get(proposal_id, for_update=True)


def _move(uow: Any, row: ProposalRow, to: str, now: datetime) -> str:
    before = row.stage
    row.stage = to
    row.stage_changed_at = now
    row.updated_at = now
    uow.proposals.update(row)
    return before


def _label(row: ProposalRow) -> str:
    return f'#{row.id} "{row.title}"'


def _people(row: ProposalRow, *extra: str) -> list[str]:
    """Owner, requester and extras, without duplicates or blanks."""
    out: list[str] = []
    for user in (row.owner, row.requester, *extra):
        if user and user not in out:
            out.append(user)
    return out


def _notice(kind: str, text: str, row: ProposalRow, **meta: Any) -> Message:
    return Message(kind=kind, text=text, meta={"proposal_id": row.id, **meta})


def _paused_from(uow: Any, proposal_id: int) -> str | None:
    """The stage the latest pause left (recorded in its audit detail)."""
    for event in reversed(uow.audit.for_proposal(proposal_id)):
        if event.action == "stage.paused":
            return event.detail.get("from")
    return None


# --------------------------------------------------------------------------- transitions


def transition(core: Any, actor: str, proposal_id: int, action: str, *, reason: str | None = None) -> Message:
    """Run `pause`, `resume`, `retire` or `promote` on a proposal.

    Owners and governance may do all four. `promote` (pilot -> production) needs a
    value check-in, or a governance actor giving `reason` (recorded as an override).
    `resume` returns to the stage the pause left.
    """
    if action not in ACTIONS:
        raise UsageError(f"action: unknown {action!r}; allowed: {', '.join(ACTIONS)}")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise UsageError(f"reason: at most {REASON_MAX} characters")
    now = core.clock.now()
    problem: tuple[str, str] | None = None
    with core.uow() as uow:
        row = _load(uow, proposal_id)
        governance = is_governance(core, uow, actor)
        if actor != row.owner and not governance:
            problem = ("not_owner", f"Only the workflow owner or governance may {action} {_label(row)}.")
        else:
            target, problem, detail = _plan(uow, row, action, governance, reason)
        if problem is None:
            before = _move(uow, row, target, now)
            detail = {"from": before, "to": target, "via": action, **detail}
            uow.audit.add(row.id, actor, f"stage.{target}", detail, now)
            text = f"{_label(row)} moved from {before} to {target} ({action} by <@{actor}>)."
            if target == "retired":
                open_requests = [r for r in uow.approvals.for_proposal(row.id) if r.status == "pending"]
                approvals.supersede(uow, core.settings, row, open_requests, f"retired by {views.mention(actor)}", now)
            if detail.get("override_reason"):
                text += f" Governance override: {detail['override_reason']}"
            _tell_people(core, uow, row, actor, _notice("lifecycle", text, row, stage=target), now)
            uow.commit()
    if problem is not None:
        raise refuse(core, actor, proposal_id, action, problem[1], code=problem[0])
    logger.info("proposal %s: %s -> %s by %s", proposal_id, before, target, actor)
    return _notice("lifecycle", text, row, stage=target)


def _tell_people(core: Any, uow: Any, row: ProposalRow, actor: str, message: Message, now: datetime) -> None:
    """The notice to the proposal's people other than `actor`, threaded under its
    classification message."""
    for user in _people(row):
        if user != actor:
            queue(core, uow, user, message, now, proposal=row, thread_key=f"classification:{row.id}")


def _plan(
    uow: Any, row: ProposalRow, action: str, governance: bool, reason: str | None
) -> tuple[str, tuple[str, str] | None, dict[str, Any]]:
    """Decide the target stage, or why the move is refused."""
    stage = row.stage
    detail: dict[str, Any] = {}
    if reason:
        detail["reason"] = reason
    if action == "pause":
        if stage not in PAUSABLE:
            return "", ("bad_stage", f"{_label(row)} is {stage}; only {', '.join(PAUSABLE)} can be paused."), detail
        return "paused", None, detail
    if action == "resume":
        if stage != "paused":
            return "", ("bad_stage", f"{_label(row)} is {stage}, not paused."), detail
        target = _paused_from(uow, row.id) or "pilot"
        if target == "approved" and not any(s.status == "open" for s in uow.stop_conditions.for_proposal(row.id)):
            # its stop conditions were lifted while it was paused: nothing blocks pilot any more
            detail["paused_from"] = "approved"
            target = "pilot"
        return target, None, detail
    if action == "retire":
        if stage not in RETIRABLE:
            return "", ("bad_stage", f"{_label(row)} is {stage}; it cannot be retired."), detail
        return "retired", None, detail
    # promote
    if stage != "pilot":
        return "", ("bad_stage", f"{_label(row)} is {stage}; only a pilot can be promoted to production."), detail
    latest = uow.checkins.latest(row.id)
    if latest is not None:
        detail["evidence"] = {"checkin_id": latest.id, "value": latest.value, "period": latest.period}
        return "production", None, detail
    if governance and reason:
        detail["override_reason"] = detail.pop("reason")
        return "production", None, detail
    if governance:
        return (
            "",
            (
                "no_evidence",
                f"{_label(row)} has no value check-in yet. Governance may promote it "
                "anyway with a written reason: promote <id> <reason>.",
            ),
            detail,
        )
    return (
        "",
        (
            "no_evidence",
            f"{_label(row)} needs value evidence before production: report a check-in "
            f"first (checkin {row.id} <value>), or ask governance to override.",
        ),
        detail,
    )


# --------------------------------------------------------------------------- stop conditions


def override_stop(core: Any, actor: str, proposal_id: int, code: str, reason: str) -> Message:
    """Governance lifts one open stop condition with a written reason.

    `prohibited_practice` (the policy's non-overridable codes) can never be lifted. An
    `approved` proposal with no open stop condition left moves to `pilot` at once.
    """
    code = (code or "").strip()
    if code not in STOP_CONDITIONS:
        raise UsageError(f"code: unknown stop condition {code!r}; allowed: {', '.join(STOP_CONDITIONS)}")
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("reason: an override needs a written reason: override <id> <code> <reason>")
    if len(reason) > REASON_MAX:
        raise UsageError(f"reason: at most {REASON_MAX} characters")
    now = core.clock.now()
    problem: tuple[str, str] | None = None
    moved = False
    with core.uow() as uow:
        row = _load(uow, proposal_id)
        conditions = {c.code: c for c in uow.stop_conditions.for_proposal(row.id)}
        if not is_governance(core, uow, actor):
            problem = ("not_governance", "Only governance may override a stop condition.")
        elif code in _non_overridable(core):
            problem = (
                "not_overridable",
                f"{code} can never be overridden: the proposal names a practice "
                "the EU AI Act prohibits. Change the proposal instead.",
            )
        elif code not in conditions or conditions[code].status == "resolved":
            open_codes = sorted(c for c, r in conditions.items() if r.status == "open")
            problem = (
                "not_open",
                f"{_label(row)} has no open stop condition {code}; open: {', '.join(open_codes) or 'none'}.",
            )
        elif conditions[code].status == "overridden":
            problem = (
                "already_overridden",
                f"{code} on {_label(row)} was already overridden by "
                f"<@{conditions[code].overridden_by}>: {conditions[code].override_reason}",
            )
        else:
            uow.stop_conditions.override(row.id, code, actor, reason, now)
            uow.audit.add(row.id, actor, "stop_condition.overridden", {"code": code, "reason": reason}, now)
            still_open = [c for c, r in conditions.items() if r.status == "open" and c != code]
            text = f"Governance (<@{actor}>) overrode {code} on {_label(row)}: {reason}"
            if row.stage == "approved" and not still_open:
                before = _move(uow, row, "pilot", now)
                uow.audit.add(
                    row.id, actor, "stage.pilot", {"from": before, "to": "pilot", "via": "override", "code": code}, now
                )
                moved = True
                text += f" All approvals are in and no stop condition remains: {_label(row)} is now in pilot."
            elif still_open:
                text += f" Still open: {', '.join(sorted(still_open))}."
            _tell_people(core, uow, row, actor, _notice("override", text, row, code=code), now)
            uow.commit()
    if problem is not None:
        raise refuse(core, actor, proposal_id, f"override {code}", problem[1], code=problem[0])
    logger.info("proposal %s: stop condition %s overridden by %s (moved to pilot: %s)", proposal_id, code, actor, moved)
    return _notice("override", text, row, code=code, stage=row.stage)


def _non_overridable(core: Any) -> tuple[str, ...]:
    codes = getattr(core.policy, "non_overridable_stop_conditions", None)
    if codes is None and isinstance(core.policy, dict):
        codes = core.policy.get("non_overridable_stop_conditions")
    out = tuple(codes or ())
    # The EU AI Act prohibition is not a policy choice: it stays non-overridable.
    return out if "prohibited_practice" in out else (*out, "prohibited_practice")


# --------------------------------------------------------------------------- delegation


def delegate(
    core: Any, actor: str, delegate_id: str, until: str | date | datetime, since: str | date | datetime | None = None
) -> Message:
    """An approver names a delegate who may decide for them from `since` (default now)
    until `until` (a date means the end of that day). The delegate is told."""
    who = parse_user(delegate_id, "delegate")
    if who == actor:
        raise UsageError("delegate: name someone other than yourself")
    now = core.clock.now()
    zone = local_zone(core)
    ends = parse_until(until, "until", zone)
    starts = now if since is None else _parse_since(since, zone)
    if ends <= starts:
        raise UsageError(f"until: must be after {starts.isoformat()}")
    if ends <= now:
        raise UsageError("until: must be in the future")
    if ends - starts > timedelta(days=MAX_DELEGATION_DAYS):
        raise UsageError(f"until: a delegation lasts at most {MAX_DELEGATION_DAYS} days")
    label = getattr(zone, "key", "UTC")
    span = f"{starts.astimezone(zone):%Y-%m-%d %H:%M} to {ends.astimezone(zone):%Y-%m-%d %H:%M} {label}"
    with core.uow() as uow:
        row = uow.delegations.add(Delegation(0, actor, who, starts, ends, actor, now))
        uow.audit.add(
            None,
            actor,
            "delegation.created",
            {"delegation_id": row.id, "delegate": who, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()},
            now,
        )
        for request in uow.approvals.pending_for(actor):
            uow.audit.add(
                request.proposal_id,
                actor,
                "delegation.created",
                {"delegation_id": row.id, "delegate": who, "request_id": request.id, "ends_at": ends.isoformat()},
                now,
            )
        told = Message(
            kind="delegation",
            text=f"<@{actor}> named you their delegate for approvals from {span}. "
            "You can decide on their pending approvals; they will be told.",
            meta={"delegation_id": row.id, "delegator": actor},
        )
        queue(core, uow, who, told, now, dedupe_key=f"delegation:{row.id}")
        uow.commit()
    logger.info("delegation %s: %s -> %s", row.id, actor, who)
    return Message(
        kind="delegation",
        text=f"<@{who}> may decide your approvals from {span}.",
        meta={"delegation_id": row.id, "delegate": who},
    )


def _parse_since(value: str | date | datetime, zone: tzinfo) -> datetime:
    """A start time: a datetime, or a date meaning the start of that day in `zone`."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        value = date.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    return parse_until(value, "since", zone)


# --------------------------------------------------------------------------- check-ins


def record_checkin(core: Any, actor: str, proposal_id: int, value: str, note: str | None = None) -> Message:
    """The owner (or governance) reports the latest value of a running workflow's metric."""
    value = (value or "").strip() if isinstance(value, str) else str(value)
    if is_blank(value):
        raise UsageError("value: give the latest value of the metric: checkin <id> <value>")
    if len(value) > CHECKIN_VALUE_MAX:
        raise UsageError(f"value: at most {CHECKIN_VALUE_MAX} characters")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise UsageError(f"note: at most {NOTE_MAX} characters")
    now = core.clock.now()
    period = iso_week(now)
    problem: tuple[str, str] | None = None
    with core.uow() as uow:
        row = _load(uow, proposal_id)
        if actor != row.owner and not is_governance(core, uow, actor):
            problem = ("not_owner", f"Only the workflow owner or governance may report value for {_label(row)}.")
        elif row.stage not in RUNNING:
            problem = ("bad_stage", f"{_label(row)} is {row.stage}; check-ins are for pilot or production workflows.")
        elif _repeat(uow.checkins.latest(row.id), actor, value, note, period, now):
            # a retried submission (platform retry, double click): keep the first one
            text = f"Check-in already recorded for {_label(row)} ({period}): {value}"
        else:
            saved = uow.checkins.add(Checkin(0, row.id, value, note, actor, period, now))
            uow.audit.add(
                row.id,
                actor,
                "checkin.recorded",
                {"checkin_id": saved.id, "value": value, "period": period, "note": note},
                now,
            )
            text = f"Check-in recorded for {_label(row)} ({period}): {value}"
            if actor != row.owner and row.owner:
                queue(
                    core,
                    uow,
                    row.owner,
                    _notice("checkin", text + f" (reported by <@{actor}>)", row),
                    now,
                    proposal=row,
                )
            uow.commit()
    if problem is not None:
        raise refuse(core, actor, proposal_id, "checkin", problem[1], code=problem[0])
    logger.info("proposal %s: check-in for %s by %s", proposal_id, period, actor)
    return _notice("checkin", text, row, period=period)


def _repeat(latest: Checkin | None, actor: str, value: str, note: str | None, period: str, now: datetime) -> bool:
    """The same report by the same person in the last few minutes counts once."""
    if latest is None:
        return False
    same = (latest.reported_by, latest.value, latest.note, latest.period) == (actor, value, note, period)
    return same and now - _as_utc(latest.created_at) <= REPEAT_WINDOW


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --------------------------------------------------------------------------- autonomy


def next_autonomy(current: str | None) -> str | None:
    """The next level along draft_only -> human_approves -> human_monitors -> autonomous."""
    index = AUTONOMY.index(current) if current in AUTONOMY else 0
    return AUTONOMY[index + 1] if index + 1 < len(AUTONOMY) else None


def request_autonomy_step(core: Any, actor: str, proposal_id: int) -> Message:
    """Ask to move a pilot/production workflow one autonomy step on.

    Opens approval requests (kind "autonomy") for the owner and, at high risk, for
    governance; H3's `decide` applies the step once every one is approved.
    """
    now = core.clock.now()
    problem: tuple[str, str] | None = None
    with core.uow() as uow:
        row = _load(uow, proposal_id)
        current = row.autonomy or row.answers.get("autonomy") or AUTONOMY[0]
        target = next_autonomy(current)
        pending = [r for r in uow.approvals.for_proposal(row.id) if r.kind == "autonomy" and r.status == "pending"]
        if actor != row.owner and not is_governance(core, uow, actor):
            problem = (
                "not_owner",
                f"Only the workflow owner or governance may ask for more autonomy for {_label(row)}.",
            )
        elif row.stage not in RUNNING:
            problem = (
                "bad_stage",
                f"{_label(row)} is {row.stage}; only pilot or production workflows can change autonomy.",
            )
        elif target is None:
            problem = ("at_max", f"{_label(row)} is already {current}; there is no further step.")
        elif pending:
            problem = (
                "pending",
                f"{_label(row)} already has an autonomy step to {pending[0].target} awaiting approval.",
            )
        else:
            # A declined earlier attempt at the same step must not count towards this one.
            earlier = [
                r for r in approvals.current(uow.approvals.for_proposal(row.id), "autonomy") if r.target == target
            ]
            for old in earlier:
                old.status = "superseded"
                uow.approvals.update(old)
            requests = _open_autonomy_requests(core, uow, row, target, now)
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
                },
                now,
            )
            latest = uow.classifications.latest(row.id)
            for request in requests:
                result = latest.result if latest else None
                card = autonomy_card(row, request, current, actor, result)
                approvals.queue_request(uow, core.settings, row, request, result, now, card=card)
            uow.commit()
    if problem is not None:
        raise refuse(core, actor, proposal_id, "autonomy", problem[1], code=problem[0])
    asked = " and ".join(r.role for r in requests)
    logger.info("proposal %s: autonomy step %s -> %s requested by %s", proposal_id, current, target, actor)
    return _notice(
        "autonomy",
        f"Asked {asked} to approve moving {_label(row)} from {current} to {target}.",
        row,
        request_ids=[r.id for r in requests],
        target=target,
    )


def _open_autonomy_requests(
    core: Any, uow: Any, row: ProposalRow, target: str, now: datetime
) -> list[ApprovalRequestRow]:
    members = governance_members(core, uow)
    asked = ["owner"] + (["governance"] if row.risk_level == "high" else [])
    out: list[ApprovalRequestRow] = []
    for role in asked:
        note = None
        if role == "owner" and row.owner:
            approver = row.owner
        elif members:
            approver = members[0]
            if role == "owner":
                note = "no owner named; routed to governance"
        else:
            raise UsageError(
                "governance: nobody holds the governance role; set GOVBOT_GOVERNANCE or "
                "`roles set governance <user>` first"
            )
        out.append(
            uow.approvals.add(
                ApprovalRequestRow(
                    id=0,
                    proposal_id=row.id,
                    role=role,
                    department=None,
                    approver=approver,
                    kind="autonomy",
                    target=target,
                    round=row.revision,
                    status="pending",
                    note=note,
                    created_at=now,
                )
            )
        )
    return out


def autonomy_card(
    row: ProposalRow, request: ApprovalRequestRow, current: str, asked_by: str, result: dict[str, Any] | None = None
) -> Message:
    """The approval message for one autonomy step, with the approval buttons."""
    card = views.approval_request_card(row, request, result)
    line = f"{views.mention(asked_by)} asks to remove one checkpoint: {current} -> {request.target}."
    return Message(
        card.kind,
        card.text,
        card.sections + (Section("Checkpoint before autonomy", line),),
        card.buttons,
        card.image_png,
        {**card.meta, "kind": "autonomy", "target": request.target},
    )
