"""`inbound_actions`: acknowledged actions (`bot.ports.InboundActionRepo`).

Every change of a row is one conditional UPDATE (status still `received`, held by whom
the caller says), so two processes working through the same rows never both finish
or take over one.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from bot.domain.records import InboundAction
from store import models as m
from store.repositories import _dialect_insert, _known_id, _record, _Repo, _table

RECEIVED = "received"


class SqlInboundActionRepo(_Repo):
    def add(
        self,
        platform: str,
        key: str,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        owner: str,
        at: datetime,
        lease_until: datetime,
    ) -> tuple[InboundAction, bool]:
        t = _table(m.InboundActionModel)
        values = {
            "platform": platform,
            "key": key,
            "actor": actor,
            "kind": kind,
            "payload": payload,
            "status": RECEIVED,
            "attempts": 1,
            "claimed_by": owner,
            "lease_until": lease_until,
            "last_error": None,
            "received_at": at,
            "updated_at": at,
            "finished_at": None,
        }
        stmt = _dialect_insert(self.session, t).values(**values)
        stmt = stmt.on_conflict_do_nothing(index_elements=["platform", "key"]).returning(t.c.id)
        new_id = self.session.execute(stmt).scalar()
        if new_id is not None:
            return self.get(int(new_id)), True
        a = m.InboundActionModel
        found = self._one(select(a).where(a.platform == platform, a.key == key), f"inbound action {platform} {key}")
        return _record(InboundAction, found), False

    def get(self, action_id: int) -> InboundAction:
        _known_id(action_id, "inbound action")
        a = m.InboundActionModel
        return _record(InboundAction, self._one(select(a).where(a.id == action_id), f"inbound action {action_id}"))

    def unfinished(self, limit: int = 100) -> builtins.list[InboundAction]:
        a = m.InboundActionModel
        return self._all(InboundAction, select(a).where(a.status == RECEIVED).order_by(a.id).limit(limit))

    def claim(self, action_id: int, held_by: str | None, owner: str, at: datetime, lease_until: datetime) -> bool:
        a = m.InboundActionModel
        held = a.claimed_by.is_(None) if held_by is None else a.claimed_by == held_by
        stmt = (
            update(a)
            .where(a.id == action_id, a.status == RECEIVED, held)
            .values(claimed_by=owner, lease_until=lease_until, attempts=a.attempts + 1, updated_at=at)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def renew(self, action_ids: Sequence[int], owner: str, lease_until: datetime) -> None:
        if not action_ids:
            return
        a = m.InboundActionModel
        stmt = (
            update(a)
            .where(a.id.in_(list(action_ids)), a.status == RECEIVED, a.claimed_by == owner)
            .values(lease_until=lease_until)
        )
        self.session.execute(stmt)

    def finish(self, action_id: int, owner: str, status: str, error: str | None, at: datetime) -> bool:
        a = m.InboundActionModel
        stmt = (
            update(a)
            .where(a.id == action_id, a.status == RECEIVED, a.claimed_by == owner)
            .values(status=status, last_error=error, updated_at=at, finished_at=at, lease_until=None)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def retry_later(self, action_id: int, owner: str, error: str, at: datetime, retry_at: datetime) -> bool:
        a = m.InboundActionModel
        stmt = (
            update(a)
            .where(a.id == action_id, a.status == RECEIVED, a.claimed_by == owner)
            .values(last_error=error, updated_at=at, lease_until=retry_at)
        )
        return bool(self.session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]

    def recent(self, status: str | None = None, limit: int = 50) -> builtins.list[InboundAction]:
        a = m.InboundActionModel
        stmt = select(a).order_by(a.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(a.status == status)
        return self._all(InboundAction, stmt)

    def counts(self) -> dict[str, int]:
        a = m.InboundActionModel
        rows = self.session.execute(select(a.status, func.count()).group_by(a.status)).tuples().all()
        return {status: int(n) for status, n in rows}
