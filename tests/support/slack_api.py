"""A local fake of the Slack Web API that the real `slack_sdk` client talks to.

It listens on 127.0.0.1, records every call (method, arguments, token) and answers
the methods govbot uses the way Slack does. Bodies may be JSON or form-encoded; form
fields holding JSON (`blocks`, `view`) are decoded when recorded. It also accepts the
`response_url` posts Bolt's `respond()` makes (`POST /response/{id}`).

Failures can be scripted: `fail_next("chat.postMessage", status=429, retry_after=1)`
makes the next call answer HTTP 429 with a Retry-After header; `status=500` answers a
server error; `error="channel_not_found"` answers HTTP 200 with ok=false.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

JSON_FIELDS = ("blocks", "view", "attachments", "metadata", "files")


@dataclass
class Call:
    method: str  # e.g. "chat.postMessage", or "response_url" for respond() posts
    args: dict[str, Any]
    token: str | None
    content_type: str
    path: str = ""
    status: int = 200  # HTTP status answered
    ok: bool = True  # the answer's "ok"
    response: dict[str, Any] = field(default_factory=dict)  # what the fake answered


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    error: str | None


@dataclass
class FakeSlackAPI:
    """Start with `await fake.start()`; `fake.api_url` is the SLACK_API_URL to use."""

    token: str = "xoxb-test-token"
    app_token: str = "xapp-test-token"  # Socket Mode: apps.connections.open
    bot_user_id: str = "UBOT"
    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # users.info answers by id
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> bytes (files.upload v2)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _views: Any = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> FakeSlackAPI:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/upload/{fid}", self._upload)
        self.envelopes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_connected = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._changed = asyncio.Event()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, rid: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{rid}"

    # ------------------------------------------------------------------ scripting
    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        retry_after: float | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail (HTTP status, or ok=false with `error`)."""
        for _ in range(times):
            self._failures.setdefault(method, []).append(_Failure(status, retry_after, error))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until `method` was answered successfully `count` times; return those calls."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.calls_to(method)) < count:
            if loop.time() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} call(s) to {method}; saw {seen}")
            assert self._changed is not None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=max(0.01, deadline - loop.time()))
        return self.calls_to(method)

    # ------------------------------------------------------------------ handlers
    async def _parse(self, request: web.Request) -> tuple[dict[str, Any], str]:
        raw = await request.text()
        ctype = request.headers.get("Content-Type", "")
        args: dict[str, Any] = dict(request.query)
        if "json" in ctype:
            args.update(json.loads(raw) if raw else {})
        elif raw:
            args.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in JSON_FIELDS:
            if isinstance(args.get(key), str):
                # left as sent when it is not JSON; validation in the tests flags it
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args, ctype

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if self._changed is not None:
            self._changed.set()

    async def _response_url(self, request: web.Request) -> web.Response:
        args, ctype = await self._parse(request)
        self._record(Call("response_url", args, None, ctype, path=request.path))
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, ctype = await self._parse(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            if failure.status != 200:
                self._record(Call(method, args, token, ctype, request.path, status=failure.status, ok=False))
                headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after is not None else {}
                body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "fatal_error"}
                return web.json_response(body, status=failure.status, headers=headers)
            self._record(Call(method, args, token, ctype, request.path, ok=False))
            return web.json_response({"ok": False, "error": failure.error})
        expected = self.app_token if method == "apps.connections.open" else self.token
        if token != expected:
            self._record(Call(method, args, token, ctype, request.path, ok=False))
            return web.json_response({"ok": False, "error": "invalid_auth"})
        answer = getattr(self, "_m_" + method.replace(".", "_"), None)
        body = answer(args) if answer is not None else {"ok": False, "error": "unknown_method"}
        self._record(Call(method, args, token, ctype, request.path, ok=bool(body.get("ok")), response=body))
        return web.json_response(body)

    # ------------------------------------------------------------------ files (upload v2)
    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        fid = f"F{next(self._views):04d}"
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{fid}", "file_id": fid}

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.uploads[request.match_info["fid"]] = data
        self._record(
            Call(
                "upload",
                {"file_id": request.match_info["fid"], "length": len(data)},
                None,
                request.headers.get("Content-Type", ""),
                request.path,
            )
        )
        return web.Response(text=f"OK - {len(data)}")

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not all(f.get("id") in self.uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        return {
            "ok": True,
            "files": [{"id": f["id"], "title": f.get("title"), "channels": [args.get("channel_id")]} for f in files],
        }

    # ------------------------------------------------------------------ Socket Mode
    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Deliver a Socket Mode envelope (`slash_commands`, `interactive`, `events_api`)."""
        await self.envelopes.put(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
            }
        )

    async def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for ack in self.socket_acks:
                if ack.get("envelope_id") == envelope_id:
                    return ack
            await asyncio.sleep(0.02)
        raise AssertionError(f"no Socket Mode ack for {envelope_id}; acks: {self.socket_acks}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}, "debug_info": {"host": "fake"}}
        )
        self.socket_connected.set()

        async def pump() -> None:
            while not ws.closed:
                envelope = await self.envelopes.get()
                await ws.send_json(envelope)

        sender = asyncio.create_task(pump())
        try:
            async for msg in ws:
                if msg.type == web.WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
                    if self._changed is not None:
                        self._changed.set()
        finally:
            sender.cancel()
        return ws

    # ------------------------------------------------------------------ methods
    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    @staticmethod
    def _dm(channel: str) -> str:
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "govbot",
            "team_id": "T1",
            "user_id": self.bot_user_id,
            "bot_id": "B1",
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        return {
            "ok": True,
            "channel": self._dm(args["channel"]),
            "ts": ts,
            "message": {"text": args.get("text", ""), "ts": ts, "user": self.bot_user_id},
        }

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel") or not args.get("user"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        vid = args.get("view_id") or f"V{next(self._views):04d}"
        return {"ok": True, "view": {**view, "id": vid, "hash": f"h{vid}", "team_id": "T1"}}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), str(args.get("message_ts") or "")
        if not channel or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._view(args)

    _m_views_push = _m_views_open

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("view_id") and not args.get("external_id"):
            return {"ok": False, "error": "not_found"}
        return self._view(args)

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view(args)

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", "")).split(",")
        if not users or not users[0]:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": self._dm(users[0])}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        uid = args.get("user", "")
        user = self.users.get(uid, {"id": uid, "name": uid.lower(), "real_name": uid, "tz": "UTC"})
        return {"ok": True, "user": user}
