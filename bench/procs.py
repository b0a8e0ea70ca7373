"""The benchmarks' own yardstick and figures: the bare Bolt app as a subprocess, and
percentiles of the measured latencies. The servers and the load client are shared with
the load tests, in `tests/support/servers.py` and `tests/support/slack_load.py`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.support.servers import Server, free_port, server_env


def start_bare_bolt(api_url: str, log: Path) -> Server:
    port = free_port()
    env = server_env("sqlite://", api_url)
    return Server([sys.executable, "-m", "bench.bare_bolt", str(port)], env, port, log)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def summary(results: list[tuple[int, float]]) -> dict[str, Any]:
    times = [t * 1000 for _, t in results]
    return {
        "n": len(results),
        "errors": sum(1 for s, _ in results if s != 200),
        "p50_ms": round(percentile(times, 50), 2),
        "p99_ms": round(percentile(times, 99), 2),
    }
