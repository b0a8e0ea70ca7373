"""`mine` under slow work (issue 18, item 3): p99 of `mine` while 50 digests with a slow
LLM stub and 500 portfolio reads run through the channels' lanes (`handlers.base.core_call`).

The LLM stub sleeps (a slow model: waiting on the network, the GIL free). The same load
is run a second time with every call forced into the quick lane, to show what the
lanes buy. Figures only; nothing here passes or fails on time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

LLM_DELAY_S = 0.5  # one draft of the slow LLM stub
MINE_GAP_S = 0.02  # between two `mine` samples


class SlowDrafter:
    """The digest LLM, slow: every draft takes LLM_DELAY_S."""

    model_name = "bench-slow-stub"

    def draft(self, system: str, user: str) -> tuple[str, int, int]:
        time.sleep(LLM_DELAY_S)
        return "A quiet week.", len(system) + len(user), 4


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def run(url: str, quick: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    from bench.seed import Seeder
    from bot.app import build_core
    from bot.settings import Settings
    from store.db import make_engine

    digests, portfolios, proposals = (10, 100, 300) if quick else (50, 500, 1000)
    Seeder(datetime.now(UTC)).add(make_engine(url), proposals)
    core = build_core(Settings(database_url=url, governance="UGOV", _env_file=None))
    core.drafter = SlowDrafter()
    out: dict[str, Any] = {"digests": digests, "portfolios": portfolios, "proposals": proposals}
    out["idle"] = asyncio.run(_load(core, 0, 0))
    log(f"  mine alone: p99 {out['idle']['mine_p99_ms']} ms")
    out["lanes"] = asyncio.run(_load(core, digests, portfolios))
    log(f"  mine with lanes under load: p99 {out['lanes']['mine_p99_ms']} ms")
    out["one_lane"] = asyncio.run(_load(core, digests, portfolios, one_lane=True))
    log(f"  mine with one shared lane under load: p99 {out['one_lane']['mine_p99_ms']} ms")
    core.uow.dispose()
    return out


async def _load(core: Any, digests: int, portfolios: int, *, one_lane: bool = False) -> dict[str, Any]:
    from handlers import base

    original = base.lane_of
    if one_lane:
        base.lane_of = lambda fn, args: "quick"  # type: ignore[assignment]  # the old single lane
    try:
        slow = [
            asyncio.create_task(base.core_call(core.handle_command, "UGOV", "slack", "digest")) for _ in range(digests)
        ]
        slow += [asyncio.create_task(base.core_call(core.portfolio)) for _ in range(portfolios)]
        started = time.perf_counter()
        samples: list[float] = []
        while len(samples) < 30 or (slow and not all(t.done() for t in slow) and len(samples) < 400):
            t0 = time.perf_counter()
            await base.core_call(core.mine, "U_APPROVER")
            samples.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(MINE_GAP_S)
        results = await asyncio.gather(*slow, return_exceptions=True)
    finally:
        base.lane_of = original
    return {
        "mine_samples": len(samples),
        "mine_p50_ms": _pct(samples, 0.5),
        "mine_p99_ms": _pct(samples, 0.99),
        "mine_mean_ms": round(statistics.fmean(samples), 1),
        "slow_done_s": round(time.perf_counter() - started, 1),
        "llm_timeouts": sum(isinstance(r, base.LaneTimeout) for r in results),
        "errors": sum(isinstance(r, BaseException) and not isinstance(r, base.LaneTimeout) for r in results),
    }
