"""A burst of approval clicks against a real `govbot serve`, with the server stopped
(SIGKILL or SIGTERM) once some of them were answered: what each click got back, and
how many decisions and `decision.*` audit events each approval request has in SQL."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
from sqlalchemy import Engine, func, select

from store import models as m
from tests.support.bot_connector import execute_invoke
from tests.support.core_state import requests_by_role
from tests.support.proposals import make_proposal
from tests.support.servers import Server
from tests.support.slack_platform import SIGNING_SECRET, sign

Send = Callable[[aiohttp.ClientSession, int], Any]  # click number -> awaitable HTTP status


def owner_requests(core: Any, count: int) -> list[int]:
    """`count` approval requests waiting on U_OWNER (proposed in the console, so the
    server's outbox leaves the submission notices alone)."""
    ids = []
    for i in range(count):
        result = core.submit("U_REQ", "console", make_proposal(title=f"Summarise weekly support themes {i:03d}"))
        ids.append(requests_by_role(core, result.proposal_id)["owner"].id)
    return ids


def slack_sender(server: Server, bodies: Sequence[str]) -> Send:
    """POST the n-th signed Slack interaction body to the server."""

    async def send(session: aiohttp.ClientSession, n: int) -> int:
        ts = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(bodies[n], ts, SIGNING_SECRET),
        }
        async with session.post(server.url, data=bodies[n].encode(), headers=headers) as resp:
            await resp.read()
            return resp.status

    return send


def teams_sender(server: Server, service_url: str, user: str, request_ids: Sequence[int]) -> Send:
    """POST an Action.Execute approve invoke on the n-th request to /api/messages."""
    url = f"http://127.0.0.1:{server.port}/api/messages"

    async def send(session: aiohttp.ClientSession, n: int) -> int:
        body = execute_invoke(service_url, user, "approval.approve", {"request_id": request_ids[n]})
        headers = {"Content-Type": "application/json"}
        async with session.post(url, data=json.dumps(body).encode(), headers=headers) as resp:
            await resp.read()
            return resp.status

    return send


def alternating(first: Send, second: Send) -> Send:
    """Even clicks through `first`, odd ones through `second` (Slack and Teams in one burst)."""

    async def send(session: aiohttp.ClientSession, n: int) -> int:
        status: int = await (first if n % 2 == 0 else second)(session, n)
        return status

    return send


def burst(send: Send, count: int, clients: int, server: Server, sig: signal.Signals, after: int) -> list[int]:
    """Send clicks 0..count-1 from `clients` concurrent clients; once `after` of them
    were answered 200, send `sig` to the server. Returns each click's HTTP status
    (-1: no answer, the connection failed)."""
    return asyncio.run(_burst(send, count, clients, server, sig, after))


async def _burst(send: Send, count: int, clients: int, server: Server, sig: signal.Signals, after: int) -> list[int]:
    statuses = [0] * count
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    signalled = False
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def client() -> None:
            nonlocal signalled
            while not queue.empty():
                n = queue.get_nowait()
                try:
                    statuses[n] = await send(session, n)
                except (aiohttp.ClientError, TimeoutError):
                    statuses[n] = -1
                if not signalled and statuses.count(200) >= after:
                    signalled = True
                    server.proc.send_signal(sig)

        await asyncio.gather(*(client() for _ in range(clients)))
    return statuses


def decisions_per_request(engine: Engine, request_ids: Sequence[int]) -> dict[int, int]:
    """{request id: decisions recorded} for every request in `request_ids` (0 when none)."""
    stmt = (
        select(m.Decision.request_id, func.count())
        .where(m.Decision.request_id.in_(list(request_ids)))
        .group_by(m.Decision.request_id)
    )
    with engine.connect() as conn:
        found = dict(conn.execute(stmt).tuples().all())
    return {rid: int(found.get(rid, 0)) for rid in request_ids}


def approvals_audited(engine: Engine, request_ids: Sequence[int]) -> dict[int, int]:
    """{request id: `decision.approve` audit events naming it} (0 when none)."""
    stmt = select(m.AuditEventModel.detail).where(m.AuditEventModel.action == "decision.approve")
    counts = dict.fromkeys(request_ids, 0)
    with engine.connect() as conn:
        for detail in conn.scalars(stmt):
            rid = (detail or {}).get("request_id")
            if rid in counts:
                counts[rid] += 1
    return counts
