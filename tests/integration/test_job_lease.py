"""Jobs survive a crash: a claimed (job, period) whose process died is claimed again
once its lease has run out, by exactly one instance, and never while the lease holds.

The crash is real: a `govbot` process claims this week's digest and dies (os._exit)
while writing it, exactly where a killed server would. Runs on SQLite and, with
GOVBOT_TEST_BACKEND=postgres, on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import build_core
from bot.clock import FixedClock
from bot.service import jobs
from bot.service.core import Govbot
from bot.settings import Settings

CRASH = """
import os, sys
from datetime import datetime

from bot.app import build_core
from bot.clock import FixedClock
from bot.service import digest

now = datetime.fromisoformat(sys.argv[1])
core = build_core(clock=FixedClock(now), instance="crashed")
digest.weekly_job = lambda *args: os._exit(9)  # the process dies while writing the digest
core.run_due(now)
"""


def crash_while_writing_the_digest(database_url: str, now: datetime, cwd: Path) -> int:
    env = {**os.environ, "DATABASE_URL": database_url, "GOVBOT_GOVERNANCE": "UGOV"}
    return subprocess.run([sys.executable, "-c", CRASH, now.isoformat()], env=env, cwd=cwd, timeout=120).returncode


def digest_run(core: Govbot, period: str) -> tuple[str, str]:
    with core.uow() as uow:
        [run] = [r for r in uow.jobs.recent() if (r.job, r.period) == ("digest", period)]
    return run.status, run.claimed_by


def digests(core: Govbot) -> int:
    with core.uow() as uow:
        latest = uow.digests.latest()
    return 0 if latest is None else latest.id


def test_the_crashed_process_leaves_the_week_running(
    core: Govbot, clock: FixedClock, database_url: str, tmp_path: Path
) -> None:
    exit_code = crash_while_writing_the_digest(database_url, clock.now(), tmp_path)
    assert (exit_code, digest_run(core, "2026-W47")) == (9, ("running", "crashed"))


def test_a_digest_whose_process_died_is_run_again_after_the_lease(
    core: Govbot, clock: FixedClock, database_url: str, tmp_path: Path
) -> None:
    crash_while_writing_the_digest(database_url, clock.now(), tmp_path)
    later = clock.now() + jobs.job_lease(core.settings) + timedelta(minutes=1)
    result = core.run_due(later)["digest"]
    assert (result["status"], digest_run(core, "2026-W47")) == ("done", ("done", "local"))


def test_a_claim_is_left_alone_while_its_lease_holds(
    core: Govbot, clock: FixedClock, database_url: str, tmp_path: Path
) -> None:
    crash_while_writing_the_digest(database_url, clock.now(), tmp_path)
    almost = clock.now() + jobs.job_lease(core.settings) - timedelta(minutes=1)
    result = core.run_due(almost)["digest"]
    assert (result["status"], digest_run(core, "2026-W47")) == ("skipped", ("running", "crashed"))


def test_a_finished_run_is_never_claimed_again(core: Govbot, clock: FixedClock) -> None:
    assert core.run_due(clock.now())["digest"]["status"] == "done"
    much_later = clock.now() + timedelta(days=3)
    assert core.run_due(much_later)["digest"]["status"] == "skipped"


def test_instances_racing_for_an_expired_claim_run_it_once(
    core: Govbot, clock: FixedClock, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    crash_while_writing_the_digest(database_url, clock.now(), tmp_path)
    before = digests(core)
    later = clock.now() + jobs.job_lease(core.settings) + timedelta(minutes=1)
    instances = [build_core(settings, clock=FixedClock(later), instance=f"i{n}") for n in range(4)]
    barrier = threading.Barrier(len(instances))
    statuses: list[str] = []

    def run(instance: Govbot) -> None:
        barrier.wait(timeout=30)
        statuses.append(instance.run_due(later)["digest"]["status"])

    threads = [threading.Thread(target=run, args=(i,)) for i in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for instance in instances:
        instance.uow.dispose()
    assert (sorted(statuses), digests(core) - before) == (["done", "skipped", "skipped", "skipped"], 1)


def test_the_store_reclaims_only_a_stale_running_claim(core: Govbot, clock: FixedClock) -> None:
    now = clock.now()
    with core.uow() as uow:
        uow.jobs.claim("digest", "2026-W47", "a", now)
        uow.jobs.claim("digest", "2026-W48", "a", now)
        uow.jobs.finish("digest", "2026-W48", "done", {}, now)
        uow.commit()
    later = now + timedelta(hours=2)
    outcomes: list[Any] = []
    with core.uow() as uow:
        outcomes.append(uow.jobs.reclaim("digest", "2026-W47", "b", later, stale_before=now))  # not older
        outcomes.append(uow.jobs.reclaim("digest", "2026-W48", "b", later, stale_before=later))  # finished
        outcomes.append(uow.jobs.reclaim("digest", "2026-W47", "b", later, stale_before=later))  # stale
        outcomes.append(uow.jobs.reclaim("digest", "2026-W47", "c", later, stale_before=later))  # now fresh
        uow.commit()
    assert (outcomes, digest_run(core, "2026-W47")) == ([False, False, True, False], ("running", "b"))
