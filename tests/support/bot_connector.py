"""A local fake Bot Connector service that the real botbuilder connector client talks to.

It speaks the v3 REST wire format on 127.0.0.1 and records every call:

- `POST /v3/conversations/{id}/activities` (send to conversation)
- `POST /v3/conversations/{id}/activities/{activityId}` (reply to an activity)
- `PUT /v3/conversations/{id}/activities/{activityId}` (update an activity)

`fail_next(status, retry_after=None, times=1)` makes the next calls answer an error
(429, 412, 502, 504 ...) the way the Bot Connector does. Anything else the bot calls
answers 404 and is recorded too, so a test can see it. It runs in its own thread and
event loop, so synchronous tests and any asyncio loop can use it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    headers: dict[str, str]
    status: int
    response_id: str | None = None  # the activity id the connector answered with


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    times: int


@dataclass
class FakeBotConnector:
    """Start with `start()` (or use as a context manager); `url` is the serviceUrl."""

    host: str = "127.0.0.1"
    calls: list[Call] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- control
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def fail_next(self, status: int, retry_after: float | None = None, times: int = 1) -> None:
        """Answer the next `times` activity calls with `status` (and a Retry-After header)."""
        with self._lock:
            self._failures.append(_Failure(status, retry_after, times))

    def activities(self, method: str | None = None) -> list[Call]:
        """Successful activity calls (POST and PUT), optionally of one method."""
        with self._lock:
            return [c for c in self.calls if c.status < 300 and (method is None or c.method == method)]

    def sent_to(self, conversation_id: str) -> list[Call]:
        return [c for c in self.activities() if c.conversation_id == conversation_id]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # ----------------------------------------------------------------- server
    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{activity_id}", self._activity)
        app.router.add_put("/v3/conversations/{conversation_id}/activities/{activity_id}", self._activity)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    async def _activity(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode("utf-8", "replace")
        conversation_id = request.match_info["conversation_id"]
        activity_id = request.match_info.get("activity_id")
        with self._lock:
            failure = self._failures[0] if self._failures else None
            if failure:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.pop(0)
            status = failure.status if failure else 200
            new_id = None if failure else activity_id if request.method == "PUT" else f"act-{next(self._ids)}"
            self.calls.append(
                Call(
                    request.method,
                    request.path,
                    conversation_id,
                    activity_id,
                    body,
                    dict(request.headers),
                    status,
                    new_id,
                )
            )
        if failure:
            headers = {} if failure.retry_after is None else {"Retry-After": str(int(failure.retry_after))}
            return web.json_response(
                {"error": {"code": f"HTTP{failure.status}", "message": "fake failure"}},
                status=failure.status,
                headers=headers,
            )
        return web.json_response({"id": new_id}, status=200)

    async def _unknown(self, request: web.Request) -> web.Response:
        raw = await request.read()
        with self._lock:
            self.calls.append(
                Call(
                    request.method, request.path, None, None, raw.decode("utf-8", "replace"), dict(request.headers), 404
                )
            )
        return web.json_response({"error": {"code": "NotFound", "message": request.path}}, status=404)

    def start(self) -> FakeBotConnector:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._runner = web.AppRunner(self._app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-bot-connector", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("fake Bot Connector did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FakeBotConnector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- Teams activities

BOT_ID = "28:govbot-test-bot"


def activity(
    service_url: str,
    user: str,
    *,
    text: str | None = None,
    type: str = "message",
    conversation_id: str | None = None,
    conversation_type: str = "personal",
    name: str | None = None,
    value: Any = None,
    reply_to_id: str | None = None,
    mention_bot: bool = False,
    activity_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An Activity as Teams posts it to /api/messages (the JSON wire format)."""
    body: dict[str, Any] = {
        "type": type,
        "id": activity_id or f"in-{next(_activity_ids)}",
        "timestamp": "2026-11-16T09:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": f"User {user}", "aadObjectId": f"aad-{user}"},
        "conversation": {
            "id": conversation_id or f"a:personal-{user}",
            "conversationType": conversation_type,
            "tenantId": "tenant-1",
        },
        "recipient": {"id": BOT_ID, "name": "govbot"},
        "channelData": {"tenant": {"id": "tenant-1"}},
        "locale": "en-US",
    }
    if text is not None:
        body["text"] = f"<at>govbot</at> {text}" if mention_bot else text
        if mention_bot:
            body["entities"] = [
                {"type": "mention", "text": "<at>govbot</at>", "mentioned": {"id": BOT_ID, "name": "govbot"}}
            ]
    if name is not None:
        body["name"] = name
    if value is not None:
        body["value"] = value
    if reply_to_id is not None:
        body["replyToId"] = reply_to_id
    body.update(extra)
    return body


