"""Classifier throughput and `govbot import` of an inventory through the real CLI."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.data import proposals
from tests.support.servers import ROOT, server_env


def classifier(n: int) -> dict[str, Any]:
    """Proposals per second through `bot.classifier.classify` (validated input, default
    policy), and through validate + classify as `govbot classify` does it."""
    from bot.domain.classifier import classify
    from bot.domain.policy_file import load_policy
    from bot.domain.proposal import validate_proposal

    policy = load_policy()
    raw = proposals(n, seed=3)
    began = time.perf_counter()
    valid = [validate_proposal(r) for r in raw]
    validated = time.perf_counter() - began
    for answers in valid[:50]:  # warm the regex caches
        classify(answers, policy)
    began = time.perf_counter()
    for answers in valid:
        classify(answers, policy)
    classified = time.perf_counter() - began
    return {
        "n": n,
        "per_second": round(n / classified),
        "with_validation_per_second": round(n / (classified + validated)),
    }


def import_cli(database_url: str, n: int, workdir: Path) -> dict[str, Any]:
    """Time `govbot import FILE --as U_IMPORT` of `n` proposals in a subprocess."""
    path = workdir / f"inventory-{n}.json"
    path.write_text(json.dumps(proposals(n, seed=5)))
    env = server_env(database_url, "http://127.0.0.1:9/api/")
    began, before = time.perf_counter(), _child_cpu()
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", str(path), "--as", "U_IMPORT"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    elapsed, cpu = time.perf_counter() - began, _child_cpu() - before
    last = (result.stdout.strip().splitlines() or [""])[-1]
    return {
        "n": n,
        "seconds": round(elapsed, 1),
        "per_second": round(n / elapsed, 1),
        "cpu_s": round(cpu, 1),
        "exit_code": result.returncode,
        "summary": last,
        "stderr_tail": result.stderr[-300:],
    }


def _child_cpu() -> float:
    """CPU seconds (user + system) of finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
