"""Start-up fails fast and clearly (issue 11 item 7): `govbot serve`, `run-jobs` and
`digest` check every setting before they do anything. Each problem is one line on
stderr naming the variable (or option) and what is allowed; the exit status is 2; there
is no traceback and the database is never opened. A good start-up says where the
server listens and which channels are on, after Slack accepted the token.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.settings import load_settings
from handlers.web import preflight
from tests.support.slack_api import FakeSlackAPI

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["serve", "run-jobs", "digest"]
ENV_PREFIXES = ("SLACK_", "Microsoft", "GOVBOT_", "OPENAI_", "DATABASE_URL")
Run = Callable[..., tuple[int, str]]


class SlackAPIThread:
    """The fake Slack Web API on its own event loop, for code that runs its own loop."""

    def __enter__(self) -> FakeSlackAPI:
        self.api = FakeSlackAPI()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.api.start(), self.loop).result(10)
        return self.api

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.api.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def never_db(tmp_path: Path) -> Path:
    """A SQLite file that must never come into being: nothing may open the database."""
    return tmp_path / "never" / "govbot.db"


@pytest.fixture
def govbot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, never_db: Path) -> Iterator[Run]:
    """Run `govbot ARGS` in this process with only the given variables set (the log
    levels `serve` sets are put back afterwards, so later tests see what they expect)."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{never_db}")

    def run(*argv: str, **env: str) -> tuple[int, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        err = io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        code = main(list(argv), out=io.StringIO(), stdin=io.StringIO())
        return code, err.getvalue()

    loggers = [logging.getLogger(package) for package in ("bot", "handlers", "store")]
    levels = [logger.level for logger in loggers]
    yield run
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def bad_setting(tmp_path: Path, case: str) -> tuple[dict[str, str], str]:
    """(environment, the one line expected on stderr) for each bad setting."""
    policy = tmp_path / "policy.toml"
    policy.write_text(
        (ROOT / "bot" / "policy.toml").read_text().replace('default_level = "low"', 'default_level = "x"')
    )
    roles = tmp_path / "roles.json"
    return {
        "timezone": (
            {"GOVBOT_TIMEZONE": "Mars/Olympus"},
            "GOVBOT_TIMEZONE: 'Mars/Olympus' is not an IANA time zone; "
            "use a name such as UTC, Europe/Berlin or America/New_York",
        ),
        "digest day": (
            {"GOVBOT_DIGEST_DAY": "someday"},
            "GOVBOT_DIGEST_DAY: 'someday' is not a day; allowed: mon, tue, wed, thu, fri, sat, sun "
            "(or the full English name)",
        ),
        "digest time": (
            {"GOVBOT_DIGEST_TIME": "25:00"},
            "GOVBOT_DIGEST_TIME: '25:00' is not a time of day; use HH:MM from 00:00 to 23:59, e.g. 09:00",
        ),
        "capacity target": (
            {"GOVBOT_CAPACITY_TARGET": "keep_the_lights_on=0.5,incremental=0.5,strategic=0.5"},
            "GOVBOT_CAPACITY_TARGET: the shares add up to 1.5; the three shares must add up to 1",
        ),
        "roles file": (
            {"GOVBOT_ROLES_FILE": str(roles)},
            f"GOVBOT_ROLES_FILE: cannot read {roles}: No such file or directory",
        ),
        "policy file": (
            {"GOVBOT_POLICY_FILE": str(policy)},
            f"GOVBOT_POLICY_FILE: {policy}: risk.default_level: must be one of low, medium, high",
        ),
        "database url": (
            {"DATABASE_URL": "mysql://govbot:s3cret@db.internal/govbot"},
            "DATABASE_URL: 'mysql' is not supported; allowed: sqlite, sqlite+pysqlite, postgresql+psycopg "
            "(e.g. sqlite:///govbot.db or postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE)",
        ),
    }[case]


CASES = ["timezone", "digest day", "digest time", "capacity target", "roles file", "policy file", "database url"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_a_bad_setting_is_one_line_and_exit_2_before_anything_runs(
    govbot: Run, tmp_path: Path, never_db: Path, command: str, case: str
) -> None:
    env, line = bad_setting(tmp_path, case)
    code, err = govbot(command, **env)
    assert (code, err, never_db.exists()) == (2, f"govbot {command}: {line}\n", False)


def test_every_bad_setting_is_named_at_once(govbot: Run, tmp_path: Path) -> None:
    env = {**bad_setting(tmp_path, "timezone")[0], **bad_setting(tmp_path, "digest day")[0]}
    _, err = govbot("run-jobs", **env)
    assert [line.split(":")[1].strip() for line in err.splitlines()] == ["GOVBOT_TIMEZONE", "GOVBOT_DIGEST_DAY"]


def test_a_port_in_use_is_named(govbot: Run, never_db: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, err = govbot("serve", "--host", "127.0.0.1", "--port", str(port), GOVBOT_TEAMS="1", GOVBOT_ENV="local")
    expected = (
        f"govbot serve: --port: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose a free port with --port\n"
    )
    assert (code, err, never_db.exists()) == (2, expected, False)


def test_a_slack_token_that_slack_refuses_stops_serve_at_start_up(govbot: Run, never_db: Path) -> None:
    with SlackAPIThread() as api:
        code, err = govbot(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            SLACK_BOT_TOKEN="xoxb-revoked",
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=api.api_url,
        )
    expected = (
        "govbot serve: SLACK_BOT_TOKEN: Slack refused the token (invalid_auth); use the app's Bot User OAuth "
        "Token (xoxb-...) from OAuth & Permissions\n"
    )
    assert (code, err, never_db.exists()) == (2, expected, False)


def test_preflight_asks_slack_about_the_token_and_keeps_the_port(tmp_path: Path) -> None:
    with SlackAPIThread() as api:
        settings = load_settings(
            _env_file=None,
            database_url=f"sqlite:///{tmp_path / 'govbot.db'}",
            slack_bot_token=api.token,
            slack_signing_secret="secret",
            slack_api_url=api.api_url,
        )
        listener = preflight(settings, "127.0.0.1", 0)
        with listener:
            asked = [(c.method, c.token) for c in api.calls]
            listening = listener.getsockname()[1] > 0
    assert (asked, listening) == ([("auth.test", api.token)], True)


# --------------------------------------------------------------------------- a real process


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def test_a_real_process_prints_the_line_without_a_traceback(tmp_path: Path, never_db: Path) -> None:
    env = _clean_env(DATABASE_URL=f"sqlite:///{never_db}", GOVBOT_TIMEZONE="Mars/Olympus")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run-jobs"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    line = bad_setting(tmp_path, "timezone")[1]
    assert (result.returncode, result.stderr, never_db.exists()) == (2, f"govbot run-jobs: {line}\n", False)


def _lines_until(stream: Any, pattern: re.Pattern[str]) -> Iterator[str]:
    for line in stream:
        yield line
        if pattern.search(line):
            return


def test_serve_says_where_it_listens_and_which_channels_are_on(database_url: str, tmp_path: Path) -> None:
    listening = re.compile(r"handlers\.web: govbot listening on http://127\.0\.0\.1:(\d+); channels: slack, teams$")
    with SlackAPIThread() as api:
        env = _clean_env(
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN=api.token,
            SLACK_SIGNING_SECRET="secret",
            SLACK_API_URL=api.api_url,
            GOVBOT_TEAMS="1",
            GOVBOT_ENV="local",
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        watchdog = threading.Timer(60, server.kill)  # a server that never says it listens fails, not hangs
        watchdog.start()
        try:
            assert server.stderr is not None
            said = [line.rstrip("\n") for line in _lines_until(server.stderr, listening)]
        finally:
            watchdog.cancel()
            server.terminate()
            server.wait(timeout=30)
    assert listening.search(said[-1]) is not None, said
