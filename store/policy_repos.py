"""Repositories of policy versions, reassessments and the live portfolio's verdicts.

`SqlPolicyRepo` also streams the live proposals with their stored verdicts for the
what-if (one query, a server-side cursor on PostgreSQL, `batch` rows at a time) and
pages through them by id for `policy apply` (each page is a short query, so the writes
of the same transaction can go between them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from bot.domain.records import (
    ClassificationRow,
    PolicyVersionRow,
    ProposalRow,
    ReassessmentRow,
    StoredVerdict,
)
from store import models as m
from store.repositories import _record, _Repo, _values


def _latest_ids() -> Any:
    c = m.Classification
    return select(c.proposal_id, func.max(c.id).label("cid")).group_by(c.proposal_id).subquery()


class SqlPolicyRepo(_Repo):
    # ------------------------------------------------------------------ versions
    def add(self, row: PolicyVersionRow) -> PolicyVersionRow:
        obj = m.PolicyVersionModel(**_values(row))
        self.session.add(obj)
        self.session.flush()
        return _record(PolicyVersionRow, obj)

    def get(self, version_id: int) -> PolicyVersionRow:
        stmt = select(m.PolicyVersionModel).where(m.PolicyVersionModel.id == version_id)
        return _record(PolicyVersionRow, self._one(stmt, f"policy version {version_id}"))

    def active_stamp(self) -> tuple[int, str] | None:
        v = m.PolicyVersionModel
        stmt = select(v.id, v.hash).where(v.kind == "applied").order_by(v.id.desc()).limit(1)
        found = self.session.execute(stmt).first()
        return (int(found[0]), str(found[1])) if found else None

    def active(self) -> PolicyVersionRow | None:
        rows = self.history(1)
        return rows[0] if rows else None

    def history(self, limit: int = 20) -> list[PolicyVersionRow]:
        v = m.PolicyVersionModel
        stmt = select(v).where(v.kind == "applied").order_by(v.id.desc()).limit(limit)
        return self._all(PolicyVersionRow, stmt)

    def mark(self, version_id: int, kind: str) -> None:
        self._update(
            m.PolicyVersionModel, m.PolicyVersionModel.id == version_id, {"kind": kind}, f"policy version {version_id}"
        )

    # ------------------------------------------------------------------ the live portfolio
    def live_verdicts(self, exclude_stages: Sequence[str], batch: int = 1000) -> Iterator[list[StoredVerdict]]:
        p, c = m.Proposal, m.Classification
        latest = _latest_ids()
        stmt = (
            select(
                p.id,
                p.answers,
                func.coalesce(c.risk_level, p.risk_level),
                p.eu_tier,
                c.result["stop_conditions"],
                c.result["approver_roles"],
            )
            .select_from(p)
            .outerjoin(latest, latest.c.proposal_id == p.id)
            .outerjoin(c, c.id == latest.c.cid)
            .where(p.stage.not_in(list(exclude_stages)))
            .order_by(p.id)
            .execution_options(yield_per=batch)
        )
        for part in self.session.execute(stmt).partitions():
            yield [
                StoredVerdict(pid, answers, risk, tier, tuple(stops or ()), tuple(roles or ()))
                for pid, answers, risk, tier, stops, roles in part
            ]

    def live_page(
        self, exclude_stages: Sequence[str], after_id: int, limit: int
    ) -> list[tuple[ProposalRow, ClassificationRow | None]]:
        p, c = m.Proposal, m.Classification
        page = select(p).where(p.stage.not_in(list(exclude_stages)), p.id > after_id).order_by(p.id).limit(limit)
        proposals = self._all(ProposalRow, page)
        if not proposals:
            return []
        ids = [r.id for r in proposals]
        latest = select(func.max(c.id)).where(c.proposal_id.in_(ids)).group_by(c.proposal_id)
        found = {r.proposal_id: r for r in self._all(ClassificationRow, select(c).where(c.id.in_(latest)))}
        return [(r, found.get(r.id)) for r in proposals]


class SqlReassessmentRepo(_Repo):
    def add(self, row: ReassessmentRow) -> ReassessmentRow:
        obj = m.ReassessmentModel(**_values(row))
        self.session.add(obj)
        self.session.flush()
        return _record(ReassessmentRow, obj)

    def get(self, reassessment_id: int, *, for_update: bool = False) -> ReassessmentRow:
        stmt = select(m.ReassessmentModel).where(m.ReassessmentModel.id == reassessment_id)
        if for_update:
            stmt = stmt.with_for_update()
        return _record(ReassessmentRow, self._one(stmt, f"reassessment {reassessment_id}"))

    def update(self, row: ReassessmentRow) -> None:
        r = m.ReassessmentModel
        self._update(r, r.id == row.id, _values(row), f"reassessment {row.id}")

    def for_proposal(self, proposal_id: int) -> list[ReassessmentRow]:
        r = m.ReassessmentModel
        return self._all(ReassessmentRow, select(r).where(r.proposal_id == proposal_id).order_by(r.id))

    def open_for(self, proposal_id: int) -> ReassessmentRow | None:
        r = m.ReassessmentModel
        stmt = select(r).where(r.proposal_id == proposal_id, r.status == "open").order_by(r.id.desc()).limit(1)
        rows = self._all(ReassessmentRow, stmt)
        return rows[0] if rows else None

    def last_closed_at(self, proposal_ids: Sequence[int]) -> dict[int, datetime]:
        r = m.ReassessmentModel
        stmt = (
            select(r.proposal_id, func.max(r.closed_at))
            .where(r.proposal_id.in_(list(proposal_ids)), r.status.in_(("confirmed", "edited")))
            .group_by(r.proposal_id)
        )
        return {int(pid): at for pid, at in self.session.execute(stmt) if at is not None}

    def last_revised_at(self, proposal_ids: Sequence[int]) -> dict[int, datetime]:
        v = m.ProposalRevision
        stmt = (
            select(v.proposal_id, func.max(v.created_at))
            .where(v.proposal_id.in_(list(proposal_ids)))
            .group_by(v.proposal_id)
        )
        return {int(pid): at for pid, at in self.session.execute(stmt) if at is not None}

    def open_ids(self, proposal_ids: Sequence[int]) -> set[int]:
        r = m.ReassessmentModel
        stmt = select(r.proposal_id).where(r.proposal_id.in_(list(proposal_ids)), r.status == "open")
        return {int(pid) for pid in self.session.scalars(stmt)}

    def close_open(self, proposal_id: int, status: str, by: str, at: datetime) -> list[int]:
        r = m.ReassessmentModel
        ids = list(self.session.scalars(select(r.id).where(r.proposal_id == proposal_id, r.status == "open")))
        if ids:
            self.session.execute(update(r).where(r.id.in_(ids)).values(status=status, closed_at=at, closed_by=by))
        return ids
