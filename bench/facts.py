"""Portfolio facts, digest facts and the digest prompt at 1k, 10k and 100k proposals.

One database per backend grows through the sizes (seeded in bulk by `bench.seed`).
At each size: the median time of a few runs of `uow.facts.portfolio` and
`uow.facts.digest`, the Python heap peak while computing them (tracemalloc), the
resident-set growth, and the digest prompt's size (`bot.digest_writer.build_prompt`).
PostgreSQL runs in a dedicated schema that is dropped afterwards.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from bench.seed import Seeder
from bot.domain.portfolio import portfolio_config
from bot.service.digest_writer import build_prompt, load_prompt
from bot.settings import Settings

MB = 1024 * 1024


def _timed(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _peak(fn: Any) -> tuple[float, float]:
    """(tracemalloc peak MB, RSS growth MB) while running `fn` once."""
    gc.collect()
    proc = psutil.Process()
    rss = proc.memory_info().rss
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / MB, max(0, proc.memory_info().rss - rss) / MB


def measure(uow_factory: Any, now: datetime, config: dict[str, Any], runs: int) -> dict[str, Any]:
    """Time, memory and prompt size of the facts on the database as it is now."""
    start, end = now - timedelta(days=7), now

    def portfolio() -> dict[str, Any]:
        with uow_factory() as uow:
            return uow.facts.portfolio(now, config)

    def digest() -> dict[str, Any]:
        with uow_factory() as uow:
            return uow.facts.digest(start, end, now, config)

    portfolio()  # warm the pool and the plan caches
    facts = digest()
    system, user = build_prompt(load_prompt(), facts)
    p_ms, d_ms = _timed(portfolio, runs), _timed(digest, runs)
    p_heap, p_rss = _peak(portfolio)
    d_heap, d_rss = _peak(digest)
    return {
        "portfolio_ms": round(p_ms, 1),
        "digest_ms": round(d_ms, 1),
        "portfolio_heap_peak_mb": round(p_heap, 2),
        "portfolio_rss_growth_mb": round(p_rss, 2),
        "digest_heap_peak_mb": round(d_heap, 2),
        "digest_rss_growth_mb": round(d_rss, 2),
        "prompt_chars": len(system) + len(user),
        "portfolio_json_chars": len(json.dumps(portfolio())),
        "total": portfolio()["total"],
    }


def run_backend(
    backend: str, sizes: list[int], workdir: Path, pg_url: str, runs: int, log: Any = print
) -> dict[str, Any]:
    """Seed one database of `backend` up through `sizes`, measuring at each size."""
    from sqlalchemy import text

    from store.db import make_engine, upgrade
    from store.uow import SqlUnitOfWorkFactory

    now = datetime.now(UTC).replace(microsecond=0)
    config = portfolio_config(Settings(_env_file=None))
    admin = None
    schema = None
    if backend == "sqlite":
        path = workdir / "facts.sqlite3"
        for extra in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            extra.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        from sqlalchemy.engine import make_url

        schema = f"govbot_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(pg_url, pool_size=1, max_overflow=0)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(pg_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    out: dict[str, Any] = {}
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = SqlUnitOfWorkFactory(engine)
        seeder = Seeder(now)
        have = 0
        for size in sizes:
            began = time.perf_counter()
            seeder.add(engine, size - have)
            have = size
            _maintain(engine, backend)
            seeded = time.perf_counter() - began
            result = measure(factory, now, config, runs)
            result["seed_s"] = round(seeded, 1)
            out[str(size)] = result
            log(
                f"  facts {backend} {size:>7}: portfolio {result['portfolio_ms']} ms, "
                f"digest {result['digest_ms']} ms, heap peak {result['portfolio_heap_peak_mb']} MB "
                f"(seeded in {seeded:.1f} s)"
            )
        engine.dispose()
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    return out


def _maintain(engine: Any, backend: str) -> None:
    """What a running database gets anyway: autovacuum (PostgreSQL: statistics and the
    visibility map that index-only scans need) or `PRAGMA optimize` (SQLite statistics)."""
    if backend == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def growth(results: dict[str, Any], key: str) -> float | None:
    """How `key` grew from the smallest to the largest size (a ratio)."""
    sizes = sorted(results, key=int)
    if len(sizes) < 2 or not results[sizes[0]][key]:
        return None
    return round(results[sizes[-1]][key] / results[sizes[0]][key], 2)
