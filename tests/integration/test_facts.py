"""Portfolio and digest facts computed in SQL, against hand-computed expectations
(SQLite here; PostgreSQL too when run with GOVBOT_TEST_BACKEND=postgres)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.portfolio import portfolio_config
from bot.domain.proposal import REGULATORY_KEYS
from bot.messages.portfolio import render_portfolio
from tests.support.clock import T0
from tests.support.portfolio import seed_portfolio, store_env
from tests.support.proposals import make_proposal
from tests.support.records import proposal_row


@pytest.fixture
def store(settings, clock):
    """The store and settings the facts need (the SQL side only, no service)."""
    return store_env(settings, clock)


@pytest.fixture
def seeded(store):
    return seed_portfolio(store, T0)


def portfolio(store, **overrides):
    config = portfolio_config(store.settings) | overrides
    with store.uow() as uow:
        return uow.facts.portfolio(T0, config)


def test_counts_by_stage_risk_department_and_tier(store, seeded):
    f = portfolio(store)
    assert f["total"] == 7
    assert {k: v for k, v in f["by_stage"].items() if v} == {"in_review": 2, "pilot": 3, "production": 1, "rejected": 1}
    assert f["by_risk"] == {"low": 1, "medium": 2, "high": 4}
    assert f["by_stage_risk"]["pilot"] == {"low": 1, "medium": 1, "high": 1}
    assert f["by_stage_risk"]["in_review"] == {"low": 0, "medium": 0, "high": 2}
    assert f["by_department"]["total"] == 5
    assert f["by_department"]["items"][:2] == [
        {"department": "Finance", "count": 2},
        {"department": "Support", "count": 2},
    ]
    assert sorted(i["count"] for i in f["by_department"]["items"]) == [1, 1, 1, 2, 2]
    assert f["eu_tier"] == {"prohibited": 0, "high": 1, "limited": 2, "minimal": 3, "unassessed": 1}


def test_live_proposals_whose_regulatory_questions_nobody_answered_are_counted(store):
    unanswered = {key: None for key in REGULATORY_KEYS}  # how a validated proposal keeps them
    rows = [
        ("in_review", make_proposal()),  # the keys absent: counted
        ("pilot", make_proposal(**unanswered)),  # the keys null: counted
        ("pilot", make_proposal(**unanswered | {"use_area": "none"})),  # one answered, even with its default
        ("production", make_proposal(profiles_people=False)),
        ("in_review", make_proposal(prohibited_practices=[])),
        ("rejected", make_proposal()),  # not live
        ("retired", make_proposal(**unanswered)),  # not live
    ]
    with store.uow() as uow:
        for stage, answers in rows:
            uow.proposals.add(proposal_row(stage=stage, answers=answers), "UREQ")
        uow.commit()
    assert portfolio(store)["regulatory_unanswered"] == 2


def test_capacity_mix_against_target(store, seeded):
    cap = portfolio(store)["capacity"]
    # active = not rejected/retired: incremental 2, keep the lights on 1, strategic 2, one unset.
    assert cap["counts"] == {"keep_the_lights_on": 1, "incremental": 2, "strategic": 2}
    assert cap["unset"] == 1
    assert cap["share"] == {"keep_the_lights_on": 0.2, "incremental": 0.4, "strategic": 0.4}
    assert cap["target"] == {"keep_the_lights_on": 0.3, "incremental": 0.5, "strategic": 0.2}
    assert cap["gap"] == {"keep_the_lights_on": -0.1, "incremental": -0.1, "strategic": 0.2}
    assert cap["share_pct"] == {"keep_the_lights_on": 20, "incremental": 40, "strategic": 40}


def test_configured_target_mix_is_used(store, seeded):
    cap = portfolio(store, capacity_targets={"strategic": 0.5, "incremental": 0.5})["capacity"]
    assert cap["target"] == {"keep_the_lights_on": None, "incremental": 0.5, "strategic": 0.5}
    assert cap["gap"]["strategic"] == -0.1


def test_stop_conditions_and_approvals(store, seeded):
    f = portfolio(store)
    stops = f["stop_conditions"]
    assert stops["open"] == 3 and stops["proposals"] == 2 and stops["overridden"] == 1
    assert {k: v for k, v in stops["by_code"].items() if v} == {
        "no_owner": 1,
        "unmeasurable_success": 1,
        "changes_permissions_billing_or_production": 1,
    }
    appr = f["approvals"]
    assert (appr["pending"], appr["overdue"], appr["overdue_after_hours"]) == (3, 2, 48)
    assert [(o["proposal_id"], o["role"], o["approver"], o["age_hours"]) for o in appr["oldest_overdue"]] == [
        (seeded["refund_finance"], "finance", "UFIN", 72),
        (seeded["security"], "security", "USEC", 50),
    ]
    # a longer threshold leaves one overdue
    assert portfolio(store, overdue_after_h=60)["approvals"]["overdue"] == 1


def test_pilot_purgatory(store, seeded):
    purg = portfolio(store)["purgatory"]
    assert purg["count"] == 2 and purg["days"] == 90
    # not promoted after 90 days, whatever the check-ins: the one with value evidence too
    assert [(i["id"], i["title"], i["department"], i["days_in_pilot"]) for i in purg["items"]] == [
        (seeded["refund_support"], "Refund email drafting assistant", "Support", 100),
        (seeded["invoice_sales"], "Summarise invoices", "Sales", 95),
    ]
    # with a 20-day limit the young pilot joins
    purg = portfolio(store, purgatory_days=20)["purgatory"]
    assert [i["id"] for i in purg["items"]] == [seeded["refund_support"], seeded["invoice_sales"], seeded["clauses"]]


def test_sprawl_groups_across_departments_with_reason(store, seeded):
    sprawl = portfolio(store)["sprawl"]
    assert sprawl["groups_total"] == 2
    first, second = sprawl["groups"]
    assert first["signature"] == f"cluster:{seeded['refund_support']}"
    assert first["reason"] == "both are about refund, drafting and emails"
    assert first["count"] == 2 and first["departments"] == ["Finance", "Support"]
    # one representative per department, in department order (the rejected one is not live)
    assert [m["id"] for m in first["proposals"]] == [seeded["refund_finance"], seeded["refund_support"]]
    assert second["signature"] == f"cluster:{seeded['invoice_finance']}"
    assert [m["department"] for m in second["proposals"]] == ["Finance", "Sales"]


def test_a_retired_member_leaves_its_cluster(store, seeded):
    with store.uow() as uow:
        row = uow.proposals.get(seeded["refund_finance"])
        row.stage = "retired"
        uow.proposals.update(row)
        uow.commit()
    sprawl = portfolio(store)["sprawl"]
    assert sprawl["groups_total"] == 1
    assert sprawl["groups"][0]["signature"] == f"cluster:{seeded['invoice_finance']}"


def test_value_evidence(store, seeded):
    value = portfolio(store)["value"]
    assert (value["running"], value["with_checkins"], value["without_checkins"], value["stale"]) == (4, 2, 2, 3)
    assert [(v["proposal_id"], v["value"]) for v in value["latest"]] == [
        (seeded["invoice_finance"], "31% fewer manual touches"),
        (seeded["invoice_sales"], "2 hours saved a week"),
    ]


def test_lists_are_capped_with_totals(store, seeded):
    f = portfolio(store, list_cap=1, purgatory_days=20)
    assert len(f["by_department"]["items"]) == 1 and f["by_department"]["total"] == 5
    assert len(f["approvals"]["oldest_overdue"]) == 1 and f["approvals"]["overdue"] == 2
    assert len(f["purgatory"]["items"]) == 1 and f["purgatory"]["count"] == 3
    assert len(f["sprawl"]["groups"]) == 1 and f["sprawl"]["groups_total"] == 2
    assert len(f["value"]["latest"]) == 1


def test_empty_portfolio(store):
    f = portfolio(store)
    assert f["total"] == 0 and f["sprawl"] == {"groups_total": 0, "groups": []}
    assert f["capacity"]["share"] == {"keep_the_lights_on": None, "incremental": None, "strategic": None}
    assert "No proposals yet." in render_portfolio(f).plain_text()


def test_digest_facts_this_week_against_last(store, seeded):
    with store.uow() as uow:
        f = uow.facts.digest(T0 - timedelta(days=7), T0, T0, portfolio_config(store.settings))
    assert f["period"]["start_date"] == "2026-11-09" and f["period"]["end_date"] == "2026-11-16"
    assert f["period"]["week"] == "2026-W46"  # the ISO week holding most of the period
    new = f["new_proposals"]
    assert (new["this_week"], new["last_week"], new["change"]) == (2, 1, 1)
    assert new["by_risk"] == {"low": 0, "medium": 0, "high": 2}
    assert [i["id"] for i in new["items"]] == [seeded["security"], seeded["refund_finance"]]
    assert f["decisions"]["this_week"] == {"approve": 1, "reject": 0, "request_changes": 0}
    assert f["decisions"]["last_week"] == {"approve": 1, "reject": 1, "request_changes": 0}
    assert f["stage_moves"]["this_week"] == {"pilot": 1, "production": 1}
    assert f["stage_moves"]["last_week"] == {"rejected": 1}
    assert (f["approvals"]["pending"], f["approvals"]["overdue"]) == (3, 2)
    assert f["stop_conditions"]["open"] == 3 and f["stop_conditions"]["opened_this_week"] == 3
    assert f["purgatory"]["count"] == 2
    chk = f["checkins"]
    assert (chk["this_week"], chk["last_week"]) == (1, 0)
    assert [i["value"] for i in chk["items"]] == ["31% fewer manual touches"]
    assert f["portfolio"]["total"] == 7


def test_portfolio_through_the_core(core):
    seed_portfolio(core, T0)
    message = core.portfolio()
    assert message.image_png == "portfolio_chart"
    text = message.plain_text()
    assert "AI portfolio: 7 proposals" in text
    assert "Pilot purgatory: 2 pilots older than 90 days, not promoted" in text
    assert (
        "- 2 proposals in 2 departments — Finance 1 (#2 Drafting refund emails), Support 1 "
        "(#1 Refund email drafting assistant) — both are about refund, drafting and emails"
    ) in text.splitlines()


def test_sprawl_from_real_submissions(core):
    base = {
        "description": "Drafts replies to customers asking about refunds.",
        "data": ["customer"],
        "actions": ["draft"],
        "audience": "internal",
        "owner": "UOWN",
        "review": "every_output",
        "autonomy": "draft_only",
        "value_metric": "minutes per reply",
        "failure_visible": True,
    }
    first = core.submit("UREQ", "console", {**base, "title": "Refund reply drafting", "department": "Support"})
    second = core.submit(
        "UREQ2", "console", {**base, "title": "Drafting replies to refund emails", "department": "Finance"}
    )
    payroll = "Flags unusual payroll changes for the payroll team to check."
    core.submit(
        "UREQ3", "console", {**base, "title": "Payroll anomaly report", "department": "HR", "description": payroll}
    )
    groups = core.portfolio_data()["sprawl"]["groups"]
    assert len(groups) == 1
    group = groups[0]
    assert group["signature"] == f"cluster:{first.proposal_id}"
    assert {p["id"] for p in group["proposals"]} == {first.proposal_id, second.proposal_id}
    assert group["departments"] == ["Finance", "Support"]
