"""Value before scale in the portfolio and digest facts (SQL): each running workflow's
latest value against its target and the trend, the pilot-to-production rate over the
last quarter, and the week's governance overrides in the template digest."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.portfolio import portfolio_config
from bot.service.digest_writer import grounding_problems, template_digest
from tests.support.clock import T0
from tests.support.core_state import GOV
from tests.support.portfolio import seed_portfolio
from tests.support.stages import OWNER, gated_pilot, seed


def test_the_pilot_to_production_rate_over_the_last_quarter(core):
    seed_portfolio(core, T0)
    # three pilots still running and one promoted four days ago
    assert core.portfolio_data()["pilot_to_production"] == {
        "days": 91,
        "since": (T0 - timedelta(days=91)).isoformat(),
        "pilots": 4,
        "promoted": 1,
        "rate": 0.25,
        "rate_pct": 25,
    }


def test_the_latest_value_against_the_target_with_its_trend(core, clock):
    pilot = gated_pilot(core)
    core.record_checkin(OWNER, pilot.id, "11")
    clock.advance(hours=1)
    core.record_checkin(OWNER, pilot.id, "9", "after the new macros")
    [item] = core.portfolio_data()["value"]["latest"]
    assert {k: item[k] for k in ("value", "baseline", "target", "unit", "meets_target", "trend")} == {
        "value": "9",
        "baseline": 12,
        "target": 6,
        "unit": "minutes per ticket",
        "meets_target": False,
        "trend": "improving",
    }
    assert "9 minutes per ticket against target 6 minutes per ticket" in core.portfolio().plain_text()


def test_the_digest_lists_the_weeks_overrides_and_stays_grounded(core, clock):
    pilot = gated_pilot(core, title="Billing agent")
    core.record_checkin(OWNER, pilot.id, "11")
    core.transition(GOV, pilot.id, "promote", reason="month-end close needs it")
    blocked = seed(core, "approved", stops=("invisible_failure",), title="Contract clause finder")
    core.override_stop(GOV, blocked.id, "invisible_failure", "QA samples every day")
    with core.uow() as uow:
        facts = uow.facts.digest(
            T0 - timedelta(days=7), clock.now() + timedelta(minutes=1), clock.now(), portfolio_config(core.settings)
        )
    assert [
        (o["proposal_id"], o["kind"], o["overridden"], o["by"], o["reason"]) for o in facts["overrides"]["items"]
    ] == [
        (blocked.id, "stop_condition", ["invisible_failure"], GOV, "QA samples every day"),
        (pilot.id, "production_gate", ["value_target"], GOV, "month-end close needs it"),
    ]
    text = template_digest(facts)
    assert (
        f'- "Billing agent" (#{pilot.id}): production gate (value_target) by {GOV}, reason "month-end close needs it"'
    ) in text
    assert f'- "Billing agent" (#{pilot.id}): 11 minutes per ticket against target 6 minutes per ticket' in text
    assert grounding_problems(text, facts) == []
