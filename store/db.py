"""Engines and migrations.

`make_engine(url)` tunes SQLite for several writers (WAL, busy timeout, foreign keys,
every transaction `BEGIN IMMEDIATE` so writers queue instead of failing) and PostgreSQL
for long-running servers (pre-ping, bounded pool). `upgrade(url)` runs Alembic to head
from the installed package; `check_migrated(engine)` refuses an out-of-date database.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0
UPGRADE_LOCK_ID = 0x60B07  # PostgreSQL advisory lock held while migrating


class DatabaseNotMigrated(RuntimeError):
    """The database schema is missing or older than this version of govbot."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url` (SQLite file, in-memory SQLite or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_recycle", 1800)
        kwargs["connect_args"] = {"connect_timeout": 10, **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, database: str | None, **kwargs: Any) -> Engine:
    memory = not database or database == ":memory:" or "mode=memory" in url
    connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})}
    if memory:
        kwargs.setdefault("poolclass", StaticPool)
    elif database:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    # SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL":
    # stop pysqlite from issuing its own BEGIN, then begin every transaction ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                _set_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout
        # instead of one failing with "database is locked" when it upgrades its lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _set_wal(cursor: Any) -> None:
    """Switch the file to WAL. A new file needs an exclusive lock for that, and SQLite does
    not wait on its busy handler there: two processes opening a fresh database at once
    (two `govbot db upgrade`) would see "database is locked", so retry until the timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (never the working directory)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> str | None:
    """Apply migrations up to `revision`; returns the revision the database is now at."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # two upgrades at once: the second waits, then finds head
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK_ID})")
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        now_at = current_revision(engine)
        logger.info("database %s is at revision %s", engine.url.render_as_string(hide_password=True), now_at)
        return now_at
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest migration shipped with this version of govbot."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_migrated(engine: Engine) -> None:
    """Raise DatabaseNotMigrated unless the database is at the newest migration."""
    where = engine.url.render_as_string(hide_password=True)
    try:
        current = current_revision(engine)
    except Exception as exc:  # unreachable server, unreadable file, ...
        raise DatabaseNotMigrated(
            f"cannot read the schema version of {where}: {exc.__class__.__name__}: {exc}; "
            "check DATABASE_URL, then run `govbot db upgrade`"
        ) from exc
    head = head_revision()
    if current != head:
        state = (
            "has no schema version (empty, or not a govbot database)"
            if current is None
            else f"is at revision {current}, not {head}"
        )
        raise DatabaseNotMigrated(
            f"the database is not migrated: {where} {state}; run `govbot db upgrade` to apply the migrations"
        )
