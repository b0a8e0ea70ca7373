"""The active policy read outside any unit of work (`bot.ports.PolicyStore`).

A policy source asks for the active policy's hash while the caller may hold a write
transaction on another connection of the same process. On SQLite every transaction of
`store.db.make_engine` begins IMMEDIATE (the write lock), so this module reads on a
raw DBAPI connection in autocommit: no BEGIN, and in WAL mode a reader never waits for
a writer. On PostgreSQL it is an ordinary short read on its own pooled connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from store import models as m

_V = m.PolicyVersionModel


class SqlPolicyStore:
    """Implements `bot.ports.PolicyStore` on `engine`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        newest = select(_V.id, _V.hash).where(_V.kind == "applied").order_by(_V.id.desc()).limit(1)
        self._stamp_sql = self._compile(newest)
        self._text_sql = self._compile(newest.add_columns(_V.toml))

    def _compile(self, stmt: Any) -> str:
        return str(stmt.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))

    def _first(self, sql: str) -> tuple[Any, ...] | None:
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql)
                row = cursor.fetchone()
            finally:
                cursor.close()
            if self.engine.dialect.name != "sqlite":
                conn.rollback()  # end the read's implicit transaction
        finally:
            conn.close()
        return tuple(row) if row is not None else None

    def active_stamp(self) -> tuple[int, str] | None:
        row = self._first(self._stamp_sql)
        return (int(row[0]), str(row[1])) if row else None

    def active_text(self) -> tuple[int, str, str] | None:
        row = self._first(self._text_sql)
        return (int(row[0]), str(row[1]), str(row[2])) if row else None
