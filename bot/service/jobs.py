"""Scheduled jobs: reminders, escalations, value check-ins and the weekly digest.

`run_due(...)` runs every job that is due at `now` once. Each run first claims
`(job, period)` in `job_runs` (a unique row), in the same unit of work as the job's
effects, so several app instances (or a cron `govbot run-jobs` next to `govbot serve`)
run each period exactly once, and a failed run leaves nothing half-written. Periods
are the hour for reminders and escalations ("2026-11-16T09") and the ISO week for the
weekly jobs ("2026-W47").

The digest commits its claim before it runs (its LLM calls are too slow to hold a
transaction open), so a process that dies while writing it leaves the week `running`.
A claim is a lease: once it is older than `job_lease` (longer than any job can run)
and still `running`, the next instance takes the run over with one conditional UPDATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import approval_rules
from bot.domain.errors import Conflict
from bot.domain.lifecycle_rules import RUNNING, iso_week
from bot.domain.records import ApprovalRequestRow, ProposalRow, as_utc
from bot.messages.message import APPROVE, CHECKIN_OPEN, REJECT, REQUEST_CHANGES, Button, Message, Section, user_text
from bot.ports import Clock, Drafter, PolicySource, UnitOfWork
from bot.service import digest, notify, reassess, roles
from bot.service.lifecycle import local_zone
from bot.service.notify import queue
from bot.service.roles import governance_members
from bot.settings import Settings

logger = logging.getLogger(__name__)

LEASE_MIN = timedelta(hours=1)
LEASE_MARGIN = 4  # times the longest a digest may legitimately take
STALLED_STAGES = ("paused", "retired", "rejected", "changes_requested")
FLAG_AFTER_PERIODS = 2


def hour_period(at: datetime) -> str:
    """The hour a moment falls in, e.g. "2026-11-16T09" (UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def job_lease(settings: Settings) -> timedelta:
    """How long a claim holds before another instance may take the run over.

    The digest is the slowest job: two LLM drafts, each up to GOVBOT_LLM_TIMEOUT seconds
    per try with GOVBOT_LLM_RETRIES retries. The lease is LEASE_MARGIN times that, and
    never under an hour, so a run that is merely slow is never taken over."""
    llm_s = 2 * (settings.llm_max_retries + 1) * settings.llm_timeout_s
    return max(LEASE_MIN, timedelta(seconds=LEASE_MARGIN * llm_s))


def _claim(uow: UnitOfWork, settings: Settings, instance: str, job: str, period: str, now: datetime) -> bool:
    """Claim (job, period) in `uow`: a new row, or a run whose lease ran out (its process died)."""
    if uow.jobs.claim(job, period, instance, now):
        return True
    lease = job_lease(settings)
    if uow.jobs.reclaim(job, period, instance, now, now - lease):
        logger.warning("job %s for %s was claimed over %s ago and never finished; running it again", job, period, lease)
        return True
    return False


JOBS = ("reminders", "escalations", "checkins", "digest")

Runner = Callable[[UnitOfWork, Settings, datetime, str], dict[str, Any]]


def run_due(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    drafter: Drafter | None,
    now: datetime,
    *,
    instance: str,
    policy: PolicySource,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Run each due job once at `now`; return what each did (JSON-ready). `instance`
    names this process in the claims; `policy` gives the review intervals.

    A job another instance already ran for this period reports `"status": "skipped"`.
    With `dry_run`, each job does its work in a unit of work that is rolled back
    (`"status": "would_run"` with what it would have done; the digest says whether it
    is due, without drafting): nothing is written, nobody is told anything.
    """
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    result: dict[str, Any] = {"now": now.isoformat()}
    if dry_run:
        result["dry_run"] = True
    hourly = hour_period(now)
    weekly = iso_week(now)
    runners: tuple[tuple[str, str, Runner], ...] = (
        ("reminders", hourly, _reminders),
        ("escalations", hourly, _escalations),
        ("checkins", weekly, _checkins),
    )
    for job, period, runner in runners:
        result[job] = _run_claimed(uow, settings, instance, job, period, now, runner, dry_run=dry_run)
    in_force = policy.current()
    result["reassessments"] = _run_claimed(
        uow,
        settings,
        instance,
        "reassessments",
        reassess.day_period(now),
        now,
        lambda u, s, at, _period: reassess.open_due(u, s, in_force, at),
        dry_run=dry_run,
    )
    result["digest"] = _digest(uow, clock, settings, drafter, instance, weekly, now, dry_run=dry_run)
    return result


def failed_jobs(result: dict[str, Any]) -> list[str]:
    """The jobs of a `run_due` result that failed."""
    return [job for job in JOBS if isinstance(result.get(job), dict) and result[job].get("status") == "failed"]


def _run_claimed(
    uow: UnitOfWork,
    settings: Settings,
    instance: str,
    job: str,
    period: str,
    now: datetime,
    runner: Runner,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Claim (job, period) and do the job's work in one unit of work (rolled back when
    `dry_run`)."""
    try:
        with uow:
            if not _claim(uow, settings, instance, job, period, now):
                return {"period": period, "status": "skipped", "reason": "already run for this period"}
            detail = runner(uow, settings, now, period)
            if dry_run:
                return {"period": period, "status": "would_run", **detail}
            uow.jobs.finish(job, period, "done", detail, now)
            uow.commit()
    except Conflict:
        return {"period": period, "status": "skipped", "reason": "already run for this period"}
    except Exception as exc:  # report, do not crash the scheduler; the next tick retries
        logger.exception("job %s for %s failed", job, period)
        return {"period": period, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    logger.info("job %s for %s done: %s", job, period, {k: v for k, v in detail.items() if k != "ids"})
    return {"period": period, "status": "done", **detail}


# --------------------------------------------------------------------------- approvals


def _waiting(uow: UnitOfWork, cutoff: datetime) -> list[tuple[ApprovalRequestRow, ProposalRow, datetime]]:
    """Pending requests whose approver has had their turn since before `cutoff`, with
    the moment their turn began (creation, or the owner's approval under owner-first)."""
    out: list[tuple[ApprovalRequestRow, ProposalRow, datetime]] = []
    proposals: dict[int, ProposalRow] = {}
    siblings: dict[int, list[ApprovalRequestRow]] = {}
    for request in uow.approvals.pending_older_than(cutoff):
        if request.status != "pending" or request.waiting:
            continue  # a waiting request has nobody to remind: its note names who is missing
        pid = request.proposal_id
        if pid not in proposals:
            proposals[pid] = uow.proposals.get(pid)
            siblings[pid] = uow.approvals.for_proposal(pid)
        proposal = proposals[pid]
        if proposal.stage in STALLED_STAGES or not approval_rules.released(request, siblings[pid]):
            continue  # closed or paused, or owner-first and not this approver's turn yet
        since = as_utc(request.created_at)
        for s in siblings[pid]:
            if s.kind == request.kind and s.sequence < request.sequence and s.decided_at is not None:
                since = max(since, as_utc(s.decided_at))
        if since < cutoff:
            out.append((request, proposal, since))
    return out


def _buttons(request: ApprovalRequestRow) -> tuple[Button, ...]:
    value = str(request.id)
    return (
        Button(APPROVE, "Approve", value, "primary"),
        Button(REJECT, "Reject", value, "danger"),
        Button(REQUEST_CHANGES, "Request changes", value),
    )


def _age(now: datetime, then: datetime) -> str:
    hours = int((now - as_utc(then)).total_seconds() // 3600)
    return f"{hours // 24} days {hours % 24} h" if hours >= 24 else f"{hours} h"


def _hours(now: datetime, then: datetime) -> float:
    return round((now - as_utc(then)).total_seconds() / 3600, 1)


def _what(request: ApprovalRequestRow, proposal: ProposalRow) -> str:
    if request.kind == "autonomy":
        return f'the autonomy step to {request.target} for #{proposal.id} "{user_text(proposal.title)}"'
    return f'#{proposal.id} "{user_text(proposal.title)}" as {request.role}'


def _facts(request: ApprovalRequestRow, proposal: ProposalRow, age: str) -> Section:
    return Section(
        fields=(
            ("Proposal", f"#{proposal.id} {user_text(proposal.title)}"),
            ("Role", request.role),
            ("Approver", f"<@{request.approver}>"),
            ("Risk", proposal.risk_level),
            ("Waiting", age),
            ("Request id", str(request.id)),
        )
    )


def _reminders(uow: UnitOfWork, settings: Settings, now: datetime, period: str) -> dict[str, Any]:
    """One reminder to every holder of the routed role (and their active delegates) of each request
    waiting longer than the limit."""
    remind_cutoff = now - timedelta(hours=settings.reminder_after_h)
    escalate_cutoff = now - timedelta(hours=settings.escalate_after_h)
    ids = []
    for stale, proposal, since in _waiting(uow, remind_cutoff):
        request = uow.approvals.get(stale.id, for_update=True)  # a decision may have landed meanwhile
        if request.status != "pending":
            continue
        if request.reminded_at is not None or request.escalated_at is not None:
            continue
        if since <= escalate_cutoff:
            continue  # the escalation job takes it from here
        age = _age(now, since)
        people = roles.request_holders(uow, settings, request)
        delegates = [
            d.delegate_id
            for holder in approval_rules.delegating(request, people)
            for d in uow.delegations.active_for(holder, now)
            if d.delegate_id not in people
        ]
        delegates = list(dict.fromkeys(delegates))
        for user in [*people, *delegates]:
            whose = "your" if user in people else f"<@{request.approver}>'s (you are their delegate)"
            message = Message(
                kind="approval_reminder",
                text=f"Reminder: {whose} decision on {_what(request, proposal)} has been waiting {age}.",
                sections=(_facts(request, proposal, age),),
                buttons=_buttons(request),
                meta={"proposal_id": proposal.id, "request_id": request.id},
            )
            queue(
                uow,
                settings,
                user,
                message,
                now,
                proposal=proposal,
                thread_key=notify.card_key(request, user) if user in people else None,
                dedupe_key=f"reminder:{request.id}:{user}",
            )
        request.reminded_at = now
        uow.approvals.update(request)
        detail = {"request_id": request.id, "role": request.role, "approver": request.approver}
        detail.update({"holders": people[1:]} if len(people) > 1 else {})
        detail.update({"delegates": delegates} if delegates else {})
        uow.audit.add(proposal.id, "govbot", "approval.reminded", {**detail, "waiting_h": _hours(now, since)}, now)
        ids.append(request.id)
    return {"reminded": len(ids), "ids": ids}


def _escalations(uow: UnitOfWork, settings: Settings, now: datetime, period: str) -> dict[str, Any]:
    """Requests waiting longer than the second limit go to governance, with the buttons."""
    cutoff = now - timedelta(hours=settings.escalate_after_h)
    members = governance_members(uow, settings)
    ids = []
    for stale, proposal, since in _waiting(uow, cutoff):
        request = uow.approvals.get(stale.id, for_update=True)  # a decision may have landed meanwhile
        if request.status != "pending":
            continue
        if request.escalated_at is not None:
            continue
        age = _age(now, since)
        message = Message(
            kind="approval_escalation",
            text=f"Escalated: <@{request.approver}> has not decided on {_what(request, proposal)} for {age}. "
            "Governance may decide in their place.",
            sections=(_facts(request, proposal, age),),
            buttons=_buttons(request),
            meta={"proposal_id": proposal.id, "request_id": request.id, "escalated": True},
        )
        # separation of duties: a member who requested (or owns) the proposal may not decide it
        eligible = [m for m in members if approval_rules.may_be_asked(proposal, request, m)]
        for member in eligible:
            queue(
                uow, settings, member, message, now, proposal=proposal, dedupe_key=f"escalation:{request.id}:{member}"
            )
        if request.approver not in members:
            told = Message(
                kind="notice",
                text=f"Your decision on {_what(request, proposal)} was escalated to governance after {age}.",
                meta={"proposal_id": proposal.id},
            )
            queue(
                uow,
                settings,
                request.approver,
                told,
                now,
                proposal=proposal,
                thread_key=f"approval:{request.id}",
                dedupe_key=f"escalated:{request.id}",
            )
        request.escalated_at = now
        uow.approvals.update(request)
        detail = {"request_id": request.id, "role": request.role, "approver": request.approver, "to": eligible}
        uow.audit.add(proposal.id, "govbot", "approval.escalated", {**detail, "waiting_h": _hours(now, since)}, now)
        ids.append(request.id)
    return {"escalated": len(ids), "ids": ids, "governance": members}


# --------------------------------------------------------------------------- check-ins


def _checkins(uow: UnitOfWork, settings: Settings, now: datetime, period: str) -> dict[str, Any]:
    """Ask each running workflow's owner for its metric; flag two missed periods."""
    asked, flagged = [], []
    members = governance_members(uow, settings)
    for proposal in uow.proposals.in_stages(RUNNING):
        missed = _missed_periods(uow, proposal, period)
        recipient = proposal.owner or (members[0] if members else None)
        if missed:
            uow.audit.add(
                proposal.id,
                "govbot",
                "checkin.flagged",
                {"periods_missed": missed, "period": period, "note": f"no value check-in for {len(missed)} periods"},
                now,
            )
            flagged.append(proposal.id)
        metric = proposal.answers.get("value_metric") or "(no metric named)"
        text = f'Weekly check-in for #{proposal.id} "{user_text(proposal.title)}" ({period}): what is the latest value of its metric?'
        sections = [Section(fields=(("Metric", user_text(metric)), ("Stage", proposal.stage), ("Period", period)))]
        if missed:
            sections.append(
                Section(title="Flagged", text=f"No check-in for {len(missed)} periods ({', '.join(missed)}).")
            )
        if recipient is None:
            continue
        message = Message(
            kind="checkin_request",
            text=text,
            sections=tuple(sections),
            buttons=(Button(CHECKIN_OPEN, "Report value", str(proposal.id), "primary"),),
            meta={"proposal_id": proposal.id, "period": period, "flagged": bool(missed)},
        )
        queue(uow, settings, recipient, message, now, proposal=proposal, dedupe_key=f"checkin:{proposal.id}:{period}")
        uow.audit.add(proposal.id, "govbot", "checkin.requested", {"period": period, "to": recipient}, now)
        asked.append(proposal.id)
    return {"asked": len(asked), "flagged": flagged, "ids": asked}


def _missed_periods(uow: UnitOfWork, proposal: ProposalRow, period: str) -> list[str]:
    """The last FLAG_AFTER_PERIODS periods in which the owner was asked and no check-in
    came since; empty when the workflow is not (yet) overdue."""
    asked = [
        e
        for e in uow.audit.for_proposal(proposal.id)
        if e.action == "checkin.requested" and e.detail.get("period") != period
    ]
    if len(asked) < FLAG_AFTER_PERIODS:
        return []
    window = asked[-FLAG_AFTER_PERIODS:]
    latest = uow.checkins.latest(proposal.id)
    if latest is not None and as_utc(latest.created_at) >= as_utc(window[0].created_at):
        return []
    return [e.detail["period"] for e in window]


# --------------------------------------------------------------------------- digest


def _digest(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    drafter: Drafter | None,
    instance: str,
    period: str,
    now: datetime,
    *,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Claim the week, then call `bot.service.digest.weekly_job` (it manages its own
    units of work) and pass its result through. The week is claimed only once the
    digest is due (`bot.service.digest.scheduled_period`), so an early tick does not use it up."""
    try:
        window = digest.scheduled_period(settings, now)
        due = window is not None
        if window is not None:  # the ISO week of the local due moment
            year, week, _ = window[1].astimezone(local_zone(settings)).isocalendar()
            period = f"{year}-W{week:02d}"
    except Exception as exc:  # bad digest settings: say so, keep the other jobs running
        return {"period": period, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    if not due:
        return {
            "period": period,
            "status": "not_due",
            "reason": f"due {settings.digest_day} {settings.digest_time} {settings.timezone}",
        }
    try:
        with uow:
            if not _claim(uow, settings, instance, "digest", period, now):
                return {"period": period, "status": "skipped", "reason": "already run for this period"}
            if dry_run:  # the claim is rolled back; the draft is not written
                review = "for review by governance" if settings.digest_review else "and posted"
                return {"period": period, "status": "would_run", "would": f"draft this week's digest {review}"}
            uow.commit()
    except Conflict:
        return {"period": period, "status": "skipped", "reason": "already run for this period"}
    try:
        outcome = digest.weekly_job(uow, clock, settings, drafter, now)
    except Exception as exc:
        logger.exception("digest job for %s failed", period)
        detail = {"error": f"{type(exc).__name__}: {exc}"}
        status = "failed"
    else:
        detail = {"result": _jsonable(outcome)}
        status = "done"
    with uow:
        uow.jobs.finish("digest", period, status, detail, now)
        uow.commit()
    return {"period": period, "status": status, **detail}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return _jsonable(asdict(value))
    return str(value)


# --------------------------------------------------------------------------- loop


async def run_jobs_loop(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    drafter: Drafter | None,
    interval_s: float,
    stop: asyncio.Event,
    *,
    instance: str,
    policy: PolicySource,
) -> None:
    """Run due jobs every `interval_s` seconds until `stop` is set (inside `govbot serve`)."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(
                run_due, uow, clock, settings, drafter, clock.now(), instance=instance, policy=policy
            )
        except Exception:  # keep the scheduler alive; the failure is logged
            logger.exception("scheduled jobs failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
