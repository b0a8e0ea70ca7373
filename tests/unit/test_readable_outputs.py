"""Readable outputs: the chart counts in whole numbers, the portfolio's facts stay on
one line each, and a sprawl group lists what it counts."""

from __future__ import annotations

from bot.messages.chart import pipeline_figure
from bot.messages.message import plain
from bot.messages.portfolio import render_portfolio, sprawl_line
from handlers.console.render import render_message


def test_the_chart_has_whole_number_ticks():
    figure = pipeline_figure({"pilot": {"low": 1}, "production": {"high": 2}})
    ticks = list(figure.axes[0].get_yticks())
    assert ticks == [float(int(t)) for t in ticks] and ticks[:3] == [0.0, 1.0, 2.0]


def test_each_value_evidence_fact_stays_on_its_line():
    facts = {
        "total": 2,
        "value": {"running": 2, "with_checkins": 1, "without_checkins": 1, "stale": 1, "stale_after_days": 14},
    }
    lines = render_message(render_portfolio(facts), width=80).splitlines()
    assert "  Running (pilot, production): 2" in lines
    assert "  No check-in for 14 days:     1" in lines


def test_a_sprawl_group_lists_what_it_counts():
    group = {
        "count": 4,
        "department_count": 2,
        "departments": ["Finance", "Sales"],
        "reason": "same actions (summarize) and shared title words 'invoic', 'summaris'",
        "proposals": [
            {"id": 1, "title": "Summarise invoices", "department": "Finance", "in_department": 3},
            {"id": 4, "title": "Invoice summariser", "department": "Sales", "in_department": 1},
        ],
    }
    assert plain(sprawl_line(group)) == (  # the titles and departments are marked as user text
        "4 proposals in 2 departments — Finance 3 (e.g. #1 Summarise invoices), Sales 1 (#4 Invoice summariser) "
        "— same actions (summarize) and shared title words 'invoic', 'summaris'"
    )
