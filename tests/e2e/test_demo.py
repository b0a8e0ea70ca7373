"""`govbot demo` runs the whole tour on a real database and leaves the data behind."""

from __future__ import annotations

import io

from bot.domain.roles import OPERATOR
from handlers.console.demo import run_demo


def test_demo_tour_covers_the_flow_and_leaves_the_data(core):
    out = io.StringIO()
    run_demo(core, out, color=False, operator=OPERATOR)
    text = out.getvalue()
    assert "\x1b[" not in text, "plain text when not on a terminal"
    assert "Not recorded: this request is routed to" in text  # Mallory refused
    assert "duplicate" in text  # the double click
    assert (  # separation of duties
        "Not recorded: you already decided the department lead request on this proposal and one person "
        "decides at most one, so another finance approver decides." in text
    )
    data = core.portfolio_data()
    assert data["by_stage"] == {
        "draft": 0,
        "in_review": 0,
        "changes_requested": 0,
        "approved": 0,
        "pilot": 1,
        "production": 1,
        "rejected": 0,
        "paused": 0,
        "retired": 0,
    }
    status = core.status_data(2)
    assert status["proposal"]["stage"] == "production"
    assert [
        (e["actor"], e["detail"]["separation_of_duties"]) for e in status["audit"] if e["action"] == "decision.refused"
    ] == [
        ("U_MALLORY", False),
        ("U_DANA", True),
    ]
    assert [c["value"] for c in status["checkins"]] == ["9"]
    # the production gate refused Omar, then governance overrode the value with a reason
    assert '#2 "Refund agent for late deliveries" cannot go to production yet:' in text
    assert "- value_target: the latest check-in is 9 minutes, not at or below the target 4 minutes" in text
    assert [
        (e["actor"], [u["code"] for u in e["detail"]["unmet"]])
        for e in status["audit"]
        if e["action"] == "gate.overridden"
    ] == [("U_GRACE", ["value_target"])]
    assert "Production gate overridden" in text
    # after go-live: a high incident paused it, resume waited for the resolution
    assert [(i["severity"], i["status"], i["reported_by"]) for i in status["incidents"]] == [
        ("high", "resolved", "U_MALLORY")
    ]
    assert [e["detail"].get("via") for e in status["audit"] if e["action"].startswith("stage.")][-2:] == [
        "incident",
        "resume",
    ]
    assert "cannot resume until the owner or governance resolves it" in text
