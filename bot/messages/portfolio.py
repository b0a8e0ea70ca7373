"""The portfolio summary as a neutral message and as a chart."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.domain.portfolio import (
    CHART,
    SPRAWL_SHOWN,
)
from bot.domain.proposal import CAPACITY, RISK_LEVELS, STAGES
from bot.domain.value import parse_number, standing_line
from bot.messages.message import Message, Section, user_text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def _line(mapping: dict[str, Any], order: Iterable[str] | None = None) -> str:
    keys = list(order) if order is not None else list(mapping)
    parts = [f"{k.replace('_', ' ')} {mapping.get(k, 0)}" for k in keys if mapping.get(k)]
    return ", ".join(parts) or "none"


def _t(title: str, limit: int = 80) -> str:
    """A title shortened for display (the full title is in the facts), marked as user-written."""
    return user_text(title if len(title) <= limit else title[: limit - 1] + "\u2026")


def _more(shown: int, total: int) -> str:
    return f" (showing {shown} of {total})" if total > shown else ""


def sprawl_line(group: dict[str, Any], shown: int = 3) -> str:
    """What a sprawl group counts, department by department: "4 proposals in 2
    departments — Support 3 (e.g. #1 Refund drafts), Finance 1 (#7 Refund helper) —
    same actions (...)"."""
    members = group.get("proposals") or []
    departments = group.get("department_count") or len(group.get("departments") or [])
    by_department: dict[str, list[dict[str, Any]]] = {}
    for p in members:  # a cluster lists its members; count them department by department
        by_department.setdefault(p.get("department") or "", []).append(p)
    parts = []
    for department, in_department in list(by_department.items())[:shown]:
        first = in_department[0]
        n = int(first.get("in_department") or len(in_department))
        example = f"#{first['id']} {_t(first.get('title') or '', 60)}"
        parts.append(f"{user_text(department) or '-'} {n} ({'e.g. ' if n > 1 else ''}{example})")
    if departments > len(parts):
        parts.append(f"{departments - len(parts)} more department{'s' if departments - len(parts) != 1 else ''}")
    head = f"{group['count']} proposals in {departments} departments"
    return f"{head} — {', '.join(parts)} — {group['reason']}"


def incidents_section(incidents: dict[str, Any]) -> Section:
    """Open incidents by severity and the open ones (high first), with what happened."""
    lines = [
        f"- incident {i['id']} ({i['severity']}) on #{i['proposal_id']} {_t(i['title'], 60)} ({i['stage']}): "
        + user_text(i.get("text") or "")
        for i in incidents.get("items", [])
    ]
    return Section(
        f"Open incidents: {incidents['open']} ({_line(incidents.get('open_by_severity', {}))})"
        + _more(len(incidents.get("items", [])), incidents["open"]),
        "\n".join(lines),
    )


def render_portfolio(facts: dict[str, Any]) -> Message:
    """The portfolio summary as a neutral message (text, sections and the chart name)."""
    total = facts.get("total", 0)
    stage = facts.get("by_stage", {})
    risk = facts.get("by_risk", {})
    headline = f"AI portfolio: {total} proposals; {_line(risk, reversed(RISK_LEVELS))} risk."
    sections: list[Section] = []

    pipeline = facts.get("by_stage_risk", {})
    rows = [
        (s.replace("_", " "), f"{stage.get(s, 0)} ({_line(pipeline.get(s, {}), reversed(RISK_LEVELS))})")
        for s in STAGES
        if stage.get(s)
    ]
    sections.append(Section("Pipeline by stage and risk", "" if rows else "No proposals yet.", tuple(rows)))

    depts = facts.get("by_department", {})
    items = depts.get("items", [])
    if items:
        sections.append(
            Section(
                "By department" + _more(len(items), depts.get("total", len(items))),
                "",
                tuple((user_text(d["department"]) or "(none)", str(d["count"])) for d in items),
            )
        )

    cap = facts.get("capacity", {})
    if cap:
        fields = tuple(
            (
                c.replace("_", " "),
                f"{cap['counts'].get(c, 0)} ({_pct(cap['share'].get(c))}; target {_pct(cap['target'].get(c))})",
            )
            for c in CAPACITY
        )
        unset = f"{cap.get('unset', 0)} active proposals have no capacity set." if cap.get("unset") else ""
        sections.append(Section("Capacity mix vs target (active proposals)", unset, fields))

    stops = facts.get("stop_conditions", {})
    appr = facts.get("approvals", {})
    attention = [
        (
            "Open stop conditions",
            f"{stops.get('open', 0)} on {stops.get('proposals', 0)} proposals ({_line(stops.get('by_code', {}))})",
        ),
        (
            "Pending approvals",
            f"{appr.get('pending', 0)}; overdue (> {appr.get('overdue_after_hours', 0)} h): {appr.get('overdue', 0)}",
        ),
    ]
    overdue = "\n".join(
        f"- #{o['proposal_id']} {_t(o['title'])}: {o['role']} (<@{o['approver']}>), {o['age_hours']} h"
        for o in appr.get("oldest_overdue", [])
    )
    sections.append(Section("Needs attention", overdue, tuple(attention)))

    incidents = facts.get("incidents", {})
    if incidents.get("open"):
        sections.append(incidents_section(incidents))

    purg = facts.get("purgatory", {})
    if purg.get("count"):
        text = "\n".join(
            f"- #{p['id']} {_t(p['title'])} ({user_text(p['department']) or 'no department'}), "
            f"pilot for {p['days_in_pilot']} days"
            for p in purg.get("items", [])
        )
        sections.append(
            Section(
                f"Pilot purgatory: {purg['count']} pilots older than {purg.get('days')} days, not promoted"
                + _more(len(purg.get("items", [])), purg["count"]),
                text,
            )
        )

    rate = facts.get("pilot_to_production", {})
    if rate.get("pilots"):
        sections.append(
            Section(
                f"Pilot to production, last {rate.get('days')} days: {rate.get('promoted', 0)} of "
                f"{rate['pilots']} pilots promoted ({rate.get('rate_pct')}%)",
                "",
            )
        )

    drift = facts.get("governance_drift", {})
    if drift.get("overdue_reviews"):
        text = "\n".join(
            f"- #{d['id']} {_t(d['title'])} ({d['risk_level']} risk, owner {d['owner'] or 'none'}): review "
            f"{d['days_overdue']} days overdue"
            for d in drift.get("items", [])
        )
        sections.append(
            Section(
                f"Governance drift: {drift['overdue_reviews']} running workflows not reviewed in time"
                + _more(len(drift.get("items", [])), drift["overdue_reviews"]),
                text,
            )
        )

    sprawl = facts.get("sprawl", {})
    if sprawl.get("groups"):
        lines = []
        for g in sprawl["groups"][:SPRAWL_SHOWN]:
            lines.append(f"- {sprawl_line(g)}")
        sections.append(
            Section(
                "AI sprawl: similar proposals across departments"
                + _more(min(len(sprawl["groups"]), SPRAWL_SHOWN), sprawl.get("groups_total", 0)),
                "\n".join(lines),
            )
        )

    vendors = facts.get("by_vendor", {})
    if vendors.get("items"):
        fields = tuple((v["vendor"], str(v["count"])) for v in vendors["items"])
        unnamed = f"{vendors['unnamed']} live workflows name no vendor." if vendors.get("unnamed") else ""
        sections.append(
            Section(
                "Live workflows by AI vendor" + _more(len(vendors["items"]), vendors.get("total", 0)), unnamed, fields
            )
        )
    hand = facts.get("handoffs", {})
    if hand.get("count"):
        lines = [
            f"- #{h['id']} {_t(h['title'], 60)} ({h['department'] or 'no department'}, {h['stage']}) hands work to "
            f"{h['to']}"
            for h in hand.get("items", [])
        ]
        sections.append(
            Section(
                "Automation islands: hand-offs to departments that never signed off"
                + _more(len(hand.get("items", [])), hand["count"]),
                "\n".join(lines),
            )
        )

    value = facts.get("value", {})
    if value:
        latest = "\n".join(
            f"- #{v['proposal_id']} {_t(v['title'], 60)}: {value_line(v)} ({v['period']})"
            for v in value.get("latest", [])
        )
        sections.append(
            Section(
                "Value evidence",
                latest,
                (
                    ("Running (pilot, production)", str(value.get("running", 0))),
                    ("With check-ins", str(value.get("with_checkins", 0))),
                    ("Without check-ins", str(value.get("without_checkins", 0))),
                    (f"No check-in for {value.get('stale_after_days', 14)} days", str(value.get("stale", 0))),
                ),
            )
        )

    tiers = facts.get("eu_tier", {})
    unanswered = facts.get("regulatory_unanswered", 0)
    if tiers or unanswered:
        note = f"Regulatory questions nobody answered: {unanswered} live proposals." if unanswered else ""
        sections.append(Section("EU AI Act tier", note, tuple((k, str(v)) for k, v in tiers.items())))

    reads = facts.get("intake", {})
    if reads:
        sections.append(
            Section(
                "Intake in one paragraph",
                "Questions the requester answered per submitted proposal, and the share of "
                "pre-filled answers they corrected.",
                tuple((f"{name} reading", _intake_line(r)) for name, r in reads.items()),
            )
        )

    # the chart's data rides along, so a channel can draw it from the stored message
    return Message(
        kind="portfolio",
        text=headline,
        sections=tuple(sections),
        image_png=CHART,
        meta={"total": total, "by_stage_risk": pipeline},
    )


def value_line(item: dict[str, Any]) -> str:
    """A running workflow's latest value against its target, and the trend ("11 minutes
    against target 6 minutes (from 12): improving"); the check-in as written when it is
    no number or there is no target (user-written parts marked)."""
    latest = parse_number(item.get("value"))
    if latest is None or item.get("target") is None:
        return user_text(item.get("value"))
    unit = item.get("unit")
    return standing_line({**item, "latest": latest, "unit": user_text(unit) if unit else None})


def _intake_line(reads: dict[str, Any]) -> str:
    answered, corrected = reads.get("answered_mean"), reads.get("correction_rate")
    read = int(reads.get("extractions", 0))
    return (
        f"{read} paragraph{'' if read == 1 else 's'}, {reads.get('settled', 0)} submitted; "
        f"questions answered {'-' if answered is None else answered}; "
        f"corrected {_pct(corrected)}"
    )


def portfolio_chart_png(facts: dict[str, Any], *, dpi: int = 100) -> bytes:
    """The pipeline by stage and risk as a PNG (for channels that attach images).

    Takes the portfolio facts or the portfolio message's `meta` (both hold
    `by_stage_risk`). About 16 KB at the default 100 dpi (800x400 pixels), small
    enough to inline as a data URI in a Teams card; lower `dpi` for smaller."""
    from bot.messages.chart import pipeline_chart_png

    return pipeline_chart_png(facts.get("by_stage_risk", {}), dpi=dpi)
