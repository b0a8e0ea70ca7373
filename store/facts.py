"""Portfolio and digest facts, computed in SQL (implements `bot.ports.FactsReader`).

Every figure is an aggregate (GROUP BY, COUNT, SUM(CASE ...)); no query walks every
row in Python. Every list is capped (`config["list_cap"]`, default 10) and comes with
its total, so the facts -- and the digest prompt built from them -- stay the same size
whatever the portfolio's size.

`config` keys (all optional): `list_cap`, `capacity_targets` ({capacity: share}),
`overdue_after_h`, `purgatory_days`, `stale_checkin_days`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, func, select, tuple_
from sqlalchemy.orm import Session

from bot.domain.proposal import CAPACITY, REGULATORY_KEYS, RISK_LEVELS, STAGES, STOP_CONDITIONS
from bot.domain.records import as_utc
from store import models as m
from store.incidents import digest_incidents, portfolio_incidents
from store.portfolio_facts import by_vendor, handoffs, new_duplicates, sprawl_clusters
from store.value_facts import overrides, pilot_to_production, standings

P = m.Proposal
INACTIVE = ("rejected", "retired")  # left out of capacity, stop conditions and sprawl
RUNNING = ("pilot", "production")  # stages that should show value
DECISIONS = ("approve", "reject", "request_changes")
EU_TIERS = ("prohibited", "high", "limited", "minimal")
SPRAWL_MEMBERS = 5
VALUE_MAX = 200  # characters of a check-in value kept in the facts


def _iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def _clip(text: str | None, limit: int = VALUE_MAX) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


class SqlFacts:
    """Aggregates over one session (the unit of work's)."""

    def __init__(self, session: Session):
        self.session = session

    # ------------------------------------------------------------------ portfolio

    def portfolio(self, now: datetime, config: dict[str, Any]) -> dict[str, Any]:
        """Counts by stage and risk, department, capacity mix vs target, stop
        conditions, approvals, pilot purgatory, AI sprawl, value evidence, EU tier,
        the live proposals whose regulatory questions are unanswered and open incidents."""
        cap = int(config.get("list_cap", 10))
        counts = self._overview()
        by_stage, by_risk, by_stage_risk, total = _stage_risk(counts["stage_risk"])
        return {
            "generated_at": _iso(now),
            "list_cap": cap,
            "total": total,
            "by_stage": by_stage,
            "by_risk": by_risk,
            "by_stage_risk": by_stage_risk,
            "by_department": _departments(counts["department"], cap),
            "capacity": _capacity(counts["capacity"], config.get("capacity_targets") or {}),
            "stop_conditions": self._stop_conditions(),
            "approvals": self._approvals(now, float(config.get("overdue_after_h", 48.0)), cap),
            "purgatory": self._purgatory(now, int(config.get("purgatory_days", 90)), cap),
            "pilot_to_production": pilot_to_production(self.session, now),
            "sprawl": self._sprawl(cap),
            "value": self._value(
                now, int(config.get("stale_checkin_days", 14)), cap, sum(by_stage.get(s, 0) for s in RUNNING)
            ),
            "eu_tier": _eu_tier(counts["eu_tier"]),
            "regulatory_unanswered": self._regulatory_unanswered(),
            "governance_drift": self._drift(now, cap),
            "by_vendor": by_vendor(self.session, cap),
            "handoffs": handoffs(self.session, cap),
            "incidents": portfolio_incidents(self.session, cap),
        }

    def _regulatory_unanswered(self) -> int:
        """Live proposals (not rejected or retired) whose regulatory questions nobody
        answered: every regulatory key absent or null in the stored answers (DESIGN.md
        `eu_ai_act.answered` false; `assess <id>` asks them)."""
        blank = [P.answers[key].as_string().is_(None) for key in REGULATORY_KEYS]
        return self.session.scalar(select(func.count()).select_from(P).where(P.stage.not_in(INACTIVE), *blank)) or 0

    def _overview(self) -> dict[str, list[tuple[Any, ...]]]:
        """Counts by (stage, risk), department, capacity of active proposals and EU
        tier: one scan with GROUPING SETS on PostgreSQL, four GROUP BYs elsewhere."""
        dept = func.coalesce(P.department, "").label("department")
        capacity = case((P.stage.in_(INACTIVE), INACTIVE_MARK), else_=func.coalesce(P.capacity, "")).label("cap")
        tier = func.coalesce(P.eu_tier, "unassessed").label("tier")
        if self.session.get_bind().dialect.name != "postgresql":
            return {
                "stage_risk": [
                    tuple(r)
                    for r in self.session.execute(
                        select(P.stage, P.risk_level, func.count()).group_by(P.stage, P.risk_level)
                    )
                ],
                "department": [tuple(r) for r in self.session.execute(select(dept, func.count()).group_by(dept))],
                "capacity": [tuple(r) for r in self.session.execute(select(capacity, func.count()).group_by(capacity))],
                "eu_tier": [tuple(r) for r in self.session.execute(select(tier, func.count()).group_by(tier))],
            }
        inner = select(P.stage, P.risk_level, dept, capacity, tier).subquery()
        c = inner.c
        sets = func.grouping_sets(tuple_(c.stage, c.risk_level), tuple_(c.department), tuple_(c.cap), tuple_(c.tier))
        stmt = select(
            func.grouping(c.stage, c.risk_level),
            func.grouping(c.department),
            func.grouping(c.cap),
            c.stage,
            c.risk_level,
            c.department,
            c.cap,
            c.tier,
            func.count(),
        ).group_by(sets)
        out: dict[str, list[tuple[Any, ...]]] = {"stage_risk": [], "department": [], "capacity": [], "eu_tier": []}
        for g_sr, g_dept, g_cap, stage, risk, department, cap, tier_, n in self.session.execute(stmt):
            if g_sr == 0:
                out["stage_risk"].append((stage, risk, n))
            elif g_dept == 0:
                out["department"].append((department, n))
            elif g_cap == 0:
                out["capacity"].append((cap, n))
            else:
                out["eu_tier"].append((tier_, n))
        return out

    def _stage_risk(self) -> tuple[dict[str, int], dict[str, int], dict[str, dict[str, int]], int]:
        return _stage_risk(
            self.session.execute(select(P.stage, P.risk_level, func.count()).group_by(P.stage, P.risk_level)).all()
        )

    def _open_stops(self) -> Any:
        sc = m.StopCondition
        return (
            select(sc.code, func.count().label("n"), func.count(distinct(sc.proposal_id)).label("p"))
            .join(P, P.id == sc.proposal_id)
            .where(sc.status == "open", P.stage.not_in(INACTIVE))
        )

    def _stop_conditions(self) -> dict[str, Any]:
        sc = m.StopCondition
        rows = self.session.execute(self._open_stops().group_by(sc.code)).all()
        by_code = dict.fromkeys(STOP_CONDITIONS, 0)
        for code, n, _ in rows:
            by_code[code] = n
        proposals = (
            self.session.scalar(
                select(func.count(distinct(sc.proposal_id)))
                .join(P, P.id == sc.proposal_id)
                .where(sc.status == "open", P.stage.not_in(INACTIVE))
            )
            or 0
        )
        overridden = self.session.scalar(select(func.count()).select_from(sc).where(sc.status == "overridden")) or 0
        return {"open": sum(by_code.values()), "proposals": proposals, "by_code": by_code, "overridden": overridden}

    def _approvals(self, now: datetime, overdue_after_h: float, cap: int) -> dict[str, Any]:
        ar = m.ApprovalRequest
        cutoff = now - timedelta(hours=overdue_after_h)
        pending, overdue = self.session.execute(
            select(func.count(), func.coalesce(func.sum(case((ar.created_at < cutoff, 1), else_=0)), 0)).where(
                ar.status == "pending"
            )
        ).one()
        rows = self.session.execute(
            select(ar.id, ar.proposal_id, P.title, ar.role, ar.approver, ar.created_at)
            .join(P, P.id == ar.proposal_id)
            .where(ar.status == "pending", ar.created_at < cutoff)
            .order_by(ar.created_at, ar.id)
            .limit(cap)
        ).all()
        oldest = [
            {
                "request_id": rid,
                "proposal_id": pid,
                "title": title,
                "role": role,
                "approver": approver,
                "age_hours": int((now - as_utc(created)).total_seconds() // 3600),
            }
            for rid, pid, title, role, approver, created in rows
        ]
        return {
            "pending": int(pending or 0),
            "overdue": int(overdue or 0),
            "overdue_after_hours": _num(overdue_after_h),
            "oldest_overdue": oldest,
        }

    def _purgatory_where(self, now: datetime, days: int) -> Any:
        return and_(P.stage == "pilot", P.stage_changed_at < now - timedelta(days=days))

    def _purgatory(self, now: datetime, days: int, cap: int) -> dict[str, Any]:
        """Pilots older than `days` that were not promoted, whatever their check-ins:
        how many, and the oldest `cap` (two statements: a count, and the capped list)."""
        where = self._purgatory_where(now, days)
        count = self.session.scalar(select(func.count()).select_from(P).where(where)) or 0
        rows = self.session.execute(
            select(P.id, P.title, P.department, P.owner, P.stage_changed_at)
            .where(where)
            .order_by(P.stage_changed_at, P.id)
            .limit(cap)
        ).all()
        items = [
            {
                "id": pid,
                "title": title,
                "department": dept,
                "owner": owner,
                "pilot_since": _iso(since),
                "days_in_pilot": (now - as_utc(since)).days,
            }
            for pid, title, dept, owner, since in rows
        ]
        return {"days": days, "count": count, "items": items}

    def _drift(self, now: datetime, cap: int) -> dict[str, Any]:
        """Governance drift: running workflows whose review (bot.service.reassess) is
        still open past its drift date; how many, and the longest overdue `cap`."""
        r = m.ReassessmentModel
        where = and_(r.status == "open", r.drift_at < now, P.stage.in_(RUNNING))
        joined = select(func.count()).select_from(r).join(P, P.id == r.proposal_id).where(where)
        count = self.session.scalar(joined) or 0
        rows = self.session.execute(
            select(P.id, P.title, P.owner, P.risk_level, r.due_at)
            .join(P, P.id == r.proposal_id)
            .where(where)
            .order_by(r.due_at, P.id)
            .limit(cap)
        ).all()
        items = [
            {
                "id": pid,
                "title": title,
                "owner": owner,
                "risk_level": risk,
                "review_due": _iso(due),
                "days_overdue": (now - as_utc(due)).days,
            }
            for pid, title, owner, risk, due in rows
        ]
        return {"overdue_reviews": count, "items": items}

    def _sprawl(self, cap: int) -> dict[str, Any]:
        """Clusters of near-duplicates: the live proposals joined by the pairs found at
        submission (`similar_pairs`, across departments), as connected groups, largest
        first. Each names up to SPRAWL_MEMBERS members (one per department first) and
        the reason of its closest pair."""
        return sprawl_clusters(self.session, cap)

    def _value(self, now: datetime, stale_days: int, cap: int, running: int) -> dict[str, Any]:
        """Running workflows (pilot, production) with and without check-ins, those
        without one in `stale_days`, and the latest value of up to `cap` of them: one
        statement over the check-ins grouped per running workflow."""
        ck = m.CheckinModel
        per = (
            select(ck.proposal_id.label("pid"), func.max(ck.id).label("last"), func.max(ck.created_at).label("at"))
            .join(P, and_(P.id == ck.proposal_id, P.stage.in_(RUNNING)))
            .group_by(ck.proposal_id)
            .cte("per")
        )
        recent = func.sum(case((per.c.at >= now - timedelta(days=stale_days), 1), else_=0)).over()
        top = (
            select(per.c.last, func.count().over().label("with_checkins"), recent.label("recent"))
            .order_by(per.c.last.desc())
            .limit(cap)
            .subquery()
        )
        rows = self.session.execute(
            select(top.c.with_checkins, top.c.recent, ck.proposal_id, P.title, ck.value, ck.period, ck.created_at)
            .select_from(top)
            .join(ck, ck.id == top.c.last)
            .join(P, P.id == ck.proposal_id)
            .order_by(ck.id.desc())
        ).all()
        with_checkins, recent_n = (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)
        standing = standings(self.session, [row[2] for row in rows])
        latest = [
            {
                "proposal_id": pid,
                "title": title,
                "value": _clip(value),
                "period": period,
                "at": _iso(at),
                **{k: v for k, v in standing[pid].items() if k != "latest"},
            }
            for _, _, pid, title, value, period, at in rows
        ]
        return {
            "running": running,
            "with_checkins": with_checkins,
            "without_checkins": running - with_checkins,
            "stale": running - recent_n,
            "stale_after_days": stale_days,
            "latest": latest,
        }

    # ------------------------------------------------------------------ digest

    def digest(
        self, period_start: datetime, period_end: datetime, now: datetime, config: dict[str, Any]
    ) -> dict[str, Any]:
        """This period against the one before: new proposals, decisions, stage moves,
        check-ins, incidents reported and resolved; and, as of `now`, overdue approvals,
        stop conditions, purgatory, open incidents."""
        cap = int(config.get("list_cap", 10))
        start, end = as_utc(period_start), as_utc(period_end)
        prev = start - (end - start)
        by_stage, by_risk, _, total = self._stage_risk()
        approvals = self._approvals(now, float(config.get("overdue_after_h", 48.0)), min(cap, 5))
        stops = self._stop_conditions()
        stops["opened_this_week"] = self._stops_opened(start, end)
        running = sum(by_stage.get(s, 0) for s in RUNNING)
        return {
            "period": {
                "start": _iso(start),
                "end": _iso(end),
                "previous_start": _iso(prev),
                "start_date": start.date().isoformat(),
                "end_date": end.date().isoformat(),
                "week": "{}-W{:02d}".format(*(start + (end - start) / 2).isocalendar()[:2]),
            },
            "portfolio": {"total": total, "by_stage": {k: v for k, v in by_stage.items() if v}, "by_risk": by_risk},
            "new_proposals": self._new(prev, start, end, cap),
            "duplicates": new_duplicates(self.session, start, end, cap),
            "decisions": self._decisions(prev, start, end),
            "stage_moves": self._moves(prev, start, end),
            "approvals": approvals,
            "stop_conditions": stops,
            "purgatory": self._purgatory(now, int(config.get("purgatory_days", 90)), min(cap, 5)),
            "pilot_to_production": pilot_to_production(self.session, now),
            "checkins": self._checkins(prev, start, end, cap),
            "value": self._value(now, int(config.get("stale_checkin_days", 14)), min(cap, 5), running),
            "overrides": overrides(self.session, start, end, cap),
            "governance_drift": self._drift(now, min(cap, 5)),
            "incidents": digest_incidents(self.session, start, end, min(cap, 5)),
        }

    @staticmethod
    def _buckets(column: Any, prev: datetime, start: datetime, end: datetime) -> tuple[Any, Any]:
        this = func.coalesce(func.sum(case((and_(column >= start, column < end), 1), else_=0)), 0)
        last = func.coalesce(func.sum(case((and_(column >= prev, column < start), 1), else_=0)), 0)
        return this, last

    def _new(self, prev: datetime, start: datetime, end: datetime, cap: int) -> dict[str, Any]:
        this, last = self._buckets(P.created_at, prev, start, end)
        a, b = self.session.execute(select(this, last).where(P.created_at >= prev, P.created_at < end)).one()
        in_period = and_(P.created_at >= start, P.created_at < end)
        risk = dict.fromkeys(RISK_LEVELS, 0)
        for level, n in self.session.execute(
            select(P.risk_level, func.count()).where(in_period).group_by(P.risk_level)
        ):
            risk[level] = n
        rows = self.session.execute(
            select(P.id, P.title, P.department, P.risk_level, P.stage)
            .where(in_period)
            .order_by(P.created_at.desc(), P.id.desc())
            .limit(cap)
        ).all()
        items = [{"id": i, "title": t, "department": d, "risk_level": r, "stage": s} for i, t, d, r, s in rows]
        return {"this_week": int(a), "last_week": int(b), "change": int(a) - int(b), "by_risk": risk, "items": items}

    def _decisions(self, prev: datetime, start: datetime, end: datetime) -> dict[str, Any]:
        d = m.Decision
        this, last = self._buckets(d.created_at, prev, start, end)
        out = {"this_week": dict.fromkeys(DECISIONS, 0), "last_week": dict.fromkeys(DECISIONS, 0)}
        for kind, a, b in self.session.execute(
            select(d.decision, this, last).where(d.created_at >= prev, d.created_at < end).group_by(d.decision)
        ):
            out["this_week"][kind] = int(a)
            out["last_week"][kind] = int(b)
        out["this_week_total"] = sum(out["this_week"].values())  # type: ignore[assignment]
        out["last_week_total"] = sum(out["last_week"].values())  # type: ignore[assignment]
        return out

    def _moves(self, prev: datetime, start: datetime, end: datetime) -> dict[str, Any]:
        ae = m.AuditEventModel
        this, last = self._buckets(ae.created_at, prev, start, end)
        out: dict[str, Any] = {"this_week": {}, "last_week": {}}
        rows = self.session.execute(
            select(ae.action, this, last)
            .where(ae.action.like("stage.%"), ae.created_at >= prev, ae.created_at < end)
            .group_by(ae.action)
            .order_by(ae.action)
        )
        for action, a, b in rows:
            stage = action.split(".", 1)[1]
            if a:
                out["this_week"][stage] = int(a)
            if b:
                out["last_week"][stage] = int(b)
        out["this_week_total"] = sum(out["this_week"].values())
        out["last_week_total"] = sum(out["last_week"].values())
        return out

    def _stops_opened(self, start: datetime, end: datetime) -> int:
        sc = m.StopCondition
        return (
            self.session.scalar(
                select(func.count())
                .select_from(sc)
                .where(sc.status == "open", sc.changed_at >= start, sc.changed_at < end)
            )
            or 0
        )

    def _checkins(self, prev: datetime, start: datetime, end: datetime, cap: int) -> dict[str, Any]:
        ck = m.CheckinModel
        this, last = self._buckets(ck.created_at, prev, start, end)
        a, b = self.session.execute(select(this, last).where(ck.created_at >= prev, ck.created_at < end)).one()
        # one line per workflow: its latest check-in of the week (a correction replaces the first report)
        latest = (
            select(func.max(ck.id))
            .where(ck.created_at >= start, ck.created_at < end)
            .group_by(ck.proposal_id)
            .scalar_subquery()
        )
        rows = self.session.execute(
            select(ck.proposal_id, P.title, ck.value, ck.period)
            .join(P, P.id == ck.proposal_id)
            .where(ck.id.in_(latest))
            .order_by(ck.created_at.desc(), ck.id.desc())
            .limit(cap)
        ).all()
        items = [{"proposal_id": pid, "title": t, "value": _clip(v), "period": per} for pid, t, v, per in rows]
        return {"this_week": int(a), "last_week": int(b), "change": int(a) - int(b), "items": items}


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


INACTIVE_MARK = "-"  # capacity bucket of rejected/retired proposals (left out of the mix)


def _stage_risk(rows: Any) -> tuple[dict[str, int], dict[str, int], dict[str, dict[str, int]], int]:
    by_stage = dict.fromkeys(STAGES, 0)
    by_risk = dict.fromkeys(RISK_LEVELS, 0)
    grid = {s: dict.fromkeys(RISK_LEVELS, 0) for s in STAGES}
    for stage, risk, n in rows:
        by_stage[stage] = by_stage.get(stage, 0) + n
        by_risk[risk] = by_risk.get(risk, 0) + n
        grid.setdefault(stage, dict.fromkeys(RISK_LEVELS, 0))[risk] = n
    return by_stage, by_risk, grid, sum(by_stage.values())


def _departments(rows: Any, cap: int) -> dict[str, Any]:
    """Top `cap` departments by count (rows are one per department, not per proposal)."""
    top = sorted(rows, key=lambda r: (-r[1], r[0]))[:cap]
    return {"total": len(rows), "items": [{"department": d or None, "count": n} for d, n in top]}


def _capacity(rows: Any, targets: dict[str, float]) -> dict[str, Any]:
    counts = dict.fromkeys(CAPACITY, 0)
    unset = 0
    for capacity, n in rows:
        if capacity == INACTIVE_MARK:
            continue
        if capacity in counts:
            counts[capacity] = n
        else:
            unset += n
    assigned = sum(counts.values())
    share: dict[str, float | None] = {c: (round(counts[c] / assigned, 3) if assigned else None) for c in CAPACITY}
    target: dict[str, float | None] = {c: float(targets[c]) if c in targets else None for c in CAPACITY}
    gap = {c: _diff(share[c], target[c]) for c in CAPACITY}
    return {
        "counts": counts,
        "unset": unset,
        "share": share,
        "target": target,
        "gap": gap,
        "share_pct": {c: (round(v * 100) if v is not None else None) for c, v in share.items()},
        "target_pct": {c: (round(v * 100) if v is not None else None) for c, v in target.items()},
    }


def _eu_tier(rows: Any) -> dict[str, int]:
    out = dict.fromkeys(EU_TIERS, 0)
    for name, n in rows:
        out[name] = n
    return out


def _diff(share: float | None, target: float | None) -> float | None:
    return None if share is None or target is None else round(share - target, 3)
