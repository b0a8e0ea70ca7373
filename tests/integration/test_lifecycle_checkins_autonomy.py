"""Value check-ins, delegation and autonomy steps on the real store."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain import lifecycle_rules
from bot.domain.errors import Refused, UsageError
from bot.domain.records import as_utc
from bot.messages.message import APPROVE, REJECT, REQUEST_CHANGES, plain
from bot.service import checkins
from tests.support.core_state import GOV, audit_events, outbox_for
from tests.support.stages import OWNER, REQUESTER, STRANGER, seed

# --------------------------------------------------------------------------- check-ins


def test_owner_checkin_is_stored_with_its_iso_week(core, clock):
    p = seed(core, "pilot")
    msg = core.record_checkin(OWNER, p.id, " 2.50 ", note="from the helpdesk report")
    assert "2026-W47" in msg.text
    clock.advance(days=7)
    core.record_checkin(GOV, p.id, "2")
    with core.uow() as uow:
        rows = uow.checkins.for_proposal(p.id)
    assert [(c.value, c.period, c.reported_by, c.note) for c in rows] == [
        ("2.5", "2026-W47", OWNER, "from the helpdesk report"),
        ("2", "2026-W48", GOV, None),
    ]
    events = audit_events(core, p.id, "checkin.recorded")
    assert [e.detail["period"] for e in events] == ["2026-W47", "2026-W48"]
    # governance reporting for the owner tells the owner
    assert [plain(r.payload["text"]) for r in outbox_for(core, OWNER)] == [
        'Check-in recorded for #1 "Refund triage assistant" (2026-W48): 2 against target 0.5 (from 3): improving '
        "(reported by <@UGOV>)"
    ]


def test_iso_week_at_year_boundary():
    assert lifecycle_rules.iso_week(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"
    assert lifecycle_rules.iso_week(datetime(2026, 12, 28, tzinfo=UTC)) == "2026-W53"
    assert lifecycle_rules.iso_week(datetime(2027, 1, 4, tzinfo=UTC)) == "2027-W01"


@pytest.mark.parametrize("stage", ["in_review", "approved", "paused", "retired", "rejected"])
def test_checkin_only_for_running_workflows(core, stage):
    p = seed(core, stage)
    with pytest.raises(Refused) as err:
        core.record_checkin(OWNER, p.id, "5")
    assert err.value.code == "bad_stage"
    with core.uow() as uow:
        assert uow.checkins.for_proposal(p.id) == []


def test_checkin_refusals_and_bad_values(core):
    p = seed(core, "production")
    for actor in (STRANGER, REQUESTER):
        with pytest.raises(Refused) as err:
            core.record_checkin(actor, p.id, "5")
        assert err.value.code == "not_owner"
    for value in ("", "   ", "7 min per ticket", "it feels faster"):
        with pytest.raises(UsageError) as err:
            core.record_checkin(OWNER, p.id, value)
        assert err.value.message.startswith("value:")
    with pytest.raises(UsageError):
        core.record_checkin(OWNER, p.id, "9" * 201)
    with pytest.raises(UsageError) as err:
        core.record_checkin(OWNER, p.id, "5", note="n" * 1001)
    assert err.value.message.startswith("note:")
    with core.uow() as uow:
        assert uow.checkins.for_proposal(p.id) == []


# --------------------------------------------------------------------------- delegation


def test_delegation_is_stored_audited_and_the_delegate_told(core, clock):
    msg = core.delegate("USEC", "<@UDEP|deputy>", date(2026, 11, 30))
    assert "<@UDEP>" in msg.text
    with core.uow() as uow:
        active = uow.delegations.active_for("USEC", clock.now())
        assert [(d.delegate_id, as_utc(d.ends_at)) for d in active] == [
            ("UDEP", datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
        ]
        assert uow.delegations.delegators_of("UDEP", datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == ["USEC"]
        assert uow.delegations.delegators_of("UDEP", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)) == []
        events = [e for e in uow.audit.recent() if e.action == "delegation.created"]
    assert events[0].actor == "USEC" and events[0].detail["delegate"] == "UDEP"
    told = outbox_for(core, "UDEP")
    assert len(told) == 1 and told[0].kind == "delegation"
    assert "<@USEC> named you their delegate" in told[0].payload["text"]


def test_delegation_with_a_start_and_pending_requests_is_audited_on_them(core, clock):
    from tests.support.stages import pending_request

    p = seed(core, "in_review")
    pending_request(core, p.id, "USEC")
    core.delegate("USEC", "UDEP", "2026-12-10T17:00Z", since="2026-12-01")
    with core.uow() as uow:
        assert uow.delegations.delegators_of("UDEP", clock.now()) == []  # not started yet
        assert uow.delegations.delegators_of("UDEP", datetime(2026, 12, 5, tzinfo=UTC)) == ["USEC"]
    assert audit_events(core, p.id, "delegation.created")[0].detail["delegate"] == "UDEP"


@pytest.mark.parametrize(
    ("who", "until", "since", "field"),
    [
        ("USEC", "2026-12-01", None, "delegate"),  # yourself
        ("", "2026-12-01", None, "delegate"),
        ("two words", "2026-12-01", None, "delegate"),
        ("UDEP", "next week", None, "until"),
        ("UDEP", "2026-11-01", None, "until"),  # in the past
        ("UDEP", "2026-12-01", "2026-12-05", "until"),  # ends before it starts
        ("UDEP", "2028-12-01", None, "until"),  # longer than a year
    ],
)
def test_bad_delegations(core, who, until, since, field):
    with pytest.raises(UsageError) as err:
        core.delegate("USEC", who, until, since=since)
    assert err.value.message.startswith(f"{field}:")
    with core.uow() as uow:
        assert uow.delegations.active_for("USEC", datetime(2026, 11, 20, tzinfo=UTC)) == []


# --------------------------------------------------------------------------- autonomy


def _autonomy_requests(core, pid):
    with core.uow() as uow:
        return [r for r in uow.approvals.for_proposal(pid) if r.kind == "autonomy"]


def test_high_risk_autonomy_step_goes_to_the_department_lead_and_governance_never_the_owner(core):
    core.set_role(GOV, "department_lead", "Support", ["U_LEAD"])
    p = seed(core, "pilot", risk="high", autonomy="draft_only")
    msg = core.request_autonomy_step(OWNER, p.id)
    requests = _autonomy_requests(core, p.id)
    assert sorted((r.role, r.approver, r.target, r.status, r.requested_by) for r in requests) == [
        ("department_lead", "U_LEAD", "human_approves", "pending", OWNER),
        ("governance", GOV, "human_approves", "pending", OWNER),
    ]
    assert "draft_only to human_approves" in msg.text
    for user, request in (
        ("U_LEAD", [r for r in requests if r.role == "department_lead"][0]),
        (GOV, [r for r in requests if r.role == "governance"][0]),
    ):
        cards = [r for r in outbox_for(core, user) if r.kind == "approval_request"]
        assert len(cards) == 1
        buttons = cards[0].payload["buttons"]
        assert [(b["action"], b["value"]) for b in buttons] == [
            (APPROVE, str(request.id)),
            (REJECT, str(request.id)),
            (REQUEST_CHANGES, str(request.id)),
        ]
        assert cards[0].payload["meta"]["proposal_id"] == p.id
    assert [r for r in outbox_for(core, OWNER) if r.kind == "approval_request"] == []
    event = audit_events(core, p.id, "autonomy.requested")[0]
    assert (event.detail["from"], event.detail["to"], event.detail["ceiling"]) == (
        "draft_only",
        "human_approves",
        "human_approves",
    )


def test_autonomy_step_asked_by_governance_goes_to_the_owner_and_the_department_lead(core):
    core.set_role(GOV, "department_lead", "Support", ["U_LEAD"])
    p = seed(core, "production", risk="low", autonomy="human_monitors")
    core.request_autonomy_step(GOV, p.id)
    assert [(r.role, r.approver, r.target) for r in _autonomy_requests(core, p.id)] == [
        ("owner", OWNER, "autonomous"),
        ("department_lead", "U_LEAD", "autonomous"),
    ]


def test_a_step_past_the_ceiling_needs_governance(core):
    core.set_role(GOV, "department_lead", "Support", ["U_LEAD"])
    p = seed(core, "pilot", risk="medium", autonomy="human_monitors")  # medium ceiling: human_monitors
    msg = core.request_autonomy_step(OWNER, p.id)
    assert [r.role for r in _autonomy_requests(core, p.id)] == ["department_lead", "governance"]
    assert "past the autonomy ceiling (human_monitors)" in msg.text


def test_autonomy_refusals(core):
    p = seed(core, "pilot", autonomy="human_approves")
    core.request_autonomy_step(OWNER, p.id)
    with pytest.raises(Refused) as err:
        core.request_autonomy_step(OWNER, p.id)
    assert err.value.code == "pending"
    assert len(_autonomy_requests(core, p.id)) == 1

    top = seed(core, "production", autonomy="autonomous")
    with pytest.raises(Refused) as err:
        core.request_autonomy_step(OWNER, top.id)
    assert err.value.code == "at_max"

    early = seed(core, "in_review")
    with pytest.raises(Refused) as err:
        core.request_autonomy_step(OWNER, early.id)
    assert err.value.code == "bad_stage"

    other = seed(core, "pilot")
    with pytest.raises(Refused) as err:
        core.request_autonomy_step(STRANGER, other.id)
    assert err.value.code == "not_owner"
    assert _autonomy_requests(core, other.id) == []


def test_autonomy_without_owner_goes_to_another_governance_member_with_a_note(core):
    core.set_role(GOV, "governance", "", [GOV, "UGOV2"])
    p = seed(core, "pilot", owner=None, risk="medium")
    core.request_autonomy_step(GOV, p.id)
    owner = [r for r in _autonomy_requests(core, p.id) if r.role == "owner"][0]
    assert (owner.approver, owner.governance_fallback) == ("UGOV2", True)  # never the asker
    assert "no owner" in owner.note


def test_autonomy_step_waits_when_only_the_asker_could_decide_it(core):
    p = seed(core, "pilot", owner=None, risk="medium")  # no department lead, one governance member
    core.request_autonomy_step(GOV, p.id)
    requests = _autonomy_requests(core, p.id)
    assert [(r.role, r.approver, r.waiting) for r in requests] == [
        ("owner", "", "no_eligible_holder"),
        ("department_lead", "", "no_eligible_holder"),
    ]
    assert [r for r in outbox_for(core, GOV) if r.kind == "approval_request"] == []
    assert core.decide(GOV, requests[0].id, "approve").status == "refused"


def test_next_autonomy():
    assert checkins.next_autonomy(None) == "human_approves"
    assert checkins.next_autonomy("draft_only") == "human_approves"
    assert checkins.next_autonomy("human_approves") == "human_monitors"
    assert checkins.next_autonomy("human_monitors") == "autonomous"
    assert checkins.next_autonomy("autonomous") is None


def test_a_retried_checkin_counts_once(core, clock):
    p = seed(core, "pilot")
    core.record_checkin(OWNER, p.id, "8")
    clock.advance(seconds=3)
    msg = core.record_checkin(OWNER, p.id, "8.0")  # the same number, typed again
    assert "already recorded" in msg.text
    clock.advance(minutes=30)
    core.record_checkin(OWNER, p.id, "8")  # a later report of the same value is a new one
    core.record_checkin(OWNER, p.id, "7")
    with core.uow() as uow:
        assert [c.value for c in uow.checkins.for_proposal(p.id)] == ["8", "8", "7"]
    assert len(audit_events(core, p.id, "checkin.recorded")) == 3


def test_delegation_dates_are_read_in_the_configured_time_zone(core, clock):
    core.settings.timezone = "Europe/Berlin"
    msg = core.delegate("USEC", "UDEP", date(2026, 11, 30))
    assert "to 2026-12-01 00:00 Europe/Berlin" in msg.text
    with core.uow() as uow:
        [row] = uow.delegations.active_for("USEC", clock.now())
    assert as_utc(row.ends_at) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # midnight in Berlin, in UTC
