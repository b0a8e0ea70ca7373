"""The Slack side of a conversation: signed requests to govbot's real HTTP server.

`SlackHarness` serves `handlers.web.build_web_app` on 127.0.0.1 (a real TCP port),
points its real slack_sdk client at a `FakeSlackAPI`, and sends commands, button
clicks, view submissions and events signed with the signing secret exactly as
Slack signs them (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from handlers.base import SENDERS_KEY, SLACK_KEY
from tests.support.slack_api import FakeSlackAPI

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_settings(settings: Any, api: FakeSlackAPI, **extra: Any) -> Any:
    """A copy of `settings` configured for Slack against the fake Web API."""
    update = {
        "slack_bot_token": SecretStr(api.token),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": api.api_url,
        **extra,
    }
    return settings.model_copy(update=update)


def state_values(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """What Slack sends as `view.state.values` when a user fills the view's inputs with
    `answers` ({block_id: text, code, [codes], True/False or user id})."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        bid, element = block["block_id"], block["element"]
        kind, aid = element["type"], element["action_id"]
        given = answers.get(bid)
        options = {o["value"]: o for o in element.get("options", [])}
        if kind == "plain_text_input":
            state: dict[str, Any] = {"type": kind, "value": given if given not in (None, "") else None}
        elif kind in ("static_select", "radio_buttons"):
            if isinstance(given, bool):
                given = "true" if given else "false"
            state = {"type": kind, "selected_option": _option(options, given) if given is not None else None}
        elif kind in ("checkboxes", "multi_static_select"):
            state = {"type": kind, "selected_options": [_option(options, v) for v in (given or [])]}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": given}
        else:
            raise AssertionError(f"state_values: element type {kind} not supported")
        values[bid] = {aid: state}
    return values


def _option(options: dict[str, Any], value: str) -> dict[str, Any]:
    if value in options:
        return {"text": options[value]["text"], "value": value}
    return {"text": {"type": "plain_text", "text": value}, "value": value}  # a value the view did not offer


class SlackHarness:
    """Run with `async with SlackHarness(core, settings) as slack: ...`."""

    def __init__(self, core: Any, settings: Any, api: FakeSlackAPI | None = None):
        self.core = core
        self.base_settings = settings
        self.api = api or FakeSlackAPI(token=BOT_TOKEN)
        self._ids = itertools.count(1)
        self.url = ""
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> SlackHarness:
        from handlers.web import build_web_app

        await self.api.start()
        self.settings = slack_settings(self.base_settings, self.api)
        self.app = build_web_app(self.core, self.settings)
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/slack/events"
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.api.stop()

    @property
    def front_end(self) -> Any:
        assert self.app is not None
        return self.app[SLACK_KEY]

    @property
    def sender(self) -> Any:
        assert self.app is not None
        return self.app[SENDERS_KEY]["slack"]

    async def idle(self) -> None:
        """Wait until the work the app does after its acks is finished."""
        await self.front_end.idle()

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):05d}"

    # ------------------------------------------------------------------ raw requests
    async def post(
        self,
        body: str,
        content_type: str = "application/x-www-form-urlencoded",
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        hdrs = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else sign(body, ts, secret),
        }
        hdrs.update(headers or {})
        async with self.session.post(self.url, data=body.encode(), headers=hdrs) as resp:
            return resp.status, await resp.text()

    async def post_form(self, form: dict[str, str], **kw: Any) -> tuple[int, str]:
        return await self.post(urlencode(form), **kw)

    async def post_payload(self, payload: dict[str, Any], **kw: Any) -> tuple[int, str]:
        return await self.post(urlencode({"payload": json.dumps(payload)}), **kw)

    # ------------------------------------------------------------------ what users do
    async def command(
        self, user: str, text: str, *, channel: str = "C0GENERAL", trigger_id: str | None = None, **kw: Any
    ) -> tuple[int, str]:
        """Type `/aiwf <text>`; returns the HTTP answer (the ack)."""
        form = {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": self.settings.slack_command,
            "text": text,
            "api_app_id": "A1",
            "response_url": self.api.response_url(self.next_id("cmd")),
            "trigger_id": trigger_id or self.next_id("trig."),
        }
        return await self.post_form(form, **kw)

    async def click(
        self,
        user: str,
        action_id: str,
        value: str,
        *,
        message: dict[str, Any] | None = None,
        in_home: bool = False,
        trigger_id: str | None = None,
        **kw: Any,
    ) -> tuple[int, str]:
        """Click a button on a delivered message ({"channel", "ts", "blocks"}) or in App Home."""
        action = {
            "type": "button",
            "action_id": action_id,
            "block_id": "buttons.0",
            "value": value,
            "action_ts": f"{time.time():.6f}",
            "text": {"type": "plain_text", "text": action_id},
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": "T1", "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": trigger_id or self.next_id("trig."),
            "actions": [action],
        }
        if in_home:
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home", "blocks": [], "private_metadata": ""}
        else:
            assert message is not None, "click on a message needs the message"
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": message["channel"],
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": message["channel"], "name": "directmessage"}
            payload["message"] = {"ts": message["ts"], "blocks": message.get("blocks", []), "type": "message"}
            payload["response_url"] = self.api.response_url(self.next_id("act"))
        return await self.post_payload(payload, **kw)

    async def message_shortcut(
        self, user: str, callback_id: str, message: dict[str, Any], *, trigger_id: str | None = None, **kw: Any
    ) -> tuple[int, str]:
        """Pick a message shortcut from a message's menu ({"channel", "ts", "text", "user"})."""
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": trigger_id or self.next_id("trig."),
            "response_url": self.api.response_url(self.next_id("sc")),
            "team": {"id": "T1", "domain": "fake"},
            "user": {"id": user, "name": user.lower(), "team_id": "T1"},
            "channel": {"id": message["channel"], "name": "general"},
            "message": {"type": "message", "user": message.get("user"), "ts": message["ts"], "text": message["text"]},
            "message_ts": message["ts"],
            "action_ts": f"{time.time():.6f}",
            "token": "legacy",
        }
        return await self.post_payload(payload, **kw)

    async def submit(self, user: str, view: dict[str, Any], answers: dict[str, Any], **kw: Any) -> tuple[int, str]:
        """Submit an open modal (`view` as the fake answered views.open/update) filled with `answers`."""
        payload = {
            "type": "view_submission",
            "team": {"id": "T1", "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "trigger_id": kw.pop("trigger_id", None) or self.next_id("trig."),
            "view": {**view, "state": {"values": state_values(view, answers)}},
        }
        return await self.post_payload(payload, **kw)

    async def close(self, user: str, view: dict[str, Any], answers: dict[str, Any]) -> tuple[int, str]:
        payload = {
            "type": "view_closed",
            "team": {"id": "T1", "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "api_app_id": "A1",
            "token": "legacy",
            "is_cleared": False,
            "view": {**view, "state": {"values": state_values(view, answers)}},
        }
        return await self.post_payload(payload)

    async def home_opened(self, user: str, *, event_id: str | None = None, **kw: Any) -> tuple[int, str]:
        body = {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or self.next_id("Ev"),
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D" + user[1:],
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
        }
        return await self.post(json.dumps(body), "application/json", **kw)
