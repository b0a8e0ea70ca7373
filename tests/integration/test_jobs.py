"""Scheduled jobs on the real store with an injected clock: reminders at 48 h,
escalation at 5 days, weekly check-ins with flagging, the digest hook, exactly-once
claims across threads and instances, and the serve loop."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from bot.domain.records import as_utc
from bot.messages.message import APPROVE, CHECKIN_OPEN, plain, user_text
from bot.service import jobs, queries
from tests.support.core_state import GOV, audit_events, outbox_for
from tests.support.proposals import make_proposal
from tests.support.stages import OWNER, REQUESTER, bare_core, pending_request, seed


def _request(core, request_id):
    with core.uow() as uow:
        return uow.approvals.get(request_id)


def _kinds(core, user, kind):
    return [r for r in outbox_for(core, user) if r.kind == kind]


# --------------------------------------------------------------------------- reminders and escalation


def test_reminder_after_48_hours_once(core, clock):
    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    clock.advance(hours=47)
    assert core.run_due(clock.now())["reminders"]["reminded"] == 0
    assert _kinds(core, "USEC", "approval_reminder") == []

    clock.advance(hours=1, minutes=5)
    result = core.run_due(clock.now())
    assert result["reminders"]["status"] == "done"
    assert result["reminders"]["reminded"] == 1 and result["reminders"]["ids"] == [req.id]
    [sent] = _kinds(core, "USEC", "approval_reminder")
    assert "waiting 2 days 0 h" in sent.payload["text"]
    assert [b["value"] for b in sent.payload["buttons"]] == [str(req.id)] * 3
    assert sent.payload["buttons"][0]["action"] == APPROVE
    assert sent.thread_key == f"approval:{req.id}"
    assert _request(core, req.id).reminded_at is not None
    [event] = audit_events(core, p.id, "approval.reminded")
    assert event.detail["request_id"] == req.id and event.detail["approver"] == "USEC"
    assert [line for line in core.audit_lines(p.id) if "approval.reminded" in line] == [
        "2026-11-18T09:05:00Z  govbot  approval.reminded  approver=USEC request_id=1 role=security waiting_h=48.1"
    ]

    clock.advance(hours=1)
    assert core.run_due(clock.now())["reminders"]["reminded"] == 0  # one reminder only
    assert len(_kinds(core, "USEC", "approval_reminder")) == 1


def test_escalation_to_governance_after_five_days(core, clock):
    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    clock.advance(hours=49)
    core.run_due(clock.now())
    clock.advance(hours=119 - 49)
    assert core.run_due(clock.now())["escalations"]["escalated"] == 0
    assert _request(core, req.id).escalated_at is None

    clock.advance(hours=1, minutes=1)
    result = core.run_due(clock.now())
    assert result["escalations"]["escalated"] == 1 and result["escalations"]["governance"] == [GOV]
    [card] = _kinds(core, GOV, "approval_escalation")
    assert "<@USEC> has not decided" in card.payload["text"]
    assert [b["value"] for b in card.payload["buttons"]] == [str(req.id)] * 3
    assert card.payload["meta"]["proposal_id"] == p.id
    assert as_utc(_request(core, req.id).escalated_at) == clock.now()
    assert [plain(r.payload["text"]) for r in outbox_for(core, "USEC")] == [
        'Reminder: your decision on #1 "Refund triage assistant" as security has been waiting 2 days 1 h.',
        'Your decision on #1 "Refund triage assistant" as security was escalated to governance after 5 days 0 h.',
    ]
    [event] = audit_events(core, p.id, "approval.escalated")
    assert event.detail["to"] == [GOV] and event.detail["waiting_h"] == 120.0
    assert [line for line in core.audit_lines(p.id) if "approval.escalated" in line] == [
        "2026-11-21T09:01:00Z  govbot  approval.escalated  approver=USEC request_id=1 role=security to=UGOV "
        "waiting_h=120.0"
    ]

    clock.advance(hours=5)
    assert core.run_due(clock.now())["escalations"]["escalated"] == 0
    assert len(_kinds(core, GOV, "approval_escalation")) == 1


def test_a_request_first_seen_after_five_days_is_escalated_not_reminded(core, clock):
    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    clock.advance(days=6)
    result = core.run_due(clock.now())
    assert result["reminders"]["reminded"] == 0
    assert result["escalations"]["ids"] == [req.id]


def test_escalation_goes_to_every_governance_member(core, clock):
    with core.uow() as uow:
        uow.roles.set("governance", "", ["UGOV2", "UGOV3"], GOV, clock.now())
        uow.commit()
    p = seed(core, "in_review")
    pending_request(core, p.id, "USEC")
    clock.advance(days=5, hours=1)
    core.run_due(clock.now())
    for member in ("UGOV2", "UGOV3"):
        assert len(_kinds(core, member, "approval_escalation")) == 1


def test_escalation_skips_the_governance_member_who_requested_the_proposal(core, clock):
    with core.uow() as uow:
        uow.roles.set("governance", "", [REQUESTER, "UGOV3"], GOV, clock.now())
        uow.commit()
    p = seed(core, "in_review")  # requested by REQUESTER
    pending_request(core, p.id, "USEC")
    clock.advance(days=5, hours=1)
    core.run_due(clock.now())
    assert [m for m in (REQUESTER, "UGOV3") if _kinds(core, m, "approval_escalation")] == ["UGOV3"]


def test_stalled_proposals_and_decided_requests_get_nothing(core, clock):
    paused = seed(core, "paused")
    pending_request(core, paused.id, "USEC")
    live = seed(core, "in_review")
    done = pending_request(core, live.id, "UFIN", role="finance")
    with core.uow() as uow:
        row = uow.approvals.get(done.id)
        row.status = "approved"
        uow.approvals.update(row)
        uow.commit()
    clock.advance(days=6)
    result = core.run_due(clock.now())
    assert result["reminders"]["reminded"] == 0 and result["escalations"]["escalated"] == 0


def test_owner_first_requests_wait_for_the_owner(core, clock):
    from bot.domain.records import ApprovalRequestRow

    p = seed(core, "in_review")
    with core.uow() as uow:
        owner = uow.approvals.add(
            ApprovalRequestRow(
                0, p.id, "owner", None, OWNER, "proposal", None, 1, "pending", None, clock.now(), sequence=0
            )
        )
        later = uow.approvals.add(
            ApprovalRequestRow(
                0, p.id, "security", None, "USEC", "proposal", None, 1, "pending", None, clock.now(), sequence=1
            )
        )
        uow.commit()
    clock.advance(hours=50)
    result = core.run_due(clock.now())
    assert result["reminders"]["ids"] == [owner.id]
    assert _request(core, later.id).reminded_at is None


def test_owner_first_clock_starts_when_the_owner_approves(core, clock):
    from bot.domain.records import ApprovalRequestRow

    p = seed(core, "in_review")
    with core.uow() as uow:
        owner = uow.approvals.add(
            ApprovalRequestRow(0, p.id, "owner", None, OWNER, "proposal", None, 1, "pending", None, clock.now())
        )
        later = uow.approvals.add(
            ApprovalRequestRow(
                0, p.id, "security", None, "USEC", "proposal", None, 1, "pending", None, clock.now(), sequence=1
            )
        )
        uow.commit()
    clock.advance(hours=40)
    core.decide(OWNER, owner.id, "approve")
    clock.advance(hours=47)  # 87 h after creation, 47 h into security's turn
    assert core.run_due(clock.now())["reminders"]["reminded"] == 0
    clock.advance(hours=2)
    assert core.run_due(clock.now())["reminders"]["ids"] == [later.id]
    assert audit_events(core, p.id, "approval.reminded")[0].detail["waiting_h"] == 49.0


def test_active_delegates_are_reminded_too(core, clock):
    p = seed(core, "in_review")
    req = pending_request(core, p.id, "USEC")
    core.delegate("USEC", "UDEP", "2026-12-31")
    clock.advance(hours=49)
    core.run_due(clock.now())
    [mine] = _kinds(core, "USEC", "approval_reminder")
    [theirs] = _kinds(core, "UDEP", "approval_reminder")
    assert mine.payload["text"].startswith("Reminder: your decision")
    assert "you are their delegate" in theirs.payload["text"]
    assert theirs.payload["buttons"][0]["value"] == str(req.id)
    assert audit_events(core, p.id, "approval.reminded")[0].detail["delegates"] == ["UDEP"]


# --------------------------------------------------------------------------- exactly once


def test_same_period_runs_once(core, clock):
    p = seed(core, "in_review")
    pending_request(core, p.id, "USEC")
    clock.advance(hours=49)
    first = core.run_due(clock.now())
    second = core.run_due(clock.now() + timedelta(minutes=30))
    assert first["reminders"]["status"] == "done"
    for job in ("reminders", "escalations", "checkins"):
        assert second[job]["status"] == "skipped"
    with core.uow() as uow:
        runs = [(r.job, r.period, r.status) for r in uow.jobs.recent()]
    assert ("reminders", "2026-11-18T10", "done") in runs


def _run_at_once(instances, now):
    barrier = threading.Barrier(len(instances))
    results: list[dict] = []
    errors: list[BaseException] = []

    def run(instance):
        try:
            barrier.wait(timeout=30)
            results.append(instance.run_due(now))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == len(instances)
    return results


def test_several_instances_at_once_run_each_job_once(core, clock, settings):
    """Several app instances (own engines, own connections) hit the same period at
    once: every reminder, escalation and check-in request is written exactly once."""
    proposals = [seed(core, "in_review") for _ in range(3)]
    pending_request(core, proposals[0].id, "UOLD", role="legal")  # 5 days old when the jobs run
    clock.advance(days=3)
    roles = ("security", "finance", "engineering")  # one holder each: each request has its own approver
    requests = [pending_request(core, p.id, f"UAPP{i}", role=roles[i]) for i, p in enumerate(proposals)]
    running = [seed(core, "pilot") for _ in range(2)]
    clock.advance(days=2, hours=1)
    instances = [bare_core(settings, clock, instance=f"i{n}") for n in range(4)]
    try:
        for round_ in range(2):
            results = _run_at_once(instances, clock.now())
            for job in ("reminders", "escalations", "checkins"):
                statuses = sorted(r[job]["status"] for r in results)
                expected = ["skipped"] * 4 if round_ else ["done"] + ["skipped"] * 3
                assert statuses == expected, [r[job] for r in results]
    finally:
        for inst in instances:
            inst.uow.dispose()
    for n, r in enumerate(requests):
        assert len(_kinds(core, f"UAPP{n}", "approval_reminder")) == 1
        assert len(audit_events(core, r.proposal_id, "approval.reminded")) == 1
    assert len(_kinds(core, GOV, "approval_escalation")) == 1
    assert len(audit_events(core, proposals[0].id, "approval.escalated")) == 1
    for p in running:
        assert len(audit_events(core, p.id, "checkin.requested")) == 1
    assert len(_kinds(core, OWNER, "checkin_request")) == len(running)
    with core.uow() as uow:
        claimed = [r for r in uow.jobs.recent() if r.job in ("reminders", "escalations", "checkins")]
    assert sorted(r.job for r in claimed) == ["checkins", "escalations", "reminders"]
    assert all(r.status == "done" for r in claimed)


# --------------------------------------------------------------------------- check-ins


def test_weekly_checkin_requests_go_to_running_workflows_owners(core, clock):
    pilot = seed(core, "pilot")
    prod = seed(core, "production", owner="UOWN2")
    seed(core, "in_review")
    seed(core, "paused")
    result = core.run_due(clock.now())
    assert result["checkins"]["period"] == "2026-W47"
    assert sorted(result["checkins"]["ids"]) == sorted([pilot.id, prod.id])
    [ask] = _kinds(core, OWNER, "checkin_request")
    assert ask.payload["buttons"] == [
        {"action": CHECKIN_OPEN, "label": "Report value", "value": str(pilot.id), "style": "primary"}
    ]
    assert ask.payload["sections"] == [
        {
            "title": None,
            "text": "",
            "fields": [
                ["Metric", user_text(make_proposal()["value_metric"])],
                ["Stage", "pilot"],
                ["Period", "2026-W47"],
            ],
        }
    ]
    assert len(_kinds(core, "UOWN2", "checkin_request")) == 1
    assert audit_events(core, pilot.id, "checkin.requested")[0].detail == {"period": "2026-W47", "to": OWNER}
    assert [line for line in core.audit_lines(pilot.id) if "checkin.requested" in line] == [
        "2026-11-16T09:00:00Z  govbot  checkin.requested  period=2026-W47 to=UOWN"
    ]

    clock.advance(days=3)
    assert core.run_due(clock.now())["checkins"]["status"] == "skipped"  # same week


def test_two_missed_periods_are_flagged_until_a_checkin_arrives(core, clock):
    quiet = seed(core, "pilot", title="Quiet pilot")
    busy = seed(core, "production", title="Busy workflow")
    core.run_due(clock.now())  # W47: asked
    clock.advance(days=7)
    core.record_checkin(OWNER, busy.id, "11")
    assert core.run_due(clock.now())["checkins"]["flagged"] == []  # W48: asked once before
    with core.uow() as uow:
        assert queries.checkin_flag(uow, quiet.id) is None
    assert core.status_data(quiet.id)["checkin_flag"] is None

    clock.advance(days=7)
    result = core.run_due(clock.now())  # W49: quiet missed W47 and W48
    assert result["checkins"]["flagged"] == [quiet.id]
    [flag] = audit_events(core, quiet.id, "checkin.flagged")
    assert flag.detail["periods_missed"] == ["2026-W47", "2026-W48"]
    asks = sorted(
        (r for r in _kinds(core, OWNER, "checkin_request") if r.payload["meta"]["proposal_id"] == quiet.id),
        key=lambda r: r.id,
    )
    assert len(asks) == 3
    assert [a.payload["meta"]["flagged"] for a in asks] == [False, False, True]
    assert asks[-1].payload["meta"]["flagged"] is True
    assert "No check-in for 2 periods" in str(asks[-1].payload["sections"])
    with core.uow() as uow:
        standing = queries.checkin_flag(uow, quiet.id)
        assert standing["periods_missed"] == ["2026-W47", "2026-W48"]
        assert queries.checkin_flag(uow, busy.id) is None
    assert [line for line in core.audit_lines(quiet.id) if "checkin.flagged" in line] == [
        "2026-11-30T09:00:00Z  govbot  checkin.flagged  period=2026-W49 periods_missed=2026-W47,2026-W48  "
        "— note: no value check-in for 2 periods"
    ]
    assert core.status_data(quiet.id)["checkin_flag"]["periods_missed"] == ["2026-W47", "2026-W48"]
    assert "No value check-in for 2 periods (2026-W47, 2026-W48)" in core.status(quiet.id).plain_text()
    assert "No value check-in" not in core.status(busy.id).plain_text()

    clock.advance(hours=2)
    core.record_checkin(OWNER, quiet.id, "4")
    with core.uow() as uow:
        assert queries.checkin_flag(uow, quiet.id) is None
    assert core.status_data(quiet.id)["checkin_flag"] is None


# --------------------------------------------------------------------------- digest and loop


def test_digest_job_is_claimed_weekly_and_passes_the_result_through(core, clock, monkeypatch):
    calls = []

    def weekly_job(uow, clock, settings, drafter, now):
        calls.append(now)
        return {"digest_id": 7, "status": "posted"}

    monkeypatch.setattr("bot.service.digest.weekly_job", weekly_job)
    core.settings.digest_day, core.settings.digest_time = "tue", "10:00"
    assert core.run_due(clock.now())["digest"]["status"] == "not_due"  # Monday 09:00
    clock.advance(days=1, hours=1)
    result = core.run_due(clock.now())
    assert result["digest"] == {"period": "2026-W47", "status": "done", "result": {"digest_id": 7, "status": "posted"}}
    assert core.run_due(clock.now() + timedelta(hours=2))["digest"]["status"] == "skipped"
    assert calls == [clock.now()]
    with core.uow() as uow:
        [run] = [r for r in uow.jobs.recent() if r.job == "digest"]
    assert run.status == "done" and run.detail["result"]["digest_id"] == 7


def test_digest_failure_is_recorded_not_raised(core, clock, monkeypatch):
    def weekly_job(uow, clock, settings, drafter, now):
        raise RuntimeError("LLM and template both down")

    monkeypatch.setattr("bot.service.digest.weekly_job", weekly_job)
    result = core.run_due(clock.now())
    assert result["digest"]["status"] == "failed"
    assert "both down" in result["digest"]["error"]
    assert result["reminders"]["status"] == "done"


def test_run_jobs_loop_runs_until_stopped(core, clock):
    seed(core, "pilot")

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(core.run_jobs_loop(3600, stop))
        for _ in range(1000):
            await asyncio.sleep(0.01)
            with core.uow() as uow:
                if any(r.job == "checkins" for r in uow.jobs.recent()):
                    break
        stop.set()
        await asyncio.wait_for(task, 30)

    asyncio.run(main())
    assert len(_kinds(core, OWNER, "checkin_request")) == 1


def test_hour_period():
    from datetime import UTC, datetime

    assert jobs.hour_period(datetime(2026, 11, 16, 9, 59, tzinfo=UTC)) == "2026-11-16T09"
