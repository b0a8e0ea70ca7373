"""The Bolt app: client construction, request intake and the work tracker.

`SlackFrontEnd` owns the AsyncApp and what every listener shares: the core, the
settings, a bounded memory of requests already taken (so Slack's retries do not redo
work) and a count of listener work still running after its ack (tests wait for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.service.core import Govbot
from handlers.base import EXPECTED, core_call, error_text
from handlers.guard import Malformed, load_json, timestamp_ok
from handlers.inbound import desk_for
from handlers.slack.names import SlackNames, people_in

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger(__name__)

SEEN_MAX = 5000
SEEN_TTL_S = 3600.0


def make_client(settings: Any, *, rate_limit_retries: bool = True) -> AsyncWebClient:
    """An AsyncWebClient with slack_sdk's retry handlers; SLACK_API_URL overrides the base URL."""
    handlers: list[Any] = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]
    if rate_limit_retries:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    kwargs: dict[str, Any] = {
        "token": settings.slack_bot_token.get_secret_value(),
        "retry_handlers": handlers,
        "timeout": 15,
    }
    if settings.slack_api_url:
        base = settings.slack_api_url
        kwargs["base_url"] = base if base.endswith("/") else base + "/"
    return AsyncWebClient(**kwargs)


class SlackFrontEnd:
    """Everything the Slack listeners share; `bolt` is the slack_bolt AsyncApp."""

    def __init__(self, core: Govbot, settings: Any, client: AsyncWebClient):
        self.core = core
        self.settings = settings
        self.client = client
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        self.verifier = SignatureVerifier(secret) if secret else None
        self.bolt = AsyncApp(
            client=client,
            signing_secret=secret or None,
            request_verification_enabled=bool(secret),
            logger=logging.getLogger("handlers.slack.bolt"),
            name="govbot",
        )
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.names = SlackNames(core, client)
        self.desk = desk_for(core)  # records approval clicks before they are acknowledged
        self.bolt.middleware(self._skip_repeats)
        self.bolt.middleware(self._learn_names)

    # ------------------------------------------------------------------ HTTP intake
    async def handle_http(self, request: web.Request) -> web.Response:
        """`POST /slack/events`: verify the signature, reject malformed bodies, then
        hand the request to Bolt. Nothing reaches a listener unless signed and parseable."""
        raw = await request.read()
        if self.verifier is not None and not timestamp_ok(request.headers.get("X-Slack-Request-Timestamp")):
            logger.warning("slack request refused: X-Slack-Request-Timestamp is missing or not a number")
            return web.json_response({"error": "invalid signature or timestamp"}, status=401)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning("slack request refused: body is not UTF-8")
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        if self.verifier is not None and not self.verifier.is_valid_request(body, dict(request.headers)):
            logger.warning("slack request refused: bad or stale signature")
            return web.json_response({"error": "invalid signature or timestamp"}, status=401)
        problem = malformed(body, request.headers.get("Content-Type", ""))
        if problem:
            logger.warning("slack request refused: %s", problem)
            return web.json_response({"error": problem}, status=400)
        bolt_resp: BoltResponse = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_resp)

    async def _skip_repeats(self, body: dict[str, Any], next_: Callable[[], Awaitable[Any]], request: Any) -> Any:
        """Slack retries (X-Slack-Retry-Num) and repeated deliveries of one request
        are acknowledged without running the listener again."""
        key = request_key(body)
        retry = (request.headers.get("x-slack-retry-num") or [None])[0]
        if key is not None:
            now = time.monotonic()
            seen_at = self._seen.get(key)
            if seen_at is not None and now - seen_at < SEEN_TTL_S:
                logger.info("slack request %s seen before (retry %s); acknowledged without repeating", key, retry)
                return BoltResponse(status=200, body="")
            self._seen[key] = now
            while len(self._seen) > SEEN_MAX:
                self._seen.popitem(last=False)
        return await next_()

    async def _learn_names(self, body: dict[str, Any], next_: Callable[[], Awaitable[Any]]) -> Any:
        """Look up the display names of the people a request names, in the background."""
        try:
            self.names.soon(people_in(body))
        except Exception:  # never in the way of the request
            logger.exception("slack: could not schedule the name look-up")
        return await next_()

    # ------------------------------------------------------------------ work after ack
    @contextlib.asynccontextmanager
    async def work(self, what: str, report: Callable[[str], Awaitable[Any]], ack: Any = None) -> AsyncIterator[None]:
        """Run listener work; on failure log it and tell the user through `report`.
        If the failure came before the listener acked, ack now so Slack is not kept waiting."""
        self._inflight += 1
        self._idle.clear()
        try:
            try:
                yield
            except Exception:
                if ack is not None and getattr(ack, "response", None) is None:
                    with contextlib.suppress(Exception):
                        await ack()
                raise
        except Exception as exc:  # report, never swallow silently
            if isinstance(exc, EXPECTED):  # phrased by the core for the person who acted
                logger.info("slack: %s: %s", what, type(exc).__name__)
            else:
                logger.exception("slack: %s failed", what)
            with contextlib.suppress(Exception):
                await report(error_text(exc, what))
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    def busy(self) -> bool:
        """True while listener work (before or after its ack) is running (the drain waits)."""
        return self._inflight > 0

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until no listener work (and no name look-up) is running (tests)."""
        await asyncio.wait_for(self._idle.wait(), timeout)
        await self.names.settled(timeout)

    async def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a (synchronous) core call off the event loop, in the lane every channel
        shares (`handlers.base.core_call`)."""
        return await core_call(fn, *args, **kwargs)

    def reporter(self, body: dict[str, Any], respond: Any = None) -> Callable[[str], Awaitable[Any]]:
        """How to tell the acting user something privately: the response_url when the
        payload has one, else an ephemeral message in the channel, else a DM."""
        user = user_of(body)

        async def report(text: str) -> None:
            if respond is not None and (body.get("response_url") or body.get("response_urls")):
                await respond(text=text, response_type="ephemeral", replace_original=False)
                return
            channel = (
                (body.get("channel") or {}).get("id")
                if isinstance(body.get("channel"), dict)
                else body.get("channel_id")
            )
            if channel and not str(channel).startswith("D"):
                await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
            else:
                await self.client.chat_postMessage(channel=user, text=text)

        return report


def user_of(body: dict[str, Any]) -> str:
    """The acting user's id in a command, interaction or event payload."""
    if isinstance(body.get("user"), dict):
        return str(body["user"]["id"])
    if body.get("user_id"):
        return str(body["user_id"])
    event = body.get("event") or {}
    return str(event.get("user", ""))


def request_key(body: dict[str, Any]) -> str | None:
    """What identifies one user action across Slack's retries."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    return None


def malformed(body: str, content_type: str) -> str | None:
    """Why a signed body cannot be a Slack request (None when it looks fine)."""
    if "application/json" in content_type:
        try:
            data = load_json(body)
        except Malformed as exc:
            return str(exc)
        return None if isinstance(data, dict) and "type" in data else "JSON body has no 'type'"
    try:
        form = parse_qs(body, keep_blank_values=True, strict_parsing=bool(body))
    except ValueError:
        return "body is not form-encoded"
    if "payload" in form:
        try:
            payload = load_json(form["payload"][0], "payload")
        except Malformed as exc:
            return str(exc)
        if not isinstance(payload, dict) or "type" not in payload:
            return "payload has no 'type'"
        return None
    if "command" in form:
        return None if form.get("user_id") else "command without user_id"
    if "ssl_check" in form:
        return None
    return "not a Slack command, interaction or event"
