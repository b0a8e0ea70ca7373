"""Portfolio message, chart and sprawl signature (no database)."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

from bot.domain.portfolio import CHART, significant_words, sprawl_reason, sprawl_signature
from bot.domain.proposal import RISK_LEVELS, STAGES
from bot.messages.message import Message
from bot.messages.portfolio import portfolio_chart_png, render_portfolio

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "a, b",
    [
        ("Refund email drafting assistant", "Drafting refund emails"),
        ("Invoice summariser", "Summarise invoices"),
        ("Customer ticket triage", "Triage of customer tickets"),
        ("AI copilot for contract clauses", "Contract clause copilot"),
    ],
)
def test_reworded_titles_share_a_signature(a, b):
    assert sprawl_signature(a, ["draft"]) == sprawl_signature(b, ["draft"]) is not None


def test_signature_needs_the_same_actions_and_words():
    assert sprawl_signature("Invoice summariser", ["summarize"]) != sprawl_signature("Invoice summariser", ["draft"])
    assert sprawl_signature("Invoice summariser", ["summarize"]) != sprawl_signature(
        "Payroll summariser", ["summarize"]
    )
    assert sprawl_signature("The AI bot", ["draft"]) is None  # no significant word
    assert sprawl_signature("x", []) is None
    assert (
        sprawl_signature("Refund drafting", ["draft", "draft", "change_billing"]) == "change_billing,draft|draft refund"
    )


def test_significant_words_drop_generic_words():
    assert significant_words("An AI assistant for the Support team: refunds!") == ["support", "refund"]


def test_reason_names_actions_and_words():
    assert (
        sprawl_reason("draft,summarize|invoic summaris")
        == "same actions (draft, summarize) and shared title words 'invoic', 'summaris'"
    )
    assert sprawl_reason("|invoic") == "same actions (no declared or detected actions) and shared title words 'invoic'"


def facts(n_items: int = 10, title_len: int = 120) -> dict:
    title = ("T" * title_len)[:title_len]
    grid = {s: {r: 0 for r in RISK_LEVELS} for s in STAGES}
    grid["pilot"] = {"low": 3, "medium": 2, "high": 1}
    grid["in_review"] = {"low": 0, "medium": 4, "high": 5}
    return {
        "total": 15,
        "by_stage": {s: sum(grid[s].values()) for s in STAGES},
        "by_risk": {"low": 3, "medium": 6, "high": 6},
        "by_stage_risk": grid,
        "by_department": {"total": 25, "items": [{"department": f"D{i}", "count": 3} for i in range(n_items)]},
        "capacity": {
            "counts": {"keep_the_lights_on": 3, "incremental": 6, "strategic": 6},
            "unset": 0,
            "share": {"keep_the_lights_on": 0.2, "incremental": 0.4, "strategic": 0.4},
            "target": {"keep_the_lights_on": 0.3, "incremental": 0.5, "strategic": 0.2},
        },
        "stop_conditions": {"open": 4, "proposals": 3, "by_code": {"no_owner": 4}},
        "approvals": {
            "pending": 9,
            "overdue": 2,
            "overdue_after_hours": 48,
            "oldest_overdue": [
                {"proposal_id": i, "title": title, "role": "finance", "approver": "UFIN", "age_hours": 70}
                for i in range(n_items)
            ],
        },
        "purgatory": {
            "days": 90,
            "count": 31,
            "items": [{"id": i, "title": title, "department": "Legal", "days_in_pilot": 120} for i in range(n_items)],
        },
        "sprawl": {
            "groups_total": 12,
            "groups": [
                {
                    "signature": "draft|refund",
                    "reason": sprawl_reason("draft|refund"),
                    "count": 40,
                    "departments": [f"D{j}" for j in range(n_items)],
                    "proposals": [{"id": j, "title": title, "department": f"D{j}"} for j in range(5)],
                }
                for _ in range(n_items)
            ],
        },
        "value": {
            "running": 6,
            "with_checkins": 2,
            "without_checkins": 4,
            "stale": 3,
            "latest": [
                {"proposal_id": i, "title": title, "value": "V" * 200, "period": "2026-W46"} for i in range(n_items)
            ],
        },
        "eu_tier": {"prohibited": 0, "high": 1, "limited": 2, "minimal": 12},
        "regulatory_unanswered": 4,
    }


INTAKE = "Intake in one paragraph"


def test_render_portfolio_sections_and_chart_name():
    msg = render_portfolio(facts())
    assert msg.kind == "portfolio" and msg.image_png == CHART
    assert msg.text == "AI portfolio: 15 proposals; high 6, medium 6, low 3 risk."
    text = msg.plain_text()
    for expected in (
        "Pipeline by stage and risk",
        "pilot: 6 (high 1, medium 2, low 3)",
        "By department (showing 10 of 25)",
        "keep the lights on: 3 (20%; target 30%)",
        "Open stop conditions: 4 on 3 proposals (no owner 4)",
        "Pending approvals: 9; overdue (> 48 h): 2",
        "Pilot purgatory: 31 pilots older than 90 days, not promoted (showing 10 of 31)",
        "AI sprawl: similar proposals across departments (showing 5 of 12)",
        "40 proposals in 10 departments — D0 1 (#0 ",
        "7 more departments — same actions (draft)",
        "Without check-ins: 4",
        "EU AI Act tier",
        "Regulatory questions nobody answered: 4 live proposals.",
    ):
        assert expected in text, expected
    assert Message.from_json(json.loads(json.dumps(msg.to_json()))) == msg


def test_the_portfolio_shows_questions_answered_and_the_correction_rate_per_extractor():
    reads = {
        "lexicon": {"extractions": 3, "settled": 0, "answered_mean": None, "correction_rate": None},
        "llm": {"extractions": 4, "settled": 2, "answered_mean": 6.5, "correction_rate": 0.056},
    }
    (section,) = [s for s in render_portfolio({**facts(), "intake": reads}).sections if s.title == INTAKE]
    assert section.fields == (
        ("lexicon reading", "3 paragraphs, 0 submitted; questions answered -; corrected -"),
        ("llm reading", "4 paragraphs, 2 submitted; questions answered 6.5; corrected 6%"),
    )


def test_no_intake_section_before_any_paragraph_was_read():
    assert [s.title for s in render_portfolio({**facts(), "intake": {}}).sections].count(INTAKE) == 0


def test_every_section_fits_chat_limits_at_the_caps():
    msg = render_portfolio(facts(n_items=10, title_len=120))
    for section in msg.sections:
        assert len(section.text) <= 3000
        assert len(section.fields) <= 10
    assert len(json.dumps(msg.to_json())) < 40_000  # Teams message limit


def test_the_portfolio_names_no_unanswered_regulatory_questions_when_there_are_none():
    msg = render_portfolio(facts() | {"regulatory_unanswered": 0})
    assert [s.text for s in msg.sections if s.title == "EU AI Act tier"] == [""]


@pytest.mark.slow
def test_chart_is_a_png_drawn_from_the_facts_or_the_message():
    png = portfolio_chart_png(facts())
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    from matplotlib import image

    pixels = image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] == 400 and pixels.shape[1] == 800
    msg = render_portfolio(facts())
    assert portfolio_chart_png(msg.meta) == png
    empty = portfolio_chart_png({"by_stage_risk": {}})
    assert empty.startswith(b"\x89PNG") and empty != png


@pytest.mark.parametrize(
    "module",
    [
        "bot/domain/portfolio.py",
        "bot/messages/portfolio.py",
        "bot/messages/chart.py",
        "bot/service/digest.py",
        "bot/service/digest_writer.py",
    ],
)
def test_core_modules_import_no_platform_store_or_llm(module):
    forbidden = (
        "slack_bolt",
        "slack_sdk",
        "botbuilder",
        "sqlalchemy",
        "alembic",
        "openai",
        "langchain",
        "handlers",
        "store",
    )
    tree = ast.parse((ROOT / module).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0].startswith(forbidden)]
