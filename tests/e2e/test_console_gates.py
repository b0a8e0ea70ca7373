"""The production gate through the console, as people type it: each refusal names every
unmet condition, the allowed path, and a governance override with its written reason
and audit trail (issue 13: value before scale)."""

from __future__ import annotations

import io

from handlers.console.chat import run_chat
from tests.support.core_state import GOV, audit_events, stage_of
from tests.support.stages import OWNER, gated_pilot


def typed(core, user: str, lines: list[str]) -> str:
    screen = io.StringIO()
    assert run_chat(core, user, io.StringIO("\n".join(lines) + "\n"), screen, color=False, width=200) == 0
    return screen.getvalue()


def test_the_two_promotions_of_the_issue_are_refused_with_every_reason(core):
    faster = gated_pilot(core, title="Ticket drafts", readiness=2, value_metric="it feels faster")
    billing = gated_pilot(core, title="Billing agent", risk="high")
    out = typed(
        core,
        OWNER,
        [
            f"checkin {faster.id} it feels faster",
            f"promote {faster.id}",
            f"checkin {billing.id} 11",
            f"promote {billing.id}",
            f"promote {billing.id} --override trust me",
        ],
    )
    assert (
        f"value: 'it' is not a number; a check-in is the latest value of the metric, e.g. checkin {faster.id} 6.5"
        in out
    )
    assert (
        f'#{faster.id} "Ticket drafts" cannot go to production yet:\n'
        "- readiness: readiness is 2/6, not 6/6 (missing: exception_path, escalation_path, control_points, owner)\n"
        "- value_target: no baseline and target to measure against"
    ) in out
    assert "11 minutes per ticket against target 6 minutes per ticket (from 12 minutes per ticket): improving" in out
    assert (
        "- value_target: the latest check-in is 11 minutes per ticket, not at or below the target 6 minutes per ticket\n"
        f"Governance may override readiness and value with a written reason: promote {billing.id} --override <reason>."
    ) in out
    assert "Only governance may override the production gate." in out
    assert (stage_of(core, faster.id), stage_of(core, billing.id)) == ("pilot", "pilot")
    refused = [(e.detail["code"], e.detail["unmet"]) for e in audit_events(core, billing.id, "lifecycle.refused")]
    assert refused == [("gate_unmet", ["value_target"]), ("not_governance", ["value_target"])]


def test_a_pilot_that_meets_its_target_goes_to_production(core):
    pilot = gated_pilot(core)
    out = typed(core, OWNER, [f"checkin {pilot.id} 5.5 after the new macros", f"promote {pilot.id}"])
    assert "5.5 minutes per ticket against target 6 minutes per ticket (from 12 minutes per ticket), target met" in out
    assert f'#{pilot.id} "Refund triage assistant" moved from pilot to production' in out
    moved = audit_events(core, pilot.id, "stage.production")[0].detail
    assert (moved["from"], moved["evidence"]["value"], "override_reason" in moved) == ("pilot", "5.5", False)


def test_governance_overrides_the_value_with_a_reason_and_status_shows_it(core):
    pilot = gated_pilot(core, title="Billing agent", risk="high")
    core.record_checkin(OWNER, pilot.id, "11")
    out = typed(
        core,
        GOV,
        [
            f"promote {pilot.id} --override",
            f"promote {pilot.id} --override month-end close needs it; owner reports weekly",
            f"status {pilot.id}",
        ],
    )
    assert "override reason: write why production goes ahead anyway" in out
    assert "Governance override of value_target: month-end close needs it; owner reports weekly" in out
    assert stage_of(core, pilot.id) == "production"
    [event] = audit_events(core, pilot.id, "gate.overridden")
    assert (event.actor, event.detail["reason"], [u["code"] for u in event.detail["unmet"]]) == (
        GOV,
        "month-end close needs it; owner reports weekly",
        ["value_target"],
    )
    assert "Production gate overridden" in out
    assert "(value_target): month-end close needs it; owner reports weekly" in out


def test_no_override_lifts_unanswered_regulatory_questions(core):
    pilot = gated_pilot(core, use_area=None, readiness=5)
    core.record_checkin(OWNER, pilot.id, "6")
    out = typed(core, GOV, [f"promote {pilot.id} --override the regulator is fine with it"])
    assert f"- regulatory: the EU AI Act questions are unanswered: answer them first (assess {pilot.id})" in out
    assert "No override lifts regulatory; only readiness and value_target may be overridden." in out
    assert stage_of(core, pilot.id) == "pilot"
    assert audit_events(core, pilot.id, "gate.overridden") == []
