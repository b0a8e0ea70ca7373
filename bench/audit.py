"""What the hash chain costs: audit events appended through the repository (chain lock,
head read, hash, INSERT at commit) against the bare INSERT the trail used before, one
event per transaction as the use cases write them; the same with concurrent writers;
and how fast `govbot audit --verify` walks the chain.

Figures only; nothing here passes or fails on time.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from store import audit_chain
from store import models as m
from store.db import make_engine
from store.uow import SqlUnitOfWorkFactory

AT = datetime(2026, 11, 16, 9, tzinfo=UTC)
DETAIL = {"comment": "looks fine", "decision": "approve", "request_id": 12, "ratio": 0.25}


def _chained(factory: SqlUnitOfWorkFactory, i: int) -> None:
    with factory() as uow:
        uow.audit.add(i, "UBENCH", "bench.event", DETAIL, AT)
        uow.commit()


def _bare(factory: SqlUnitOfWorkFactory, i: int) -> None:
    """The pre-chain write: one INSERT, no lock, no head (random hashes fill the columns)."""
    with factory() as uow:
        assert uow.session is not None
        row = {"proposal_id": i, "actor": "UBENCH", "action": "bench.bare", "detail": DETAIL, "created_at": AT}
        uow.session.execute(insert(m.AuditEventModel.__table__), {**row, "prev_hash": uuid.uuid4().hex, "hash": "-"})
        uow.commit()


def _timed(write: Callable[[SqlUnitOfWorkFactory, int], None], factory: SqlUnitOfWorkFactory, n: int) -> list[float]:
    times = []
    for i in range(n):
        began = time.perf_counter()
        write(factory, i)
        times.append((time.perf_counter() - began) * 1000)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "per_second": round(len(ordered) / (sum(ordered) / 1000), 1),
    }


def _concurrent(factory: SqlUnitOfWorkFactory, writers: int, each: int) -> dict[str, Any]:
    errors: list[str] = []

    def work() -> None:
        try:
            for i in range(each):
                _chained(factory, i)
        except Exception as exc:  # counted, not hidden
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    return {
        "writers": writers,
        "events": writers * each,
        "per_second": round(writers * each / seconds, 1),
        "errors": errors,
    }


def run(url: str, n: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The figures for one database at `url` (migrated, empty)."""
    engine = make_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        for _ in range(20):  # warm the pool and the statement caches
            _chained(factory, 0)
        log(f"  chained appends x{n} ...")
        chained = _summary(_timed(_chained, factory, n))
        log("  concurrent writers ...")
        concurrent = _concurrent(factory, 4, max(n // 4, 10))
        with Session(engine) as session:  # before the bare rows, whose random hashes end the chain
            began = time.perf_counter()
            report = audit_chain.verify(session)
            verify_s = time.perf_counter() - began
        log(f"  bare inserts x{n} ...")
        bare = _summary(_timed(_bare, factory, n))
        return {
            "database": engine.dialect.name,
            "chained": chained,
            "bare_insert": bare,
            "p50_overhead_ms": round(chained["p50_ms"] - bare["p50_ms"], 3),
            "concurrent": concurrent,
            "verify_ok": report.ok,
            "verify_events_per_second": round(report.events / verify_s, 1) if verify_s else None,
            "verify_events": report.events,
        }
    finally:
        engine.dispose()
