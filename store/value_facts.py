"""Portfolio and digest facts of value before scale (issue 13): each running workflow's
latest value against its target and the trend, the pilot-to-production rate over the
last quarter, and the week's governance overrides. Used by `store.facts.SqlFacts`;
every list is capped and comes with its total.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, union
from sqlalchemy.orm import Session

from bot.domain import value
from bot.domain.records import as_utc
from store import models as m

P = m.Proposal
QUARTER_DAYS = 91
REASON_MAX = 200
OVERRIDES = {"gate.overridden": "production_gate", "stop_condition.overridden": "stop_condition"}


def standings(session: Session, pids: list[int]) -> dict[int, dict[str, Any]]:
    """{proposal id: its value standing} (`bot.domain.value.standing`) for a capped
    list of running workflows: the last two check-ins of each and its baseline, target
    and unit."""
    if not pids:
        return {}
    ck = m.CheckinModel
    rank = func.row_number().over(partition_by=ck.proposal_id, order_by=(ck.created_at.desc(), ck.id.desc()))
    ranked = select(ck.proposal_id, ck.value, rank.label("rn")).where(ck.proposal_id.in_(pids)).subquery()
    last: dict[int, list[float | None]] = {}
    for pid, raw, _ in session.execute(
        select(ranked).where(ranked.c.rn <= 2).order_by(ranked.c.proposal_id, ranked.c.rn)
    ):
        last.setdefault(pid, []).append(value.parse_number(raw))
    out: dict[int, dict[str, Any]] = {}
    for pid, answers in session.execute(select(P.id, P.answers).where(P.id.in_(pids))):
        seen = last.get(pid, [])
        unit = answers.get("value_unit")
        out[pid] = value.standing(
            seen[0] if seen else None,
            seen[1] if len(seen) > 1 else None,
            value.parse_number(answers.get("value_baseline")),
            value.parse_number(answers.get("value_target")),
            unit if isinstance(unit, str) and unit.strip() else None,
        )
    return out


def pilot_to_production(session: Session, now: datetime, days: int = QUARTER_DAYS) -> dict[str, Any]:
    """Of the workflows that were pilots in the last `days` (still in pilot, or promoted,
    paused or retired from pilot in that time), how many went to production."""
    ae = m.AuditEventModel
    since = now - timedelta(days=days)
    in_window = and_(ae.created_at >= since, ae.created_at < now, ae.detail["from"].as_string() == "pilot")
    promoted = select(ae.proposal_id).where(ae.action == "stage.production", in_window)
    left = select(ae.proposal_id).where(ae.action.in_(("stage.paused", "stage.retired")), in_window)
    current = select(P.id).where(P.stage == "pilot")
    pilots = union(promoted, left, current).subquery()
    n_pilots = session.scalar(select(func.count()).select_from(pilots)) or 0
    n_promoted = session.scalar(select(func.count(func.distinct(promoted.subquery().c.proposal_id)))) or 0
    rate = round(n_promoted / n_pilots, 3) if n_pilots else None
    return {
        "days": days,
        "since": as_utc(since).isoformat(),
        "pilots": int(n_pilots),
        "promoted": int(n_promoted),
        "rate": rate,
        "rate_pct": None if rate is None else round(rate * 100),
    }


def overrides(session: Session, start: datetime, end: datetime, cap: int) -> dict[str, Any]:
    """Governance overrides in [start, end): of the production gate (readiness, value)
    and of stop conditions, newest first, each with who, what and the written reason."""
    ae = m.AuditEventModel
    where = and_(ae.action.in_(tuple(OVERRIDES)), ae.created_at >= as_utc(start), ae.created_at < as_utc(end))
    count = session.scalar(select(func.count()).select_from(ae).where(where)) or 0
    rows = session.execute(
        select(ae.proposal_id, P.title, ae.action, ae.actor, ae.detail, ae.created_at)
        .join(P, P.id == ae.proposal_id)
        .where(where)
        .order_by(ae.created_at.desc(), ae.id.desc())
        .limit(cap)
    ).all()
    items = []
    for pid, title, action, actor, detail, at in rows:
        if action == "gate.overridden":
            what = [str(u.get("code")) for u in detail.get("unmet", []) if isinstance(u, dict)]
        else:
            what = [str(detail.get("code"))]
        reason = str(detail.get("reason") or "")
        items.append(
            {
                "proposal_id": pid,
                "title": title,
                "kind": OVERRIDES[action],
                "overridden": what,
                "by": actor,
                "reason": reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "\u2026",
                "at": as_utc(at).isoformat(),
            }
        )
    return {"count": int(count), "items": items}
