"""Acknowledgement latency through the real HTTP server, against a bare Bolt app.

`govbot serve` runs as a subprocess (Slack against the fake Web API, signed requests);
so does the yardstick, a bare slack_bolt AsyncApp on aiohttp that only acks. At 1, 10
and 50 concurrent clients each gets the same slash commands (`/aiwf mine`) and approve
clicks (each on its own pending approval request), and the p50/p99 of the HTTP answer
is recorded. The ratio govbot/bare is the figure that matters; both share the machine.
Afterwards the server's resident memory is read (the "RSS after load" figure).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.procs import start_bare_bolt, summary
from tests.support.servers import FakeSlackThread, start_govbot
from tests.support.slack_load import click_body, command_body, fire

LEVELS = (1, 10, 50)


def _requests(concurrency: int, quick: bool) -> int:
    if quick:
        return {1: 30, 10: 60, 50: 100}[concurrency]
    return {1: 150, 10: 300, 50: 500}[concurrency]


def seed_requests(database_url: str, n: int) -> list[int]:
    """Submit `n` low-risk proposals (owner U_OWNER) through the core; return the owner's
    pending approval request ids. (Run with the proposals on the Slack channel, the server
    also drains a backlog of about 3n outbox messages during the measurement: with n=950
    that took the click p99 at 50 clients from about 1.3x to 2.5x the bare app's.)"""
    from bot.app import build_core
    from bot.settings import Settings
    from tests.support.core_state import requests_by_role
    from tests.support.proposals import make_proposal

    core = build_core(Settings(database_url=database_url, governance="UGOV", _env_file=None))
    ids = []
    for i in range(n):
        # proposed in the console: their notices and cards stay in the outbox instead of
        # making the server deliver a burst of ~3 messages per seeded proposal while we measure
        result = core.submit("U_REQ", "console", make_proposal(title=f"Summarise weekly support themes {i:05d}"))
        ids.append(requests_by_role(core, result.proposal_id)["owner"].id)
    return ids


def run(database_url: str, workdir: Path, quick: bool, log: Any = print) -> dict[str, Any]:
    """Measure both servers at every level; returns the figures and the RSS after load."""
    total = sum(_requests(c, quick) for c in LEVELS)
    began = time.perf_counter()
    request_ids = seed_requests(database_url, total)
    log(f"  ack: seeded {total} approval requests in {time.perf_counter() - began:.1f} s")
    out: dict[str, Any] = {"levels": {}, "database": database_url.split(":", 1)[0]}
    with FakeSlackThread() as slack:
        govbot = start_govbot(database_url, slack.api_url, workdir / "serve-ack.log")
        bare = start_bare_bolt(slack.api_url, workdir / "bare-bolt.log")
        try:
            govbot.wait_ready()
            bare.wait_ready()
            out["rss_mb_before"] = round(govbot.rss_mb(), 1)
            # warm both (auth.test, first imports) before measuring
            for server in (govbot, bare):
                asyncio.run(fire([server.url], [command_body("U_WARM", "help", i, slack.api) for i in range(5)], 2))
            offset = 0
            for level in LEVELS:
                n = _requests(level, quick)
                cmds = [command_body(f"U{i % 40:03d}", "mine", i, slack.api) for i in range(n)]
                mine = request_ids[offset : offset + n]
                offset += n
                clicks = [click_body("U_OWNER", rid, i, slack.api) for i, rid in enumerate(mine)]
                bare_clicks = [click_body("U_OWNER", rid, i, slack.api) for i, rid in enumerate(mine)]
                row = {
                    "command": _abba(govbot.url, bare.url, cmds, cmds, level),
                    "click": _abba(govbot.url, bare.url, clicks, bare_clicks, level),
                }
                for kind in ("command", "click"):
                    g, b = row[kind]["govbot"], row[kind]["bare_bolt"]
                    row[kind]["p99_ratio"] = round(g["p99_ms"] / b["p99_ms"], 2) if b["p99_ms"] else None
                    row[kind]["p50_ratio"] = round(g["p50_ms"] / b["p50_ms"], 2) if b["p50_ms"] else None
                out["levels"][str(level)] = row
                log(
                    f"  ack c={level:>2}: command p99 {row['command']['govbot']['p99_ms']} ms vs "
                    f"{row['command']['bare_bolt']['p99_ms']} ms bare; click p99 {row['click']['govbot']['p99_ms']} "
                    f"ms vs {row['click']['bare_bolt']['p99_ms']} ms bare"
                )
                time.sleep(1.0)  # let the work after the acks drain before the next level
            decided = _wait_decided(database_url, request_ids, 60)
            out["clicks_decided"] = decided
            out["clicks_sent"] = len(request_ids)
            out["rss_mb_after_load"] = round(govbot.rss_mb(), 1)
        finally:
            govbot.stop()
            bare.stop()
    return out


def _abba(govbot: str, bare: str, ours: list[str], theirs: list[str], level: int) -> dict[str, Any]:
    """Both servers, in A-B-B-A order over two halves of the requests, so a burst of
    load from elsewhere on the machine falls on both sides; percentiles of the pooled runs."""
    half = len(ours) // 2
    g = asyncio.run(fire([govbot], ours[:half], level))
    time.sleep(0.5)  # let govbot's work after the acks drain
    b = asyncio.run(fire([bare], theirs[:half], level)) + asyncio.run(fire([bare], theirs[half:], level))
    g += asyncio.run(fire([govbot], ours[half:], level))
    time.sleep(0.5)
    return {"govbot": summary(g), "bare_bolt": summary(b)}


def _wait_decided(database_url: str, ids: list[int], timeout: float) -> int:
    """How many of the clicked requests have a decision once the work after the acks is done."""
    from sqlalchemy import func, select

    from store import models as m
    from store.db import make_engine
    from tests.support.servers import wait_until

    engine = make_engine(database_url)
    try:

        def count() -> int:
            with engine.connect() as conn:
                return int(
                    conn.scalar(select(func.count()).select_from(m.Decision).where(m.Decision.request_id.in_(ids))) or 0
                )

        wait_until(lambda: count() >= len(ids), timeout, 0.5)
        return count()
    finally:
        engine.dispose()
