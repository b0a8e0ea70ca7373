"""Real servers for the benchmarks and the load tests: `govbot serve` (or the bare Bolt
yardstick) as a subprocess on 127.0.0.1, the fake Slack Web API on its own event-loop
thread, and signed Slack requests sent concurrently with their latencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_platform import BOT_TOKEN, SIGNING_SECRET, sign

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSlackThread:
    """A FakeSlackAPI served from a background thread (so it never competes with the
    load client's event loop). Use as a context manager; `api_url` is SLACK_API_URL."""

    def __init__(self) -> None:
        self.api = FakeSlackAPI(token=BOT_TOKEN)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-slack", daemon=True)

    def __enter__(self) -> FakeSlackThread:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.api.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def api_url(self) -> str:
        return self.api.api_url

    def count(self, method: str) -> int:
        return len(self.api.calls_to(method))


class Server:
    """A server subprocess answering GET /healthz on `port`."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, log: Path):
        self.port = port
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - kept open for the process's lifetime
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def wait_ready(self, timeout: float = 60.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.output()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s: {self.output()[-2000:]}")

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss / (1024 * 1024)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


def server_env(database_url: str, api_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `govbot serve` subprocess: Slack against the fake, no
    inherited Slack/Teams/OpenAI/govbot settings."""
    drop = ("SLACK_", "Microsoft", "MICROSOFT", "GOVBOT_", "OPENAI_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "GOVBOT_GOVERNANCE": "UGOV",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def start_govbot(database_url: str, api_url: str, log: Path, **extra: str) -> Server:
    port = free_port()
    args = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return Server(args, server_env(database_url, api_url, **extra), port, log)


def start_bare_bolt(api_url: str, log: Path) -> Server:
    port = free_port()
    env = server_env("sqlite://", api_url)
    return Server([sys.executable, "-m", "bench.bare_bolt", str(port)], env, port, log)


# ---------------------------------------------------------------------- requests


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


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()
