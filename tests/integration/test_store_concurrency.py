"""Races between units of work on separate connections: exactly one winner each time.

Every thread has its own unit of work (its own connection and transaction); a barrier
releases them together. SQLite serializes writers with BEGIN IMMEDIATE; PostgreSQL
relies on unique constraints, ON CONFLICT, conditional UPDATEs and SELECT ... FOR UPDATE.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.domain.errors import Conflict
from store.db import make_engine
from store.uow import SqlUnitOfWorkFactory
from tests.support.clock import T0
from tests.support.records import add_proposal, decision_row, request_row

WORKERS = 6


@pytest.fixture
def uow(database_url):
    factory = SqlUnitOfWorkFactory(make_engine(database_url))
    yield factory
    factory.dispose()


def race(work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in WORKERS threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(WORKERS)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(run, range(WORKERS)))


def test_a_job_period_is_claimed_exactly_once(uow):
    def claim(i: int) -> bool:
        with uow() as u:
            won = u.jobs.claim("digest", "2026-W47", f"instance-{i}", T0)
            u.commit()
            return won

    results = race(claim)
    assert sorted(results, key=str) == [False] * (WORKERS - 1) + [True]
    with uow() as u:
        runs = u.jobs.recent()
    assert len(runs) == 1 and runs[0].claimed_by == f"instance-{results.index(True)}"


def test_an_outbox_row_is_claimed_by_one_worker(uow):
    with uow() as u:
        row = u.outbox.add("slack", "U1", "notice", {"text": "hello"}, T0)
        u.commit()

    def claim(i: int) -> bool:
        with uow() as u:
            took = u.outbox.claim(row.id, T0 + timedelta(seconds=1), T0 + timedelta(minutes=5))
            u.commit()
            return took

    results = race(claim)
    assert results.count(True) == 1 and results.count(False) == WORKERS - 1
    with uow() as u:
        assert u.outbox.due(["slack"], T0 + timedelta(minutes=4)) == []
        assert len(u.outbox.due(["slack"], T0 + timedelta(minutes=5))) == 1


def test_the_same_decision_submitted_at_once_is_stored_once(uow):
    proposal = add_proposal(uow)
    with uow() as u:
        req = u.approvals.add(request_row(proposal.id, role="owner", department=None, approver="UOWN"))
        u.commit()

    def decide(i: int) -> str:
        with uow() as u:
            u.decisions.add(decision_row(req.id, comment=f"click {i}"))
            u.audit.add(proposal.id, "UOWN", "decision.approve", {"click": i}, T0)
            u.commit()
            return "stored"

    results = race(decide)
    assert results.count("stored") == 1, results
    assert all(isinstance(r, Conflict) for r in results if r != "stored"), results
    with uow() as u:
        assert len(u.decisions.for_proposal(proposal.id)) == 1
        assert len(u.audit.for_proposal(proposal.id)) == 1  # losers' audit events rolled back with them


def test_locked_read_modify_write_loses_no_update(uow):
    """get(for_update=True) then update: each worker sees the previous one's write."""
    proposal = add_proposal(uow)

    def bump(i: int) -> int:
        with uow() as u:
            row = u.proposals.get(proposal.id, for_update=True)
            u.proposals.update(replace(row, revision=row.revision + 1))
            u.commit()
            return row.revision

    results = race(bump)
    assert sorted(results) == list(range(1, WORKERS + 1)), results
    with uow() as u:
        assert u.proposals.get(proposal.id).revision == WORKERS + 1


def test_locked_approval_read_modify_write_loses_no_update(uow):
    proposal = add_proposal(uow)
    with uow() as u:
        req = u.approvals.add(request_row(proposal.id, role="owner", department=None, approver="UOWN", round=0))
        u.commit()

    def bump(i: int) -> int:
        with uow() as u:
            row = u.approvals.get(req.id, for_update=True)
            u.approvals.update(replace(row, round=row.round + 1))
            u.commit()
            return row.round

    assert sorted(race(bump)) == list(range(WORKERS))
    with uow() as u:
        assert u.approvals.get(req.id).round == WORKERS


def test_concurrent_writers_on_different_rows_all_succeed(uow):
    def write(i: int) -> int:
        with uow() as u:
            u.keyvalues.put(f"key-{i}", str(i))
            u.outbox.add("slack", f"U{i}", "notice", {"text": str(i)}, T0, dedupe_key=f"d-{i}")
            u.commit()
            return i

    assert race(write) == list(range(WORKERS))
    with uow.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM outbox")).scalar_one() == WORKERS


def _claim_in_process(url: str, instance: str, start: Any, results: Any) -> None:
    """A separate app instance: its own process, engine and connection pool."""
    engine = make_engine(url)
    try:
        factory = SqlUnitOfWorkFactory(engine)
        start.wait(30)
        with factory() as u:
            won = u.jobs.claim("checkins", "2026-W47", instance, T0)
            u.commit()
        results.put((instance, won))
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put((instance, repr(exc)))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_separate_processes_claim_a_job_period_once(database_url):
    """Several instances (processes) on the same database URL: one runs the period."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_claim_in_process, args=(database_url, f"proc-{i}", start, results)) for i in range(3)]
    for p in procs:
        p.start()
    outcome = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    assert sorted(outcome.values(), key=str) == [False, False, True], outcome
    engine = make_engine(database_url)
    try:
        with SqlUnitOfWorkFactory(engine)() as u:
            runs = u.jobs.recent()
    finally:
        engine.dispose()
    winner = next(name for name, won in outcome.items() if won is True)
    assert [(r.job, r.period, r.claimed_by) for r in runs] == [("checkins", "2026-W47", winner)]


def _upgrade_in_process(url: str, start: Any, results: Any) -> None:
    from store.db import upgrade

    try:
        start.wait(30)
        results.put(upgrade(url))
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put(repr(exc))


@pytest.mark.slow
@pytest.mark.db  # empty_database() follows GOVBOT_TEST_BACKEND like database_url
def test_upgrades_started_together_both_end_at_head(tmp_path, request):
    """Two instances running `govbot db upgrade` at once: one migrates, the other finds head."""
    import multiprocessing

    from store.db import check_migrated, head_revision
    from tests.support.database import empty_database

    url = empty_database(tmp_path, request)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_upgrade_in_process, args=(url, start, results)) for _ in range(2)]
    for p in procs:
        p.start()
    outcome = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert outcome == [head_revision()] * 2, outcome
    engine = make_engine(url)
    try:
        check_migrated(engine)
    finally:
        engine.dispose()
