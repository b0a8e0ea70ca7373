"""Signed Slack requests (slash commands and approve clicks), sent concurrently to a
real server with their latencies, as the load tests and the benchmarks send them."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import aiohttp

from tests.support.slack_api import FakeSlackAPI
from tests.support.slack_platform import SIGNING_SECRET, sign


def command_body(user: str, text: str, n: int, api: FakeSlackAPI, command: str = "/aiwf") -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "fake",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": api.response_url(f"cmd{n}"),
            "trigger_id": f"trig.bench.{n}.{time.monotonic_ns()}",
        }
    )


def click_body(user: str, request_id: int, n: int, api: FakeSlackAPI, action_id: str = "approval.approve") -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": f"trig.click.{n}.{time.monotonic_ns()}",
        "container": {
            "type": "message",
            "message_ts": f"1700000000.{n:06d}",
            "channel_id": "D_OWNER",
            "is_ephemeral": False,
        },
        "channel": {"id": "D_OWNER", "name": "directmessage"},
        "message": {"ts": f"1700000000.{n:06d}", "blocks": [], "type": "message"},
        "response_url": api.response_url(f"act{n}"),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "buttons.0",
                "value": str(request_id),
                "action_ts": f"{time.time():.6f}",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def post_signed(
    session: aiohttp.ClientSession, url: str, body: str, content_type: str = "application/x-www-form-urlencoded"
) -> tuple[int, str]:
    ts = int(time.time())
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts, SIGNING_SECRET),
    }
    async with session.post(url, data=body.encode(), headers=headers) as resp:
        return resp.status, await resp.text()


async def fire(urls: list[str], bodies: list[str], concurrency: int) -> list[tuple[int, float]]:
    """Send every body (round-robin over `urls`) from `concurrency` clients at once;
    return (status, seconds) per request in order."""
    results: list[tuple[int, float]] = [(0, 0.0)] * len(bodies)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    connector = aiohttp.TCPConnector(limit=concurrency * 2, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def client() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                began = time.perf_counter()
                try:
                    status, _ = await post_signed(session, urls[i % len(urls)], bodies[i])
                except (aiohttp.ClientError, TimeoutError):
                    status = -1
                results[i] = (status, time.perf_counter() - began)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return results
