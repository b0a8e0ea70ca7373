"""Lifecycle moves, stop-condition overrides and delegation; value check-ins and
autonomy steps are in `bot.service.checkins`, the stage rules in
`bot.domain.lifecycle_rules`.

Each public function is one chat command. It runs in one unit of work together with
its audit event and the outbox messages it causes, and returns the neutral `Message`
the actor sees. Refusals are audited (in their own unit of work) and raised as
`bot.domain.errors.Refused`; malformed input raises `bot.domain.errors.UsageError`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import gates
from bot.domain.errors import Refused, UsageError
from bot.domain.incidents import blocking_line, open_ids
from bot.domain.lifecycle_rules import (
    ACTIONS,
    MAX_DELEGATION_DAYS,
    PAUSABLE,
    REASON_MAX,
    RETIRABLE,
    parse_delegate,
    parse_until,
    proposal_label,
    proposal_people,
)
from bot.domain.policy import Policy
from bot.domain.proposal import STOP_CONDITIONS
from bot.domain.records import Delegation, ProposalRow
from bot.messages import compose
from bot.messages.message import Message, plain, user_text
from bot.ports import Clock, PolicySource, UnitOfWork
from bot.service import approvals
from bot.service import gates as gate_service
from bot.service.notify import proposal_notice, queue
from bot.service.publish import publish
from bot.service.roles import is_governance
from bot.settings import Settings

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- transitions


def transition(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    proposal_id: int,
    action: str,
    *,
    reason: str | None = None,
    policy: PolicySource | None = None,
) -> Message:
    """Run `pause`, `resume`, `retire` or `promote` on a proposal.

    Owners and governance may do all four. `promote` (pilot -> production) passes the
    production gate (`bot.domain.gates`: readiness 6/6, the latest check-in at or
    beyond the target, no open incident, the regulatory questions answered, the
    policy's `min_pilot_days`); a refusal names every unmet condition. For `promote`,
    `reason` is a governance override of readiness and value (audited as
    `gate.overridden`); the other conditions have no override. `resume` returns to the
    stage the pause left. While the proposal has open incidents, `resume` is refused
    naming them (no override), and `promote` names them with code `open_incident`.
    """
    if action not in ACTIONS:
        raise UsageError(f"action: unknown {action!r}; allowed: {', '.join(ACTIONS)}")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise UsageError(f"reason: at most {REASON_MAX} characters")
    now = clock.now()
    problem: tuple[str, str] | None = None
    detail: dict[str, Any] = {}
    with uow:
        row = load_proposal(uow, proposal_id)
        governance = is_governance(uow, actor, settings)
        if actor != row.owner and not governance:
            problem = ("not_owner", f"Only the workflow owner or governance may {action} {proposal_label(row)}.")
        elif action == "promote":
            min_days = policy.current().min_pilot_days if policy is not None else 0
            target, problem, detail = _promote(uow, row, actor, governance, reason, now, min_days)
        else:
            target, problem, detail = _plan(uow, row, action, governance, reason)
        if problem is None:
            before = move_stage(uow, row, target, now)
            detail = {"from": before, "to": target, "via": action, **detail}
            uow.audit.add(row.id, actor, f"stage.{target}", detail, now)
            text = f"{proposal_label(row)} moved from {before} to {target} ({action} by <@{actor}>)."
            if target == "retired":
                open_requests = [r for r in uow.approvals.for_proposal(row.id) if r.status == "pending"]
                closed = approvals.supersede(uow, open_requests, f"retired by {compose.mention(actor)}", now)
                publish(uow, settings, row, closed, now)
            if detail.get("override_reason"):
                overridden = ", ".join(u["code"] for u in detail.get("unmet", []))
                text += f" Governance override of {overridden}: {user_text(detail['override_reason'])}"
                uow.audit.add(
                    row.id,
                    actor,
                    "gate.overridden",
                    {"gate": "production", "unmet": detail["unmet"], "reason": detail["override_reason"]},
                    now,
                )
            _tell_people(uow, settings, row, actor, proposal_notice("lifecycle", text, row, stage=target), now)
            uow.commit()
    if problem is not None:
        extra = {"unmet": [u["code"] for u in detail.get("unmet", [])]} if action == "promote" and detail else None
        raise refuse(uow, clock, actor, proposal_id, action, problem[1], code=problem[0], extra=extra)
    logger.info("proposal %s: %s -> %s by %s", proposal_id, before, target, actor)
    return proposal_notice("lifecycle", text, row, stage=target)


def _tell_people(
    uow: UnitOfWork, settings: Settings, row: ProposalRow, actor: str, message: Message, now: datetime
) -> None:
    """The notice to the proposal's people other than `actor`, threaded under its
    classification message."""
    for user in proposal_people(row):
        if user != actor:
            queue(uow, settings, user, message, now, proposal=row, thread_key=f"classification:{row.id}")


def _plan(
    uow: UnitOfWork, row: ProposalRow, action: str, governance: bool, reason: str | None
) -> tuple[str, tuple[str, str] | None, dict[str, Any]]:
    """Decide the target stage, or why the move is refused."""
    stage = row.stage
    detail: dict[str, Any] = {}
    if reason:
        detail["reason"] = reason
    if action == "pause":
        if stage not in PAUSABLE:
            return (
                "",
                ("bad_stage", f"{proposal_label(row)} is {stage}; only {', '.join(PAUSABLE)} can be paused."),
                detail,
            )
        return "paused", None, detail
    if action == "resume":
        if stage != "paused":
            return "", ("bad_stage", f"{proposal_label(row)} is {stage}, not paused."), detail
        blocking = open_ids(uow.incidents.for_proposal(row.id))
        if blocking:
            return "", ("open_incident", blocking_line(blocking, proposal_label(row), "resume")), detail
        target = paused_from(uow, row.id) or "pilot"
        if any(r.kind == "proposal" and r.status == "pending" for r in uow.approvals.for_proposal(row.id)):
            # a policy applied while it was paused asks for new approvals: back to review
            detail["paused_from"] = target
            target = "in_review"
        elif target == "approved" and not any(s.status == "open" for s in uow.stop_conditions.for_proposal(row.id)):
            # its stop conditions were lifted while it was paused: nothing blocks pilot any more
            detail["paused_from"] = "approved"
            target = "pilot"
        return target, None, detail
    if action == "retire":
        if stage not in RETIRABLE:
            return "", ("bad_stage", f"{proposal_label(row)} is {stage}; it cannot be retired."), detail
        return "retired", None, detail
    raise UsageError(f"action: unknown {action!r}; allowed: {', '.join(ACTIONS)}")  # pragma: no cover


def _promote(
    uow: UnitOfWork,
    row: ProposalRow,
    actor: str,
    governance: bool,
    reason: str | None,
    now: datetime,
    min_pilot_days: int,
) -> tuple[str, tuple[str, str] | None, dict[str, Any]]:
    """Pilot -> production through the gate; governance may override readiness and value
    with a written reason, never an open incident, the regulatory questions or the
    minimum pilot time."""
    label = proposal_label(row)
    if row.stage != "pilot":
        return "", ("bad_stage", f"{label} is {row.stage}; only a pilot can be promoted to production."), {}
    unmet = gates.production_gate(gate_service.gate_input(uow, row, now, min_pilot_days))
    detail: dict[str, Any] = {"unmet": gate_service.gate_json(unmet)}
    latest = uow.checkins.latest(row.id)
    if latest is not None:
        detail["evidence"] = {"checkin_id": latest.id, "value": latest.value, "period": latest.period}
    if not unmet:
        del detail["unmet"]
        return "production", None, detail
    listing = "\n".join(f"- {u.code}: {u.text}" for u in unmet)
    head = f"{label} cannot go to production yet:\n{listing}"
    hard = gates.blocking(unmet)
    incidents = open_ids(uow.incidents.for_proposal(row.id))
    if incidents:  # no override: an open incident is dealt with first
        return "", ("open_incident", f"{head}\n{blocking_line(incidents, label, 'move to production')}"), detail
    if reason and not governance:
        return "", ("not_governance", f"{head}\nOnly governance may override the production gate."), detail
    if reason and actor in (row.requester, row.owner):
        role = "requested" if actor == row.requester else "own"
        return (
            "",
            ("own_proposal", f"{head}\nGovernance never overrides the gate on its own proposal: you {role} it."),
            detail,
        )
    if reason and hard:
        codes = ", ".join(u.code for u in hard)
        return (
            "",
            ("gate_unmet", f"{head}\nNo override lifts {codes}; only readiness and value_target may be overridden."),
            detail,
        )
    if reason:
        detail["override_reason"] = reason
        return "production", None, detail
    hint = ""
    if not hard:
        hint = (
            "\nGovernance may override readiness and value with a written reason: "
            f"promote {row.id} --override <reason>."
        )
    return "", ("gate_unmet", head + hint), detail


# --------------------------------------------------------------------------- stop conditions


def override_stop(
    uow: UnitOfWork,
    clock: Clock,
    policy: PolicySource,
    settings: Settings,
    actor: str,
    proposal_id: int,
    code: str,
    reason: str | None,
) -> Message:
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
    now = clock.now()
    problem: tuple[str, str] | None = None
    moved = False
    with uow:
        row = load_proposal(uow, proposal_id)
        conditions = {c.code: c for c in uow.stop_conditions.for_proposal(row.id)}
        if not is_governance(uow, actor, settings):
            problem = ("not_governance", "Only governance may override a stop condition.")
        elif actor in (row.requester, row.owner):
            problem = (
                "own_proposal",
                f"Governance never overrides a stop condition on its own proposal: you "
                f"{'requested' if actor == row.requester else 'own'} {proposal_label(row)}; "
                "ask another governance member.",
            )
        elif code in _non_overridable(policy.current()):
            problem = (
                "not_overridable",
                f"{code} can never be overridden: the proposal names a practice "
                "the EU AI Act prohibits. Change the proposal instead.",
            )
        elif code not in conditions or conditions[code].status == "resolved":
            open_codes = sorted(c for c, r in conditions.items() if r.status == "open")
            problem = (
                "not_open",
                f"{proposal_label(row)} has no open stop condition {code}; open: {', '.join(open_codes) or 'none'}.",
            )
        elif conditions[code].status == "overridden":
            problem = (
                "already_overridden",
                f"{code} on {proposal_label(row)} was already overridden by "
                f"<@{conditions[code].overridden_by}>: {user_text(conditions[code].override_reason)}",
            )
        else:
            uow.stop_conditions.override(row.id, code, actor, reason, now)
            uow.audit.add(row.id, actor, "stop_condition.overridden", {"code": code, "reason": reason}, now)
            still_open = [c for c, r in conditions.items() if r.status == "open" and c != code]
            text = f"Governance (<@{actor}>) overrode {code} on {proposal_label(row)}: {user_text(reason)}"
            if row.stage == "approved" and not still_open:
                before = move_stage(uow, row, "pilot", now)
                uow.audit.add(
                    row.id, actor, "stage.pilot", {"from": before, "to": "pilot", "via": "override", "code": code}, now
                )
                moved = True
                text += f" All approvals are in and no stop condition remains: {proposal_label(row)} is now in pilot."
            elif still_open:
                text += f" Still open: {', '.join(sorted(still_open))}."
            _tell_people(uow, settings, row, actor, proposal_notice("override", text, row, code=code), now)
            uow.commit()
    if problem is not None:
        raise refuse(uow, clock, actor, proposal_id, f"override {code}", problem[1], code=problem[0])
    logger.info("proposal %s: stop condition %s overridden by %s (moved to pilot: %s)", proposal_id, code, actor, moved)
    return proposal_notice("override", text, row, code=code, stage=row.stage)


def _non_overridable(policy: Policy) -> tuple[str, ...]:
    out = tuple(policy.non_overridable_stop_conditions)
    # The EU AI Act prohibition is not a policy choice: it stays non-overridable.
    return out if "prohibited_practice" in out else (*out, "prohibited_practice")


# --------------------------------------------------------------------------- delegation


def delegate(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    delegate_id: str,
    until: str | date | datetime,
    since: str | date | datetime | None = None,
) -> Message:
    """An approver names a delegate who may decide for them from `since` (default now)
    until `until` (a date means the end of that day). The delegate is told."""
    who = parse_delegate(delegate_id)
    if who == actor:
        raise UsageError("delegate: name someone other than yourself")
    now = clock.now()
    zone = local_zone(settings)
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
    with uow:
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
        queue(uow, settings, who, told, now, dedupe_key=f"delegation:{row.id}")
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


# --------------------------------------------------------------------------- helpers


def refuse(
    uow: UnitOfWork,
    clock: Clock,
    actor: str,
    proposal_id: int | None,
    what: str,
    message: str,
    *,
    code: str = "refused",
    extra: dict[str, Any] | None = None,
) -> Refused:
    """Audit a refused attempt in its own unit of work and return the exception to raise."""
    with uow:
        uow.audit.add(
            proposal_id,
            actor,
            "lifecycle.refused",
            {"attempt": what, "reason": plain(message), "code": code, **(extra or {})},
            clock.now(),
        )
        uow.commit()
    logger.info("refused %s on proposal %s for %s: %s", what, proposal_id, actor, code)
    return Refused(message, code=code)


def local_zone(settings: Settings) -> tzinfo:
    """GOVBOT_TIMEZONE as a tzinfo (UTC when unset or unknown)."""
    try:
        return ZoneInfo(settings.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def load_proposal(uow: UnitOfWork, proposal_id: int) -> ProposalRow:
    """The proposal, locked for the change (NotFound propagates)."""
    return uow.proposals.get(proposal_id, for_update=True)


def move_stage(uow: UnitOfWork, row: ProposalRow, to: str, now: datetime) -> str:
    """Set the stage (the caller audits it); returns the stage it left."""
    before = row.stage
    row.stage = to
    row.stage_changed_at = now
    row.updated_at = now
    uow.proposals.update(row)
    return before


def paused_from(uow: UnitOfWork, proposal_id: int) -> str | None:
    """The stage the latest pause left (recorded in its audit detail)."""
    for event in reversed(uow.audit.for_proposal(proposal_id)):
        if event.action == "stage.paused":
            stage = event.detail.get("from")
            return str(stage) if stage is not None else None
    return None
