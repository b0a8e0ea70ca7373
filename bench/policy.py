"""`govbot policy what-if` at 10k and 100k live proposals.

One database per backend grows through the sizes (seeded in bulk by `bench.seed`, with
each proposal's stored verdict). At each size, the what-if of a candidate policy runs
as `govbot policy what-if` runs it (`bot.service.whatif.what_if`: rows streamed in
batches, classified by one worker process per core), and reports the wall time, the
CPU seconds of this process and of its workers, and the peak resident memory of this
process and of the workers (sampled), so a reader can see the time is spread over
the cores and the memory does not grow with the portfolio.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.seed import Seeder
from bot.domain.policy_file import load_policy, packaged_policy_text
from bot.service.policy_versions import check
from bot.service.whatif import what_if

MB = 1024 * 1024
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def candidate_text() -> str:
    """A realistic tightening: customer- and public-facing work becomes high risk."""
    text = packaged_policy_text()
    old = '[[risk.rules]]\nlevel = "medium"\nwhen = { audience_in = ["customer", "public", "team"] }'
    assert old in text, "the packaged policy changed; update the benchmark's candidate"
    new = (
        '[[risk.rules]]\nlevel = "high"\nwhen = { audience_in = ["customer", "public"] }\n\n'
        '[[risk.rules]]\nlevel = "medium"\nwhen = { audience_in = ["team"] }'
    )
    return text.replace(old, new).replace('version = "2026.11-default"', 'version = "bench-candidate"')


class _Sampler:
    """Samples the RSS of this process and of its children until stopped."""

    def __init__(self, every_s: float = 0.1):
        self.every_s = every_s
        self.main_peak = 0
        self.workers_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                self.main_peak = max(self.main_peak, me.memory_info().rss)
                kids = [c.memory_info().rss for c in me.children(recursive=True)]
                self.workers_peak = max([self.workers_peak, *kids])
            except psutil.Error:
                pass
            self._stop.wait(self.every_s)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def measure(uow_factory: Any, workers: int | None) -> dict[str, Any]:
    """One what-if of the candidate on the database as it is now."""
    candidate = check(candidate_text(), "bench candidate")
    active = load_policy()
    cpu0, kids0 = time.process_time(), _children_cpu()
    began = time.perf_counter()
    with _Sampler() as sampler:
        report = what_if(uow_factory(), active, candidate, workers=workers)
    seconds = time.perf_counter() - began
    return {
        "seconds": round(seconds, 1),
        "per_second": int(report["compared"] / seconds) if seconds else None,
        "compared": report["compared"],
        "changed": len(report["changed"]),
        "workers": workers if workers is not None else os.cpu_count(),
        "cpu_s_main": round(time.process_time() - cpu0, 1),
        "cpu_s_workers": round(_children_cpu() - kids0, 1),
        "rss_peak_mb_main": round(sampler.main_peak / MB, 1),
        "rss_peak_mb_worker": round(sampler.workers_peak / MB, 1),
    }


def run_backend(
    backend: str, sizes: list[int], workdir: Path, pg_url: str, log: Callable[[str], None]
) -> dict[str, Any]:
    """What-if figures at each size (cumulative seeding of one database)."""
    from bench.databases import PgSchema, _sqlite
    from store.db import make_engine
    from store.uow import SqlUnitOfWorkFactory

    out: dict[str, Any] = {}
    schema = PgSchema(pg_url) if backend == "postgresql" else None
    url = schema.__enter__() if schema is not None else _sqlite(workdir, "policy.sqlite3")
    engine = make_engine(url)
    try:
        seeder = Seeder(NOW, classifications=True)
        seeded = 0
        for size in sizes:
            began = time.perf_counter()
            seeder.add(engine, size - seeded)
            seeded = size
            if backend == "postgresql":
                with engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE")
            seed_s = round(time.perf_counter() - began, 1)
            log(f"  {backend} {size:,}: seeded in {seed_s} s; what-if ...")
            figures = measure(SqlUnitOfWorkFactory(engine), None)
            figures["seed_s"] = seed_s
            out[str(size)] = figures
            log(f"  {backend} {size:,}: {figures}")
    finally:
        engine.dispose()
        if schema is not None:
            schema.__exit__(None, None, None)
    return out
