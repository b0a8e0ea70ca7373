"""Real servers for the load tests and the benchmarks: `govbot serve` as a subprocess
on 127.0.0.1 (Slack against the fake Web API), and the fake Slack Web API on its own
event-loop thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.slack_api import FakeSlackAPI
from tests.support.slack_platform import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]


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


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()
