"""`govbot demo` runs the whole tour on a real database and leaves the data behind."""

from __future__ import annotations

import io

from handlers.console.demo import run_demo


def test_demo_tour_covers_the_flow_and_leaves_the_data(core):
    out = io.StringIO()
    run_demo(core, out, color=False)
    text = out.getvalue()
    assert "\x1b[" not in text, "plain text when not on a terminal"
    assert "Not recorded: this request is routed to" in text  # Mallory refused
    assert "duplicate" in text  # the double click
    data = core.portfolio_data()
    stages = data.get("by_stage") or data.get("stages")
    assert stages, data.keys()
    status = core.status_data(2)
    assert status["proposal"]["stage"] == "production"
    assert any(e["action"] == "decision.refused" and e["actor"] == "U_MALLORY" for e in status["audit"])
    assert [c["value"] for c in status["checkins"]] == ["6.5 minutes per ticket"]
