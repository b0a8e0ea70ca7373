"""What every channel shares: the server's typed keys, the start-up error, the bounded
lane in which (synchronous) core calls run off the event loop, and how a core error
is told to the person who acted."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from aiohttp import web

from bot.domain.errors import NotFound, Refused, UsageError

# Typed application keys (aiohttp.web.AppKey) for what the server shares.
CORE_KEY: web.AppKey[Any] = web.AppKey("govbot.core", object)
SENDERS_KEY: web.AppKey[dict[str, Any]] = web.AppKey("govbot.senders", dict)
SLACK_KEY: web.AppKey[Any] = web.AppKey("govbot.slack", object)

CORE_CALLS = 2  # core calls running at once per process, whichever channel makes them
EXPECTED = (Refused, UsageError, NotFound)  # errors the core phrases for the person who acted; nothing to log

P = ParamSpec("P")
T = TypeVar("T")

_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


class StartupError(Exception):
    """`govbot serve` cannot start; the message names what to set or fix."""


async def core_call(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a (synchronous) core call in a worker thread, at most CORE_CALLS at a time
    per event loop (Slack and Teams share it): core work holds the GIL, and more
    threads running it starve the event loop that acks new requests (measured in
    bench/: ack p99 under 50 concurrent clicks)."""
    loop = asyncio.get_running_loop()
    lane = _lanes.get(loop)
    if lane is None:
        lane = _lanes[loop] = asyncio.Semaphore(CORE_CALLS)
    async with lane:
        return await asyncio.to_thread(fn, *args, **kwargs)


def error_text(exc: BaseException, what: str = "that") -> str:
    """What to tell the person who acted when a core call raised `exc`: the core's own
    words for a refusal or a usage error, else that `what` failed and nothing was lost
    (the caller logs the traceback)."""
    if isinstance(exc, (Refused, UsageError)):
        return exc.message
    if isinstance(exc, NotFound):
        return f"Not found: {exc}"
    return f"Sorry, {what} failed on our side ({type(exc).__name__}). Nothing was lost; please try again."
