"""A tamper-evident audit trail (issue 18, item 7), on SQLite and PostgreSQL.

Audit events are hash-chained as they are written; the database refuses to rewrite
them (UPDATE, DELETE, SQLite's INSERT OR REPLACE, PostgreSQL's TRUNCATE) and refuses
to change a decision; `govbot audit --verify` walks the chain and names the first event
that does not hold, including a rewrite with recomputed hashes made after a digest
published the head. Rewrites are made the way an owner of the database could: with
the triggers out of the way.
"""

from __future__ import annotations

import io
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.app import build_core
from bot.cli import main
from bot.domain.records import DigestRow
from bot.settings import Settings
from store import audit_chain
from store import models as m
from store.db import make_engine, upgrade
from store.privileges import least_privilege_sql
from store.uow import SqlUnitOfWorkFactory
from tests.support.clock import T0
from tests.support.core_state import requests_by_role
from tests.support.database import empty_database
from tests.support.proposals import make_proposal as proposal


@pytest.fixture
def engine(database_url):
    made = make_engine(database_url)
    yield made
    made.dispose()


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", "UGOV")
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        code = main(list(argv), out=out, stdin=io.StringIO(""))
        return code, out.getvalue(), err.getvalue()

    return run


def write_events(engine, n: int, proposal_id: int | None = 1) -> None:
    factory = SqlUnitOfWorkFactory(engine)
    for i in range(n):
        with factory() as uow:
            uow.audit.add(proposal_id, "U1", f"test.event{i}", {"n": i, "ratio": 0.5, "big": 10**20}, T0)
            uow.commit()


def report(engine) -> audit_chain.Report:
    with Session(engine) as session:
        return audit_chain.verify(session)


def bypass_triggers(conn) -> None:
    """What an owner could do: take the append-only triggers out of the way."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # fires no trigger
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))


def rewrite(engine, event_id: int, *, rechain: bool = False) -> None:
    """Change one event's detail; with `rechain`, also recompute every hash from it on,
    so the chain holds again (only a published head can tell)."""
    a = m.AuditEventModel
    with engine.begin() as conn:
        bypass_triggers(conn)
        conn.execute(update(a).where(a.id == event_id).values(detail={"n": -1}))
        if not rechain:
            return
        columns = (a.id, a.proposal_id, a.actor, a.action, a.detail, a.created_at)
        rows = [dict(r._mapping) for r in conn.execute(select(*columns).order_by(a.id))]
        audit_chain.chain(rows)
        for row in rows[event_id - 1 :]:
            conn.execute(update(a).where(a.id == row["id"]).values(prev_hash=row["prev_hash"], hash=row["hash"]))


# ---------------------------------------------------------------------------- the chain


def test_every_event_is_chained_to_the_one_before(core, engine):
    core.submit("U_REQ", "slack", proposal())
    with Session(engine) as session:
        count = session.scalar(text("SELECT count(*) FROM audit_events"))
    assert (report(engine).ok, report(engine).events) == (True, count)


def test_concurrent_writers_keep_one_unbroken_chain(engine):
    factory = SqlUnitOfWorkFactory(engine)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(15):
                with factory() as uow:
                    uow.audit.add(None, f"U{w}", "test.concurrent", {"i": i}, T0 + timedelta(seconds=i))
                    uow.audit.add(None, f"U{w}", "test.concurrent", {"i": i, "second": True}, T0)
                    uow.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    found = report(engine)
    assert (errors, found.ok, found.events) == ([], True, 6 * 15 * 2)


def test_events_of_a_rolled_back_savepoint_leave_no_hole(engine):
    factory = SqlUnitOfWorkFactory(engine)
    with factory() as uow:
        uow.audit.add(None, "U1", "test.kept", {}, T0)
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.audit.add(None, "U1", "test.dropped", {}, T0)
            uow.audit.recent(1)  # a read inside the savepoint writes the pending events
            raise RuntimeError("roll the savepoint back")
        uow.audit.add(None, "U1", "test.after", {}, T0)
        uow.commit()
    with factory() as uow:
        actions = [e.action for e in reversed(uow.audit.recent(10))]
    assert (actions, report(engine).ok) == (["test.kept", "test.after"], True)


@pytest.mark.db  # empty_database() follows GOVBOT_TEST_BACKEND
def test_events_written_before_the_chain_are_chained_by_the_migration(tmp_path, request):
    url = empty_database(tmp_path, request)
    upgrade(url, "0004")
    old = make_engine(url)
    try:
        with old.begin() as conn:  # the columns of revision 0004 only
            conn.execute(
                insert(m.AuditEventModel.__table__),
                [
                    {"proposal_id": i, "actor": "U1", "action": f"old.{i}", "detail": {"n": i}, "created_at": T0}
                    for i in range(5)
                ],
            )
    finally:
        old.dispose()
    upgrade(url)
    migrated = make_engine(url)
    try:
        write_events(migrated, 2)
        found = report(migrated)
    finally:
        migrated.dispose()
    assert (found.ok, found.events) == (True, 7)


# ---------------------------------------------------------------------------- the database refuses


def test_insert_or_replace_cannot_rewrite_an_audit_event(engine):
    write_events(engine, 3)
    sql = (
        "INSERT OR REPLACE INTO audit_events (id, proposal_id, actor, action, detail, created_at, prev_hash, hash) "
        "SELECT id, proposal_id, 'forger', action, detail, created_at, prev_hash, hash FROM audit_events WHERE id = 2"
        if engine.dialect.name == "sqlite"
        else "INSERT INTO audit_events (id, proposal_id, actor, action, detail, created_at, prev_hash, hash) "
        "SELECT id, proposal_id, 'forger', action, detail, created_at, prev_hash || 'x', hash "
        "FROM audit_events WHERE id = 2 ON CONFLICT (id) DO UPDATE SET actor = excluded.actor"
    )
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT actor FROM audit_events WHERE id = 2")) == "U1"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE decisions SET decision = 'reject'", "DELETE FROM decisions"],
    ids=["update", "delete"],
)
def test_a_decision_cannot_be_changed(core, engine, statement):
    result = core.submit("U_REQ", "slack", proposal())
    core.decide("U_OWNER", requests_by_role(core, result.proposal_id)["owner"].id, "approve", None)
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT decision FROM decisions")).scalars().all() == ["approve"]


def test_a_decision_cannot_be_replaced(core, engine):
    result = core.submit("U_REQ", "slack", proposal())
    core.decide("U_OWNER", requests_by_role(core, result.proposal_id)["owner"].id, "approve", None)
    columns = "id, request_id, decision, actor, on_behalf_of, comment, override_reason, created_at"
    forged = columns.replace("decision,", "'reject',")
    sql = (
        f"INSERT OR REPLACE INTO decisions ({columns}) SELECT {forged} FROM decisions"
        if engine.dialect.name == "sqlite"
        else f"INSERT INTO decisions ({columns}) SELECT {forged} FROM decisions "
        "ON CONFLICT (request_id) DO UPDATE SET decision = excluded.decision"
    )
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    except DBAPIError:
        pass  # PostgreSQL refuses the update outright; SQLite's trigger turns REPLACE into nothing
    with engine.connect() as conn:
        assert conn.execute(text("SELECT decision FROM decisions")).scalars().all() == ["approve"]


def test_the_audit_trail_cannot_be_emptied(engine):
    write_events(engine, 2)
    statement = "TRUNCATE audit_events" if engine.dialect.name == "postgresql" else "DELETE FROM audit_events"
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(statement))
    assert report(engine).events == 2


def test_the_decisions_cannot_be_emptied(core, engine):
    result = core.submit("U_REQ", "slack", proposal())
    core.decide("U_OWNER", requests_by_role(core, result.proposal_id)["owner"].id, "approve", None)
    statement = "TRUNCATE decisions" if engine.dialect.name == "postgresql" else "DELETE FROM decisions"
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM decisions")) == 1


# ---------------------------------------------------------------------------- govbot audit --verify


def test_verify_on_an_intact_trail_prints_the_head(engine, cli):
    write_events(engine, 4)
    with Session(engine) as session:
        head = audit_chain.head(session)
    assert cli("audit", "--verify") == (0, f"audit trail intact: 4 events; chain head #4 {head[1]}\n", "")


def test_verify_names_the_first_rewritten_event(engine, cli):
    write_events(engine, 5)
    rewrite(engine, 3)
    code, _, err = cli("audit", "--verify")
    assert (code, err.startswith("govbot audit: audit trail broken at event #3: ")) == (1, True)


def test_verify_detects_a_rechained_rewrite_after_a_digest_published_the_head(engine, cli):
    write_events(engine, 5)
    factory = SqlUnitOfWorkFactory(engine)
    with factory() as uow:
        uow.digests.add(DigestRow(0, T0, T0, {}, "digest", "1", "template", "x", 0, 0, 0, "draft", None, [], T0))
        uow.commit()
    write_events(engine, 1)
    rewrite(engine, 2, rechain=True)
    assert report(engine).broken_id == 5  # the chain itself holds again; the published head #5 does not


def test_verify_refuses_an_id(cli):
    assert cli("audit", "7", "--verify")[0] == 2


# ---------------------------------------------------------------------------- the head is published


def test_a_stored_digest_publishes_the_chain_head(engine):
    write_events(engine, 3)
    factory = SqlUnitOfWorkFactory(engine)
    with factory() as uow:
        stored = uow.digests.add(
            DigestRow(0, T0, T0, {}, "digest", "1", "template", "x", 0, 0, 0, "draft", None, [], T0)
        )
        uow.commit()
        head = uow.audit.head()
    assert stored.audit_head == f"#3 {head[1]}"


def test_every_audit_pack_publishes_the_chain_head(core, engine):
    result = core.submit("U_REQ", "slack", proposal())
    with Session(engine) as session:
        head = audit_chain.head(session)
    pack = core.audit_pack(result.proposal_id, "md").decode("utf-8")
    assert f"Audit chain head when this pack was generated: #{head[0]} {head[1]}." in pack


# ---------------------------------------------------------------------------- PostgreSQL: a least-privilege role


@pytest.fixture
def least_privilege(tmp_path, request):
    """A migrated schema of its own, a role of its own with the grants of
    store/sql/least_privilege.sql, and (owner URL, app URL) for it."""
    url = empty_database(tmp_path, request)
    upgrade(url)
    role = f"govbot_app_{uuid.uuid4().hex[:10]}"
    owner = make_engine(url)
    try:
        with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            schema = conn.scalar(text("SELECT current_schema()"))
            conn.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN')
            conn.exec_driver_sql(least_privilege_sql(role, schema))
        app_url = make_url(url).update_query_dict({"options": f"-csearch_path={schema} -crole={role}"})
        yield url, app_url.render_as_string(hide_password=False)
    finally:
        with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
        owner.dispose()


@pytest.mark.postgres  # deselected on SQLite (tests/conftest.py)
def test_govbot_runs_as_the_least_privilege_role(least_privilege, clock):
    owner_url, app_url = least_privilege
    core = build_core(Settings(database_url=app_url, governance="UGOV", _env_file=None), clock=clock)
    try:
        result = core.submit("U_REQ", "slack", proposal())
        outcome = core.decide("U_OWNER", requests_by_role(core, result.proposal_id)["owner"].id, "approve", None)
        with core.uow() as uow:
            role = uow.session.scalar(text("SELECT current_user"))
    finally:
        core.uow.dispose()
    owner = make_engine(owner_url)
    try:
        intact = report(owner).ok
    finally:
        owner.dispose()
    assert (role.startswith("govbot_app_"), outcome.status, intact) == (True, "recorded", True)


@pytest.mark.postgres  # deselected on SQLite (tests/conftest.py)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'forger'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER USER",
        "DROP TRIGGER audit_events_no_update_delete ON audit_events",
        "UPDATE decisions SET decision = 'reject'",
        "DELETE FROM decisions",
        "TRUNCATE decisions",
        "UPDATE alembic_version SET version_num = '0001'",
        "CREATE TABLE shadow (id int)",
    ],
)
def test_the_least_privilege_role_may_not_rewrite_the_trail_or_the_schema(least_privilege, statement):
    _, app_url = least_privilege
    app = make_engine(app_url)
    try:
        with pytest.raises(DBAPIError) as refused, app.begin() as conn:
            conn.exec_driver_sql(statement)
    finally:
        app.dispose()
    assert refused.value.orig.sqlstate == "42501"  # insufficient_privilege (or must be owner)
