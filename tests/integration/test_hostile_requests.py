"""Hostile requests before authentication, through the real servers on 127.0.0.1 (issue 18,
item 2): every one is refused with a 4xx (or, after Slack's ack, a private answer) and
one log line, never a 500 and never a traceback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr

from bot.messages.message import APPROVE
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    card_text,
    execute_invoke,
    forbid_internet,
    validate_card,
)
from tests.support.slack_platform import SIGNING_SECRET, SlackHarness

HUGE = "99999999999999999999"
DEEP = "[" * 50_000 + "]" * 50_000


def run(coro):
    return asyncio.run(coro)


def log_lines(caplog) -> list[tuple[str, str, bool]]:
    """(logger, level, carries a traceback) of every record the servers wrote."""
    return [
        (r.name, r.levelname, r.exc_info is not None)
        for r in caplog.records
        if r.name.startswith(("handlers.", "aiohttp.", "bot."))
    ]


def sign_bytes(raw: bytes, timestamp: str) -> str:
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------- Slack

BAD_TIMESTAMPS = {"empty": "", "words": "soon", "decimal": "1700000000.5", "thousands of digits": "9" * 5000}


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS.values(), ids=BAD_TIMESTAMPS.keys())
def test_a_slack_timestamp_that_is_not_a_number_is_refused_with_one_line(core, settings, caplog, timestamp):
    caplog.set_level(logging.INFO)

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            caplog.clear()
            status, _ = await slack.post(
                urlencode({"command": "/aiwf", "text": "help", "user_id": "U1"}),
                headers={"X-Slack-Request-Timestamp": timestamp},
            )
            return status

    status = run(scenario())
    assert (status, log_lines(caplog)) == (401, [("handlers.slack.app", "WARNING", False)])


def test_a_signed_slack_body_that_is_not_utf8_is_refused_with_one_line(core, settings, caplog):
    caplog.set_level(logging.INFO)
    raw = b"command=%2Faiwf&text=\xff\xfe&user_id=U1"

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            caplog.clear()
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sign_bytes(raw, ts),
            }
            async with slack.session.post(slack.url, data=raw, headers=headers) as resp:
                return resp.status

    status = run(scenario())
    assert (status, log_lines(caplog)) == (400, [("handlers.slack.app", "WARNING", False)])


DEEP_SLACK = {
    "payload": (urlencode({"payload": DEEP}), "application/x-www-form-urlencoded"),
    "event": (json.dumps({"type": "event_callback", "event": "X"}).replace('"X"', DEEP), "application/json"),
}


@pytest.mark.parametrize("body, content_type", DEEP_SLACK.values(), ids=DEEP_SLACK.keys())
def test_deeply_nested_slack_json_is_refused_with_one_line(core, settings, caplog, body, content_type):
    caplog.set_level(logging.INFO)

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            caplog.clear()
            return (await slack.post(body, content_type))[0]

    status = run(scenario())
    assert (status, log_lines(caplog)) == (400, [("handlers.slack.app", "WARNING", False)])


def test_a_slack_button_value_too_big_for_an_id_is_answered_not_crashed(core, settings, caplog):
    caplog.set_level(logging.INFO)

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            status, _ = await slack.click("U1", APPROVE, HUGE, message={"channel": "D1", "ts": "1.1"})
            await slack.idle()
            told = [c.args["text"] for c in slack.api.calls_to("response_url")]
            return status, told

    status, told = run(scenario())
    expected = f"button value: '{HUGE}' is not an id; ids are whole numbers from 1 to 2147483647"
    assert (status, told, [line for line in log_lines(caplog) if line[2] or line[1] == "ERROR"]) == (
        200,
        [expected],
        [],
    )


# ---------------------------------------------------------------------------- Teams


@pytest.fixture
def no_internet(monkeypatch):
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def connector():
    with FakeBotConnector() as fake:
        yield fake


def test_deeply_nested_json_to_teams_with_credentials_is_refused_before_authentication(
    core, settings, connector, no_internet, caplog
):
    caplog.set_level(logging.INFO)
    secured = settings.model_copy(
        update={
            "microsoft_app_id": "11111111-2222-3333-4444-555555555555",
            "microsoft_app_password": SecretStr("not-a-real-secret"),
            "govbot_env": "production",
        }
    )
    body = json.dumps(activity(connector.url, "29:deep", text="help", value="X")).replace('"X"', DEEP)
    with ServerThread(build_web_app(core, secured)) as server:
        response = httpx.post(
            f"{server.url}/api/messages", content=body, headers={"Content-Type": "application/json"}, timeout=30
        )
    assert (response.status_code, log_lines(caplog)[-1]) == (400, ("handlers.teams.adapter", "WARNING", False))


@pytest.fixture
def teams_server(core, settings, connector, no_internet):
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    with ServerThread(build_web_app(core, local)) as server:
        yield server


TEAMS_IDS = {"digits": HUGE, "number": int(HUGE), "superscript": "²", "thousands of digits": "9" * 5000}


@pytest.mark.parametrize("request_id", TEAMS_IDS.values(), ids=TEAMS_IDS.keys())
def test_an_action_execute_id_too_big_is_explained_on_the_card(teams_server, connector, caplog, request_id):
    caplog.set_level(logging.INFO)
    body = execute_invoke(connector.url, "29:big", APPROVE, {"request_id": request_id, "comment": "ok"})
    response = httpx.post(f"{teams_server.url}/api/messages", json=body, timeout=30)
    text = card_text(validate_card(response.json()["value"]))
    assert (response.status_code, "is not an id" in text, [x for x in log_lines(caplog) if x[2]]) == (200, True, [])


def test_an_action_submit_id_too_big_is_explained_on_the_card(teams_server, connector, caplog):
    caplog.set_level(logging.INFO)
    body = activity(connector.url, "29:big", value={"verb": APPROVE, "request_id": int(HUGE)})
    httpx.post(f"{teams_server.url}/api/messages", json=body, timeout=30)
    (reply,) = connector.activities("POST")
    text = card_text(validate_card(reply.body["attachments"][0]["content"]))
    assert ("is not an id" in text, [x for x in log_lines(caplog) if x[2]]) == (True, [])


TYPED = {
    "approve": f"approve {HUGE}",
    "status superscript": "status ²",
    "status thousands of digits": "status " + "9" * 5000,
}


@pytest.mark.parametrize("text", TYPED.values(), ids=TYPED.keys())
def test_a_typed_id_that_is_not_a_number_gets_a_usage_answer(teams_server, connector, caplog, text):
    caplog.set_level(logging.INFO)
    httpx.post(f"{teams_server.url}/api/messages", json=activity(connector.url, "29:typed", text=text), timeout=30)
    (reply,) = connector.wait_for(1, method="POST")  # answered after the turn
    said = card_text(validate_card(reply.body["attachments"][0]["content"]))
    assert ("is not a number" in said, [x for x in log_lines(caplog) if x[2]]) == (True, [])
