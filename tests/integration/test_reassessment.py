"""Reassessment of running workflows (DESIGN.md "After go-live → Reassessment"): the
daily job opens a review when `review_days` (by risk level) have passed since the
answers were last confirmed; the owner confirms or edits; a review left open past its
drift date is governance drift in the portfolio and the digest."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from datetime import timedelta

import pytest

from bot.cli import main
from bot.domain.errors import Refused
from bot.domain.interview import to_proposal
from bot.domain.proposal import normalise
from bot.domain.records import ReassessmentRow
from bot.messages.message import REASSESSMENT_CONFIRM, REASSESSMENT_EDIT
from bot.service.policy_versions import check
from handlers.teams.bot import GovbotTeamsBot
from tests.support.bot_connector import TeamsTurns, card_text
from tests.support.clock import T0
from tests.support.core_state import GOV
from tests.support.policies import strict_text
from tests.support.proposals import make_proposal
from tests.support.slack_platform import SlackHarness
from tests.support.stages import OWNER, REQUESTER, STRANGER, seed

YEAR = T0 + timedelta(days=365, hours=1)


def _review(core, pid: int, status: str, due_days: int, closed_days: int | None = None) -> ReassessmentRow:
    due = T0 + timedelta(days=due_days)
    with core.uow() as uow:
        row = uow.reassessments.add(
            ReassessmentRow(
                id=0,
                proposal_id=pid,
                status=status,
                risk_level="medium",
                due_at=due,
                drift_at=due + timedelta(days=14),
                opened_at=due,
                closed_at=T0 + timedelta(days=closed_days) if closed_days is not None else None,
                closed_by=OWNER if closed_days is not None else None,
            )
        )
        uow.commit()
    return row


def _open_review(core, pid: int) -> ReassessmentRow:
    with core.uow() as uow:
        found = uow.reassessments.open_for(pid)
    assert found is not None
    return found


def test_run_jobs_a_year_ahead_opens_reviews_for_exactly_the_due_running_workflows(core, database_url, monkeypatch):
    due = [
        seed(core, "pilot", risk="high", title="High pilot").id,  # due after 90 days
        seed(core, "production", risk="medium", title="Medium production").id,  # 180
        seed(core, "pilot", risk="low", title="Low pilot").id,  # 365
    ]
    revised = seed(core, "pilot", risk="low", title="Low pilot, answers revised at day 200").id
    with core.uow() as uow:
        uow.proposals.add_revision(
            revised, normalise(make_proposal(data=["customer"], owner=OWNER)), OWNER, T0 + timedelta(days=200)
        )
        uow.commit()
    confirmed = seed(core, "production", risk="medium", title="Medium, confirmed at day 300").id
    _review(core, confirmed, "confirmed", 180, closed_days=300)
    already = seed(core, "pilot", risk="high", title="High pilot with a review open").id
    _review(core, already, "open", 90)
    for stage in ("in_review", "approved", "paused", "retired"):
        seed(core, stage, risk="high", title=f"High, {stage}")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", GOV)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    code = main(["run-jobs", "--now", YEAR.isoformat()], out=out, stdin=io.StringIO())
    result = json.loads(out.getvalue())["reassessments"]
    assert (code, result["status"], result["ids"]) == (0, "done", due), err.getvalue()


def test_the_job_runs_once_a_day(core):
    seed(core, "pilot", risk="high")
    first = core.run_due(YEAR)["reassessments"]
    again = core.run_due(YEAR + timedelta(hours=2))["reassessments"]
    assert (first["opened"], again["status"]) == (1, "skipped")


def test_the_owner_is_asked_to_confirm_or_edit(core):
    row = seed(core, "pilot", risk="high")
    core.run_due(YEAR)
    review = _open_review(core, row.id)
    with core.uow() as uow:
        asked = [o for o in uow.outbox.for_recipient(OWNER) if o.kind == "reassessment_request"]
    assert [(b["action"], b["value"]) for b in asked[0].payload["buttons"]] == [
        (REASSESSMENT_CONFIRM, str(review.id)),
        (REASSESSMENT_EDIT, str(row.id)),
    ]


def test_review_days_come_from_the_active_policy(core):
    core.apply_policy(GOV, check(strict_text().replace("high = 90,", "high = 30,"), "short.toml"))
    row = seed(core, "pilot", risk="high")
    opened = core.run_due(T0 + timedelta(days=31))["reassessments"]["ids"]
    assert opened == [row.id]


def test_confirming_closes_the_review_and_names_the_next_due_date(core, clock):
    row = seed(core, "pilot", risk="high")
    core.run_due(YEAR)
    clock.set(YEAR)
    message = core.confirm_reassessment(OWNER, _open_review(core, row.id).id)
    with core.uow() as uow:
        statuses = [r.status for r in uow.reassessments.for_proposal(row.id)]
    next_due = (YEAR + timedelta(days=90)).date().isoformat()
    assert (statuses, message.text) == (
        ["confirmed"],
        f"Thanks: the answers of #{row.id} {row.title} stand. Next review due {next_due}.",
    )


def test_a_confirmed_review_is_not_opened_again_before_review_days(core, clock):
    row = seed(core, "pilot", risk="high")
    core.run_due(YEAR)
    clock.set(YEAR)
    core.confirm_reassessment(OWNER, _open_review(core, row.id).id)
    opened = core.run_due(YEAR + timedelta(days=89))["reassessments"]["opened"]
    assert opened == 0


def test_only_the_owner_or_governance_may_confirm(core):
    row = seed(core, "pilot", risk="high")
    core.run_due(YEAR)
    with pytest.raises(Refused):
        core.confirm_reassessment(STRANGER, _open_review(core, row.id).id)
    with core.uow() as uow:
        last = uow.audit.for_proposal(row.id)[-1]
    assert (last.actor, last.action) == (STRANGER, "reassessment.refused")


def test_an_edit_that_keeps_the_risk_keeps_the_workflow_running(core):
    row = seed(core, "pilot", risk="medium")
    core.run_due(YEAR)
    start = core.edit_seed(OWNER, row.id)
    edited = dict(to_proposal(start.seed), value_metric="minutes per ticket (baseline 12, target 5)")
    submitted = core.submit(OWNER, "console", edited, proposal_id=row.id)
    status = core.status_data(row.id)["proposal"]
    with core.uow() as uow:
        review = uow.reassessments.for_proposal(row.id)[-1]
    assert (submitted.revision, status["stage"], status["risk_level"], review.status) == (
        2,
        "pilot",
        "medium",
        "edited",
    )


def test_an_edit_that_changes_the_risk_reopens_every_approval(core):
    row = seed(core, "pilot", risk="medium")
    core.run_due(YEAR)
    start = core.edit_seed(REQUESTER, row.id)
    edited = dict(to_proposal(start.seed), actions=["draft", "change_billing"])  # it now issues refunds itself
    submitted = core.submit(REQUESTER, "console", edited, proposal_id=row.id)
    status = core.status_data(row.id)
    pending = sorted(a["role"] for a in status["approvals"] if a["status"] == "pending")
    assert (status["proposal"]["stage"], status["proposal"]["risk_level"], pending) == (
        "in_review",
        "high",
        sorted(submitted.classification["approver_roles"]),
    )


def test_a_review_open_past_its_drift_date_is_governance_drift_in_the_portfolio(core, clock):
    row = seed(core, "pilot", risk="high")
    _review(core, row.id, "open", 100)  # drifts after day 114
    clock.set(T0 + timedelta(days=120))
    drift = core.portfolio_data()["governance_drift"]
    assert (drift["overdue_reviews"], [(i["id"], i["days_overdue"]) for i in drift["items"]]) == (1, [(row.id, 20)])


def test_a_review_not_yet_past_its_drift_date_is_not_drift(core, clock):
    row = seed(core, "pilot", risk="high")
    _review(core, row.id, "open", 100)
    clock.set(T0 + timedelta(days=113))
    assert core.portfolio_data()["governance_drift"]["overdue_reviews"] == 0


def test_governance_drift_is_in_the_digest_facts_and_text(core, clock):
    row = seed(core, "pilot", risk="high", title="Claims triage")
    _review(core, row.id, "open", 100)
    clock.set(T0 + timedelta(days=120))
    digest = core.draft_digest(clock.now())
    assert (digest.facts["governance_drift"]["overdue_reviews"], f'"Claims triage" (#{row.id})' in digest.text) == (
        1,
        True,
    )


def test_the_confirm_button_works_in_teams(core):
    row = seed(core, "pilot", risk="high")
    core.run_due(YEAR)
    card = TeamsTurns(GovbotTeamsBot(core, core.settings)).click(
        OWNER, REASSESSMENT_CONFIRM, {"value": str(_open_review(core, row.id).id)}
    )
    assert f"Thanks: the answers of #{row.id}" in card_text(card)


def test_the_confirm_button_works_in_slack(core, settings):
    row = seed(core, "pilot", risk="high")
    core.run_due(YEAR)
    review = _open_review(core, row.id)

    async def scenario() -> str:
        async with SlackHarness(core, settings) as slack:
            message = {"channel": "D_OWN", "ts": "1700000000.000200", "blocks": []}
            await slack.click(OWNER, REASSESSMENT_CONFIRM, str(review.id), message=message)
            return (await slack.api.wait_for("response_url"))[0].args["text"]

    assert asyncio.run(scenario()).startswith(f"Thanks: the answers of #{row.id}")
