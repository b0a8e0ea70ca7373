"""The production gate read from the store: the figures `bot.domain.gates` judges, and a
running workflow's value standing (latest check-in against its target, and the trend).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import gates, value
from bot.domain.records import Checkin, ProposalRow, as_utc
from bot.domain.regulatory import answered
from bot.ports import UnitOfWork


def open_incident_count(uow: UnitOfWork, proposal_id: int) -> int:
    """How many incidents on the proposal are still open (they block `promote`)."""
    return uow.incidents.open_count(proposal_id)


def numbers(checkins: list[Checkin]) -> list[float]:
    """The check-ins that are numbers, oldest first (check-ins stored before values were
    numbers may hold words; they are left out)."""
    out = []
    for c in checkins:
        n = value.parse_number(c.value)
        if n is not None:
            out.append(n)
    return out


def value_standing(row: ProposalRow, checkins: list[Checkin]) -> dict[str, Any]:
    """`status --json` key `value`: baseline, target, unit, latest, meets_target, trend."""
    a = row.answers
    seen = numbers(checkins)
    latest = seen[-1] if seen else None
    previous = seen[-2] if len(seen) > 1 else None
    return value.standing(latest, previous, _num(a.get("value_baseline")), _num(a.get("value_target")), _unit(a))


def gate_input(uow: UnitOfWork, row: ProposalRow, now: datetime, min_pilot_days: int = 0) -> gates.GateInput:
    """The figures of the production gate for `row`, read in `uow`."""
    latest = uow.classifications.latest(row.id)
    readiness = (latest.result.get("readiness") if latest else None) or {}
    seen = numbers(uow.checkins.for_proposal(row.id))
    a = row.answers
    return gates.GateInput(
        proposal_id=row.id,
        readiness_score=int(readiness.get("score") or 0),
        readiness_max=int(readiness.get("max") or 6),
        readiness_missing=tuple(readiness.get("missing") or ()),
        baseline=_num(a.get("value_baseline")),
        target=_num(a.get("value_target")),
        unit=_unit(a),
        latest_checkin=seen[-1] if seen else None,
        open_incidents=open_incident_count(uow, row.id),
        regulatory_answered=answered(a),
        pilot_days=max(0, (now - as_utc(row.stage_changed_at)).days) if row.stage == "pilot" else 0,
        min_pilot_days=min_pilot_days,
    )


def gate_json(unmet: list[gates.Unmet]) -> list[dict[str, Any]]:
    """The unmet conditions, JSON-ready: `[{"code", "text", "overridable"}]`."""
    return [{"code": u.code, "text": u.text, "overridable": u.overridable} for u in unmet]


def last_override(audit: list[Any]) -> dict[str, Any] | None:
    """The latest governance override of the production gate in a proposal's trail."""
    for event in reversed(audit):
        if event.action == "gate.overridden":
            return {"by": event.actor, "at": as_utc(event.created_at).isoformat(), **event.detail}
    return None


def _num(raw: Any) -> float | None:
    return value.parse_number(raw)


def _unit(answers: dict[str, Any]) -> str | None:
    unit = answers.get("value_unit")
    return unit if isinstance(unit, str) and unit.strip() else None
