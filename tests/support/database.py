"""A fresh, migrated database per test (the `database_url` fixture).

SQLite (default): migrate once per test session into a template file, then copy it
into each test's tmp_path. PostgreSQL (GOVBOT_TEST_BACKEND=postgres): migrate one
dedicated schema per test session (per xdist worker), truncate every table before each
test, and return a URL that pins the schema with `options=-csearch_path=<schema>`, so
every engine made from it (a subprocess server too) sees the same tables. PostgreSQL
problems fail the tests loudly; they never skip them.
"""

from __future__ import annotations

import os
import shutil
import uuid
import weakref
from pathlib import Path
from typing import Any

import pytest

BACKEND_ENV = "GOVBOT_TEST_BACKEND"
URL_ENV = "GOVBOT_TEST_DATABASE_URL"

_state: dict[str, Any] = {}


def backend() -> str:
    """`sqlite` or `postgres`, from GOVBOT_TEST_BACKEND."""
    value = os.environ.get(BACKEND_ENV, "sqlite").strip().lower() or "sqlite"
    if value in ("postgres", "postgresql", "pg"):
        return "postgres"
    if value != "sqlite":
        raise pytest.UsageError(f"{BACKEND_ENV}={value!r}: use 'sqlite' or 'postgres'")
    return "sqlite"


def fresh_database(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Return the URL of a migrated, empty database reserved for this test.

    Engines the test leaves open are disposed when it ends, so pooled connections do
    not pile up on the PostgreSQL server over a long run.
    """
    _track_engines()
    request.addfinalizer(_dispose_test_engines)
    if backend() == "postgres":
        return _fresh_postgres(request)
    return _fresh_sqlite(tmp_path, request)


_engines: weakref.WeakSet[Any] = weakref.WeakSet()


def _track_engines() -> None:
    if _state.get("tracking"):
        return
    from sqlalchemy import Engine, event

    def remember(connection: Any) -> None:
        _engines.add(connection.engine)

    event.listen(Engine, "engine_connect", remember)
    _state["tracking"] = True


def _dispose_test_engines() -> None:
    keep = {id(_state.get("pg_engine"))}
    for engine in list(_engines):
        if id(engine) not in keep:
            engine.dispose()
    _engines.clear()


# --------------------------------------------------------------------------- SQLite


def _fresh_sqlite(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    template = _state.get("sqlite_template")
    if template is None:
        from store.db import upgrade

        base = request.getfixturevalue("tmp_path_factory").mktemp("govbot-template")
        template = base / "template.sqlite3"
        upgrade(f"sqlite:///{template}")  # disposes its engine, so the WAL is folded back in
        _state["sqlite_template"] = template
    target = tmp_path / "govbot.sqlite3"
    shutil.copyfile(template, target)
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{template}{suffix}")
        if extra.exists():
            shutil.copyfile(extra, Path(f"{target}{suffix}"))
    return f"sqlite:///{target}"


# --------------------------------------------------------------------------- PostgreSQL


def _fresh_postgres(request: pytest.FixtureRequest) -> str:
    if "pg_error" in _state:
        pytest.fail(_state["pg_error"], pytrace=False)
    if "pg_url" not in _state:
        try:
            _state["pg_url"], _state["pg_engine"], _state["pg_schema"] = _make_schema(request)
        except Exception as exc:
            base = os.environ.get(URL_ENV, "")
            _state["pg_error"] = (
                f"PostgreSQL test database unavailable ({URL_ENV}={_hide(base) or '<unset>'}): "
                f"{exc.__class__.__name__}: {exc}"
            )
            pytest.fail(_state["pg_error"], pytrace=False)
    _truncate(_state["pg_engine"], _state["pg_schema"])
    return _state["pg_url"]


def _hide(url: str) -> str:
    if not url:
        return ""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _make_schema(request: pytest.FixtureRequest) -> tuple[str, Any, str]:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from store.db import make_engine, upgrade

    base = os.environ.get(URL_ENV, "").strip()
    if not base:
        raise RuntimeError(f"{URL_ENV} is not set; set it to e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    base_url = make_url(base)
    if base_url.get_backend_name() != "postgresql":
        raise RuntimeError(f"{URL_ENV} must be a postgresql URL, got {base_url.get_backend_name()}")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    prefix = f"govbot_test_{_host_tag()}_"
    schema = f"{prefix}{worker}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base, connect_args={"connect_timeout": 5}, pool_size=1, max_overflow=2)
    try:
        with admin.begin() as conn:
            _drop_orphans(conn, prefix)
    except Exception as exc:  # another session may be cleaning up at the same moment
        print(f"leftover test schemas not dropped: {exc.__class__.__name__}")
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    request.config.add_cleanup(lambda: _drop_schema(admin, schema))
    url = base_url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url, connect_args={"connect_timeout": 5}, pool_size=1, max_overflow=0)
    request.config.add_cleanup(engine.dispose)
    return url, engine, schema


def _host_tag() -> str:
    import hashlib
    import socket

    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _drop_orphans(conn: Any, prefix: str) -> None:
    """Drop schemas left by killed test sessions on this host (their process is gone)."""
    from sqlalchemy import text

    names = conn.execute(
        text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :p)"), {"p": prefix}
    ).scalars()
    for name in list(names):
        parts = name[len(prefix) :].split("_")
        if len(parts) >= 3 and parts[1].isdigit() and not _alive(int(parts[1])):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _truncate(engine: Any, schema: str) -> None:
    from sqlalchemy.exc import OperationalError

    for attempt in range(3):  # a database-wide ANALYZE (bench/facts.py) can deadlock with TRUNCATE
        try:
            return _truncate_once(engine, schema)
        except OperationalError as exc:
            if "deadlock" not in str(exc) or attempt == 2:
                raise


def _truncate_once(engine: Any, schema: str) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '20s'"))
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename != "
                    "'alembic_version' ORDER BY tablename"
                ),
                {"s": schema},
            )
            .scalars()
            .all()
        )
        if tables:  # the audit trail and decisions refuse TRUNCATE; replica mode fires no trigger
            names = ", ".join(f'"{schema}"."{t}"' for t in tables)
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _drop_schema(admin: Any, schema: str) -> None:
    from sqlalchemy import text

    try:
        with admin.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    except Exception as exc:  # leave it behind rather than hide the test results
        print(f"could not drop test schema {schema}: {exc}")
    finally:
        admin.dispose()


def empty_database(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Return the URL of a database with no tables at all (for migration tests).

    SQLite: a new file. PostgreSQL: a new schema, dropped at the end of the test.
    """
    if backend() != "postgres":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    fresh_database(tmp_path, request)  # fails loudly when PostgreSQL is unusable
    schema = f"{_state['pg_schema']}_e{uuid.uuid4().hex[:6]}"
    with _state["pg_engine"].begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with _state["pg_engine"].begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    request.addfinalizer(drop)
    url = make_url(_state["pg_url"]).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)
