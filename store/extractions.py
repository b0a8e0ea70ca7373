"""The `extractions` table (`bot.ports.ExtractionRepo`): how each paragraph was read,
and, once submitted, which pre-filled answers the requester changed. The counts are
columns, so the figures are one portable GROUP BY on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain.errors import NotFound
from bot.domain.extraction import ExtractionRow
from store.models import ExtractionModel

_FIELDS = tuple(f.name for f in fields(ExtractionRow))


def _row(obj: ExtractionModel) -> ExtractionRow:
    return ExtractionRow(**{name: getattr(obj, name) for name in _FIELDS})


class SqlExtractionRepo:
    def __init__(self, session: Session):
        self.session = session

    def add(self, row: ExtractionRow) -> ExtractionRow:
        values = {name: getattr(row, name) for name in _FIELDS if name != "id"}
        obj = ExtractionModel(
            **values,
            prefilled_count=len(row.prefilled),
            asked_count=len(row.asked),
            changed_count=None if row.changed is None else len(row.changed),
        )
        self.session.add(obj)
        self.session.flush()
        return _row(obj)

    def get(self, extraction_id: int) -> ExtractionRow:
        obj = self.session.get(ExtractionModel, extraction_id, populate_existing=True)
        if obj is None:
            raise NotFound(f"extraction {extraction_id}")
        return _row(obj)

    def settle(self, extraction_id: int, proposal_id: int, changed: Sequence[str], at: datetime) -> None:
        e = ExtractionModel
        result = self.session.execute(
            update(e)
            .where(e.id == extraction_id)
            .values(proposal_id=proposal_id, changed=list(changed), changed_count=len(changed), settled_at=at)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"extraction {extraction_id}")

    def stats(self) -> dict[str, Any]:
        e = ExtractionModel
        settled = e.settled_at.is_not(None)
        rows = self.session.execute(
            select(
                e.extractor,
                func.count(),
                func.count(e.settled_at),
                func.count(e.fallback_reason),
                func.sum(e.prefilled_count),
                func.sum(e.asked_count),
                func.max(e.asked_count),
                func.coalesce(func.sum(e.prefilled_count).filter(settled), 0),
                func.coalesce(func.sum(e.changed_count).filter(settled), 0),
                func.coalesce(func.sum(e.asked_count).filter(settled), 0),
                func.avg(e.latency_ms),
                func.sum(e.tokens_in),
                func.sum(e.tokens_out),
            )
            .group_by(e.extractor)
            .order_by(e.extractor)
        ).all()
        out: dict[str, Any] = {}
        for name, n, n_settled, fallbacks, prefilled, asked, asked_max, pre, chg, ask, lat, t_in, t_out in rows:
            s_pre, s_changed, s_asked = int(pre or 0), int(chg or 0), int(ask or 0)
            out[name] = {
                "extractions": int(n),
                "settled": int(n_settled),
                "fallbacks": int(fallbacks),
                "prefilled_mean": round(int(prefilled or 0) / n, 2) if n else 0.0,
                "asked_mean": round(int(asked or 0) / n, 2) if n else 0.0,
                "asked_max": int(asked_max or 0),
                "answered_mean": round((s_asked + s_changed) / n_settled, 2) if n_settled else None,
                "correction_rate": round(s_changed / s_pre, 3) if s_pre else None,
                "latency_ms_mean": round(float(lat or 0), 1),
                "tokens_in": int(t_in or 0),
                "tokens_out": int(t_out or 0),
            }
        return out