def execute_invoke(service_url: str, user: str, verb: str, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """The `adaptiveCard/action` invoke Teams sends when someone clicks an Action.Execute."""
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    return activity(service_url, user, type="invoke", name="adaptiveCard/action", value=value, **kw)


def message_action_invoke(
    service_url: str, user: str, name: str, command_id: str, value: dict[str, Any], **kw: Any
) -> dict[str, Any]:
    """A messaging extension invoke of a message action as Teams sends it:
    `composeExtension/fetchTask` (with the message in `messagePayload`) or
    `composeExtension/submitAction` (with the task module's inputs in `data`)."""
    body = {"commandId": command_id, "commandContext": "message", "context": {"theme": "default"}, **value}
    return activity(service_url, user, type="invoke", name=name, value=body, **kw)


_activity_ids = itertools.count(1)


class ServerThread:
    """Run an aiohttp Application on 127.0.0.1 in its own thread and event loop."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1"):
        self.app = app
        self.host = host
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        started = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            asyncio.set_event_loop(loop)
            runner = web.AppRunner(self.app, access_log=None)
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self.host, 0)
                loop.run_until_complete(site.start())
                self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            except BaseException as exc:  # report start-up errors to the test
                errors.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="govbot-test-server", daemon=True)
        self._thread.start()
        started.wait(10)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self.loop and self._thread:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- TestAdapter driver


class TeamsTurns:
    """Drive a bot through botbuilder's TestAdapter, one turn at a time, as any user.

    `say` sends typed text and returns the cards the bot answered with; `click` sends
    an `adaptiveCard/action` invoke and returns the InvokeResponse body; `submit` sends
    the Action.Submit fallback (a message whose value carries the verb).
    """

    def __init__(self, bot: Any):
        from botbuilder.core.adapters import TestAdapter

        self.bot = bot
        self.adapter = TestAdapter(bot.on_turn)

    def _run(self, **fields: Any) -> list[Any]:
        from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

        user = fields.pop("user")
        conversation = fields.pop("conversation", None) or ConversationAccount(
            id=f"a:personal-{user}", conversation_type="personal", tenant_id="tenant-1"
        )
        self.adapter.activity_buffer.clear()
        self.adapter.updated_activities.clear()
        activity = Activity(
            from_property=ChannelAccount(id=user, name=f"User {user}"),
            recipient=ChannelAccount(id=BOT_ID, name="govbot"),
            conversation=conversation,
            channel_id="msteams",
            service_url="https://smba.invalid/",
            **fields,
        )
        asyncio.run(self.adapter.receive_activity(activity))
        return list(self.adapter.activity_buffer)

    @staticmethod
    def cards_of(activities: list[Any]) -> list[dict[str, Any]]:
        """The cards the bot sent, each validated against the Adaptive Card 1.5 schema."""
        return [
            validate_card(a["content"] if isinstance(a, dict) else a.content)
            for act in activities
            if act.type == "message"
            for a in (act.attachments or ())
        ]

    def say(self, user: str, text: str, **fields: Any) -> list[dict[str, Any]]:
        return self.cards_of(self._run(user=user, type="message", text=text, **fields))

    def click(self, user: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        replies = self._run(
            user=user,
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
        )
        responses = [a.value for a in replies if a.type == "invokeResponse"]
        assert len(responses) == 1, replies
        assert responses[0].status == 200, responses[0].body
        body = responses[0].body
        assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive", body
        return validate_card(body["value"])

    def submit(
        self, user: str, verb: str, data: dict[str, Any], reply_to_id: str | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Action.Submit fallback: returns (cards posted, cards updated in place)."""
        posted = self.cards_of(
            self._run(user=user, type="message", value={"verb": verb, **data}, reply_to_id=reply_to_id)
        )
        updated = self.cards_of(list(self.adapter.updated_activities))
        return posted, updated


# --------------------------------------------------------------------------- card inspection

_SCHEMA_PATH = Path(__file__).parents[1] / "fixtures" / "adaptive-card-1.5.json"
_validator: Any = None


def validate_card(card: dict[str, Any]) -> dict[str, Any]:
    """Fail unless `card` validates against the Adaptive Card 1.5 schema (Draft 6)."""
    global _validator
    if _validator is None:
        from jsonschema import Draft6Validator

        _validator = Draft6Validator(json.loads(_SCHEMA_PATH.read_text(encoding="utf-8")))
    errors = sorted(_validator.iter_errors(card), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])
    assert card.get("version") == "1.5"
    return card


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def card_inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Inputs of the card body by id."""
    return {
        n["id"]: n for n in _walk(card.get("body", [])) if str(n.get("type", "")).startswith("Input.") and "id" in n
    }


def card_text(card: dict[str, Any]) -> str:
    """All TextBlock texts and facts, one per line."""
    lines = []
    for node in _walk(card.get("body", [])):
        if node.get("type") == "TextBlock":
            lines.append(node["text"])
        elif node.get("type") == "FactSet":
            lines.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
    return "\n".join(lines)


def card_verbs(card: dict[str, Any]) -> list[str]:
    return [a.get("verb") for a in card.get("actions", []) if a.get("type") == "Action.Execute"]


def card_action(card: dict[str, Any], verb: str) -> dict[str, Any]:
    return next(a for a in card.get("actions", []) if a.get("verb") == verb)


# --------------------------------------------------------------------------- no internet

_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost", None}


def forbid_internet(monkeypatch: Any) -> list[Any]:
    """Refuse every connection and name lookup that is not loopback (e.g. a token fetch
    from login.microsoftonline.com); returns the list of attempts for the test to check."""
    import socket

    attempts: list[Any] = []
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def local(address: Any) -> bool:
        return not isinstance(address, tuple) or address[0] in _LOCAL_HOSTS

    def connect(self: socket.socket, address: Any) -> Any:
        if not local(address):
            attempts.append(address)
            raise OSError(f"the tests forbid network access to {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if not local(address):
            attempts.append(address)
            raise OSError(f"the tests forbid network access to {address!r}")
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in _LOCAL_HOSTS:
            attempts.append(name)
            raise socket.gaierror(f"the tests forbid name lookups of {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts
