"""Unit of work, append-only audit, time zones and migrations (SQLite, then PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.domain.errors import Conflict
from store.db import DatabaseNotMigrated, check_migrated, current_revision, head_revision, make_engine, upgrade
from store.uow import SqlUnitOfWorkFactory
from tests.support.clock import T0
from tests.support.database import empty_database
from tests.support.records import add_proposal, decision_row, proposal_row, request_row


@pytest.fixture
def uow(database_url):
    factory = SqlUnitOfWorkFactory(make_engine(database_url))
    yield factory
    factory.dispose()


def count(uow, table: str) -> int:
    with uow.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def test_leaving_without_commit_rolls_back(uow):
    with uow() as u:
        u.proposals.add(proposal_row(), author="UREQ")
        u.audit.add(None, "UREQ", "proposal.submitted", {}, T0)
        u.keyvalues.put("k", "v")
    assert (count(uow, "proposals"), count(uow, "proposal_revisions"), count(uow, "audit_events")) == (0, 0, 0)
    with uow() as u:
        assert u.keyvalues.get("k") is None


def test_an_exception_rolls_back_the_whole_change(uow):
    with pytest.raises(RuntimeError, match="boom"), uow() as u:
        u.proposals.add(proposal_row(), author="UREQ")
        u.outbox.add("slack", "U1", "notice", {"text": "x"}, T0)
        raise RuntimeError("boom")
    assert count(uow, "proposals") == 0 and count(uow, "outbox") == 0


def test_commit_keeps_work_and_explicit_rollback_discards_the_rest(uow):
    with uow() as u:
        u.keyvalues.put("kept", "1")
        u.commit()
        u.keyvalues.put("dropped", "2")
        u.rollback()
        u.keyvalues.put("after", "3")
        u.commit()
    with uow() as u:
        assert (u.keyvalues.get("kept"), u.keyvalues.get("dropped"), u.keyvalues.get("after")) == ("1", None, "3")


def test_a_unit_of_work_is_used_inside_its_block_only(uow):
    u = uow()
    with pytest.raises(RuntimeError, match="with"):
        u.commit()
    with u, pytest.raises(RuntimeError, match="already in use"):
        u.__enter__()


def test_a_unit_of_work_may_be_entered_again_once_its_block_ended(uow):
    u = uow()
    with u:
        u.keyvalues.put("first", "1")
        u.commit()
    with u:
        assert u.keyvalues.get("first") == "1"


def test_in_a_batch_a_savepoint_writes_its_audit_and_outbox_rows_when_it_ends(uow):
    with uow() as u, u.batch():
        with u.savepoint():
            u.audit.add(None, "UIMP", "proposal.submitted", {}, T0)
            u.outbox.add("slack", "U1", "notice", {"text": "x"}, T0)
            assert (u.audit.recent(), u.outbox.for_recipient("U1")) == ([], [])  # held
        written = ([e.action for e in u.audit.recent()], [r.kind for r in u.outbox.for_recipient("U1")])
    assert written == (["proposal.submitted"], ["notice"])


def test_in_a_batch_a_failed_savepoint_drops_what_it_held(uow):
    with uow() as u, u.batch():
        with pytest.raises(RuntimeError, match="boom"), u.savepoint():
            u.audit.add(None, "UIMP", "proposal.submitted", {}, T0)
            u.outbox.add("slack", "U1", "notice", {"text": "x"}, T0)
            raise RuntimeError("boom")
        u.audit.add(None, "UIMP", "proposal.refused", {}, T0)  # outside a savepoint: written at once
        written = ([e.action for e in u.audit.recent()], u.outbox.for_recipient("U1"))
    assert written == (["proposal.refused"], [])


def test_in_a_batch_directory_reads_are_answered_once_until_the_repository_writes(uow):
    with uow() as u:
        u.roles.set("security", "", ["USEC"], "test", T0)
        u.commit()
    with uow() as u, u.batch():
        seen = [u.roles.holders("security")]
        u.session.execute(text("DELETE FROM role_assignments WHERE role = 'security'"))
        seen.append(u.roles.holders("security"))  # answered from memory
        u.roles.set("security", "", ["UNEW"], "test", T0)
        seen.append(u.roles.holders("security"))  # the write forgot what was read
    assert seen == [["USEC"], ["USEC"], ["UNEW"]]


def test_duplicate_decision_is_a_conflict_and_the_first_stands(uow):
    row = add_proposal(uow)
    with uow() as u:
        req = u.approvals.add(request_row(row.id, role="owner", department=None, approver="UOWN"))
        first = u.decisions.add(decision_row(req.id))
        u.commit()
    with uow() as u:
        u.audit.add(row.id, "UOWN", "decision.reject", {}, T0)
        with pytest.raises(Conflict, match=str(req.id)):
            u.decisions.add(decision_row(req.id, decision="reject", comment="second click"))
        u.commit()  # the transaction is still usable after the refused insert
    with uow() as u:
        assert u.decisions.for_request(req.id) == first
        assert [e.action for e in u.audit.for_proposal(row.id)] == ["decision.reject"]


def test_unique_violation_at_commit_is_a_conflict(uow):
    row = add_proposal(uow)
    with uow() as u:  # a second revision 1 breaks UNIQUE(proposal_id, revision)
        from store.models import ProposalRevision

        u.session.add(ProposalRevision(proposal_id=row.id, revision=1, answers={}, author="X", created_at=T0))
        with pytest.raises(Conflict):
            u.commit()
    assert count(uow, "proposal_revisions") == 1


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"])
def test_the_database_refuses_to_change_the_audit_trail(uow, statement):
    with uow() as u:
        u.audit.add(None, "UGOV", "roles.set", {"role": "security"}, T0)
        u.commit()
    with pytest.raises(DBAPIError, match="append-only"), uow.engine.begin() as conn:
        conn.execute(text(statement))
    with uow() as u:
        assert [(e.actor, e.action) for e in u.audit.recent()] == [("UGOV", "roles.set")]


def test_timestamps_come_back_timezone_aware_utc(uow):
    paris = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 16, 10, 30, tzinfo=paris)
    row = add_proposal(uow, created_at=local, updated_at=local, stage_changed_at=local)
    with uow() as u:
        u.audit.add(row.id, "U", "x", {}, local)
        u.commit()
    with uow() as u:
        got = u.proposals.get(row.id)
        event = u.audit.for_proposal(row.id)[0]
        assert u.approvals.pending_older_than(datetime(2026, 11, 16, 9, 31, tzinfo=UTC)) == []
    for value in (got.created_at, got.updated_at, got.stage_changed_at, event.created_at):
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
        assert value == datetime(2026, 11, 16, 9, 30, tzinfo=UTC)


def test_time_comparisons_use_the_instant_not_the_wall_clock(uow):
    row = add_proposal(uow)
    tokyo = timezone(timedelta(hours=9))
    with uow() as u:
        u.approvals.add(
            request_row(
                row.id,
                role="owner",
                department=None,
                approver="UOWN",
                created_at=datetime(2026, 11, 16, 18, 0, tzinfo=tokyo),
            )
        )  # 09:00 UTC
        u.commit()
    with uow() as u:
        assert len(u.approvals.pending_older_than(datetime(2026, 11, 16, 9, 0, 1, tzinfo=UTC))) == 1
        assert u.approvals.pending_older_than(datetime(2026, 11, 16, 9, 0, 0, tzinfo=UTC)) == []


def test_migrated_database_passes_the_check(database_url):
    engine = make_engine(database_url)
    try:
        check_migrated(engine)
        assert current_revision(engine) == head_revision() is not None
    finally:
        engine.dispose()


@pytest.mark.db  # empty_database() follows GOVBOT_TEST_BACKEND like database_url
def test_unmigrated_database_is_refused_naming_the_command(tmp_path, request):
    url = empty_database(tmp_path, request)
    engine = make_engine(url)
    try:
        assert current_revision(engine) is None
        with pytest.raises(DatabaseNotMigrated, match="not migrated") as caught:
            check_migrated(engine)
        assert "govbot db upgrade" in str(caught.value)
        upgrade(url, "0001")  # an older schema is refused too
        with pytest.raises(DatabaseNotMigrated, match="not migrated.*0001.*govbot db upgrade"):
            check_migrated(engine)
        assert upgrade(url) == head_revision()
        assert upgrade(url) == head_revision()  # idempotent
        check_migrated(engine)
    finally:
        engine.dispose()


@pytest.mark.db  # empty_database() follows GOVBOT_TEST_BACKEND like database_url
def test_migrations_downgrade_to_nothing_and_back(tmp_path, request):
    from alembic import command

    from store.db import alembic_config

    url = empty_database(tmp_path, request)
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        assert current_revision(engine) is None
        with engine.connect() as conn:
            remaining = conn.dialect.get_table_names(conn)
        assert remaining == ["alembic_version"]
        upgrade(url)
        factory = SqlUnitOfWorkFactory(engine)
        with factory() as u:
            u.audit.add(None, "U", "x", {}, T0)
            u.commit()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url):
    """Autogenerate finds nothing to do: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from store.models import Base

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
