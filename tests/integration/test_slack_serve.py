"""`govbot serve`: the real server with its background outbox delivery, Socket Mode
against a fake Socket Mode endpoint, and start-up refusals that name the variable."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from handlers.web import run_server
from tests.support.core_state import set_roles
from tests.support.proposals import interview_answers
from tests.support.slack_api import FakeSlackAPI
from tests.support.slack_platform import SlackHarness, slack_settings

ANSWERS = interview_answers()

ROOT = Path(__file__).resolve().parents[2]


async def _start(core, settings, *, socket: bool = False):
    stop = asyncio.Event()
    port: asyncio.Future = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_server(core, settings, "127.0.0.1", 0, socket=socket, stop=stop, started=port.set_result)
    )
    done, _ = await asyncio.wait({task, port}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises the start-up error
    return stop, task, port.result()


@pytest.mark.slow
def test_serve_answers_healthz_and_delivers_the_outbox_in_the_background(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        api = await FakeSlackAPI().start()
        try:
            configured = slack_settings(settings, api)
            stop, task, port = await _start(core, configured)
            harness = SlackHarness(core, configured, api)
            harness.settings = configured
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    assert resp.status == 200
                harness.session, harness.url = session, f"http://127.0.0.1:{port}/slack/events"
                status, text = await harness.command("U_REQ", "help")
                assert (status, text) == (200, "")
            await api.wait_for("response_url")
            await asyncio.to_thread(core.submit, "U_REQ", "slack", dict(ANSWERS))
            posted = await api.wait_for("chat.postMessage", 3)  # the outbox loop delivered, nobody asked
            assert sorted(c.args["channel"] for c in posted) == ["D_LEAD", "D_OWN", "D_REQ"]
            stop.set()
            await asyncio.wait_for(task, 10)
        finally:
            await api.stop()

    asyncio.run(scenario())


def test_socket_mode_takes_commands_over_the_websocket(core, settings):
    async def scenario():
        api = await FakeSlackAPI().start()
        try:
            configured = slack_settings(
                settings, api, slack_signing_secret=None, slack_app_token=SecretStr(api.app_token)
            )
            stop, task, port = await _start(core, configured, socket=True)
            await asyncio.wait_for(api.socket_connected.wait(), 10)
            await api.send_envelope(
                "slash_commands",
                {
                    "command": "/aiwf",
                    "text": "propose Tag invoices",
                    "user_id": "U_REQ",
                    "channel_id": "C1",
                    "team_id": "T1",
                    "trigger_id": "trig.socket",
                    "response_url": api.response_url("s1"),
                },
                "env-1",
            )
            ack = await api.wait_for_ack("env-1")
            assert ack["envelope_id"] == "env-1"
            opened = await api.wait_for("views.open")
            assert opened[0].args["trigger_id"] == "trig.socket"
            title = next(b for b in opened[0].args["view"]["blocks"] if b.get("block_id") == "title")
            assert title["element"]["initial_value"] == "Tag invoices"
            url = f"http://127.0.0.1:{port}/slack/events"
            async with aiohttp.ClientSession() as session, session.post(url, data=b"command=/aiwf") as resp:
                assert resp.status == 404  # no signing secret: no HTTP events at all
            stop.set()
            await asyncio.wait_for(task, 10)
        finally:
            await api.stop()

    asyncio.run(scenario())


@pytest.mark.slow
def test_cli_serve_names_the_missing_variable(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "Microsoft", "GOVBOT_"))}
    env.update({"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-1", "PYTHONPATH": str(ROOT)})
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SLACK_SIGNING_SECRET" in result.stderr and "Traceback" not in result.stderr
    assert "xoxb-1" not in result.stderr + result.stdout  # secrets are never printed
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--socket", "--port", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "SLACK_APP_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
