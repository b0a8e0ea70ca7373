"""The `incidents` table (`bot.ports.IncidentRepo`) and the incident figures of the
portfolio and digest facts (`store.facts.SqlFacts`), in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.domain.errors import NotFound
from bot.domain.incidents import SEVERITIES, IncidentRow
from bot.domain.records import as_utc
from store import models as m

_FIELDS = tuple(f.name for f in fields(IncidentRow))
I = m.IncidentModel  # noqa: E741 - the table, as `P` is the proposals table in store.facts
TEXT_SHOWN = 200  # characters of an incident's text kept in the portfolio facts


def _row(obj: m.IncidentModel) -> IncidentRow:
    return IncidentRow(**{name: getattr(obj, name) for name in _FIELDS})


class SqlIncidentRepo:
    def __init__(self, session: Session):
        self.session = session

    def add(self, row: IncidentRow) -> IncidentRow:
        obj = I(**{name: getattr(row, name) for name in _FIELDS if name != "id"})
        self.session.add(obj)
        self.session.flush()
        return _row(obj)

    def get(self, incident_id: int, *, for_update: bool = False) -> IncidentRow:
        stmt = select(I).where(I.id == incident_id)
        if for_update:
            stmt = stmt.with_for_update()
        obj = self.session.scalars(stmt).first()
        if obj is None:
            raise NotFound(f"incident {incident_id}")
        return _row(obj)

    def resolve(self, incident_id: int, resolution: str, by: str, at: datetime) -> IncidentRow:
        obj = self.session.get(I, incident_id)
        if obj is None:
            raise NotFound(f"incident {incident_id}")
        obj.status, obj.resolution, obj.resolved_by, obj.resolved_at = "resolved", resolution, by, at
        self.session.flush()
        return _row(obj)

    def for_proposal(self, proposal_id: int) -> list[IncidentRow]:
        stmt = select(I).where(I.proposal_id == proposal_id).order_by(I.created_at, I.id)
        return [_row(o) for o in self.session.scalars(stmt)]

    def for_proposals(self, proposal_ids: Sequence[int]) -> dict[int, list[IncidentRow]]:
        out: dict[int, list[IncidentRow]] = {}
        ids = list(proposal_ids)
        for start in range(0, len(ids), 1000):
            stmt = select(I).where(I.proposal_id.in_(ids[start : start + 1000])).order_by(I.created_at, I.id)
            for obj in self.session.scalars(stmt):
                out.setdefault(obj.proposal_id, []).append(_row(obj))
        return out

    def open_count(self, proposal_id: int) -> int:
        stmt = select(func.count()).select_from(I).where(I.proposal_id == proposal_id, I.status == "open")
        return int(self.session.scalar(stmt) or 0)


def _open_items(session: Session, cap: int, *, with_text: bool) -> list[dict[str, Any]]:
    rank = case({s: n for n, s in enumerate(reversed(SEVERITIES))}, value=I.severity, else_=9)  # high first
    stmt = (
        select(I.id, I.proposal_id, m.Proposal.title, m.Proposal.stage, I.severity, I.text, I.reported_by, I.created_at)
        .join(m.Proposal, m.Proposal.id == I.proposal_id)
        .where(I.status == "open")
        .order_by(rank, I.created_at, I.id)
        .limit(cap)
    )
    rows = session.execute(stmt).all()
    items = []
    for r in rows:
        item: dict[str, Any] = {
            "id": r.id,
            "proposal_id": r.proposal_id,
            "title": r.title,
            "stage": r.stage,
            "severity": r.severity,
            "reported_by": r.reported_by,
            "created_at": as_utc(r.created_at).isoformat(),
        }
        if with_text:
            text = r.text or ""
            item["text"] = text if len(text) <= TEXT_SHOWN else text[: TEXT_SHOWN - 1] + "\u2026"
        items.append(item)
    return items


def _open_by_severity(session: Session) -> dict[str, int]:
    rows = session.execute(select(I.severity, func.count()).where(I.status == "open").group_by(I.severity)).all()
    found = {s: int(n) for s, n in rows}
    return {s: found.get(s, 0) for s in reversed(SEVERITIES)}


def portfolio_incidents(session: Session, cap: int) -> dict[str, Any]:
    """Open incidents by severity and the open ones (high first, oldest first), with
    what happened."""
    by_severity = _open_by_severity(session)
    return {
        "open": sum(by_severity.values()),
        "open_by_severity": by_severity,
        "items": _open_items(session, cap, with_text=True),
    }


def digest_incidents(session: Session, start: datetime, end: datetime, cap: int) -> dict[str, Any]:
    """Incidents reported and resolved in [start, end), and those open now. The digest
    names each open one by its workflow's title and severity; what people typed about
    it stays in `status` (the digest carries no incident text)."""
    start, end = as_utc(start), as_utc(end)

    def count(column: Any) -> int:
        stmt = select(func.count()).select_from(I).where(column >= start, column < end)
        return int(session.scalar(stmt) or 0)

    by_severity = _open_by_severity(session)
    return {
        "reported_this_week": count(I.created_at),
        "resolved_this_week": count(I.resolved_at),
        "open": sum(by_severity.values()),
        "open_by_severity": by_severity,
        "items": _open_items(session, cap, with_text=False),
    }
