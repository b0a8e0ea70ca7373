"""What every channel shares: the server's typed keys, the start-up error, the bounded
lanes in which (synchronous) core calls run off the event loop, and how a core error
is told to the person who acted.

Lanes: quick commands (`mine`, `status`, decisions) never wait behind slow work. LLM
work (drafting or regenerating the digest) and heavy reads (portfolio, export, audit
pack) each have their own bounded lane with its own worker threads; the facade says
which lane a call needs (`Govbot.lane_for`), so every channel gets it from `core_call`.
Recording an approval click before it is acknowledged (`Govbot.receive_action`) has
a lane of its own too, so an ack never waits behind the decisions of earlier clicks
(on SQLite, `record_first` also holds other calls back while a record is written).
LLM work also has a total time limit (LLM_LIMIT_S): past it the person is told and the
lane slot stays taken until the late call ends, so a slow model cannot pile work up.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar, cast

from aiohttp import web

from bot.domain.errors import NotFound, Refused, UsageError

# Typed application keys (aiohttp.web.AppKey) for what the server shares.
CORE_KEY: web.AppKey[Any] = web.AppKey("govbot.core", object)
SENDERS_KEY: web.AppKey[dict[str, Any]] = web.AppKey("govbot.senders", dict)
SLACK_KEY: web.AppKey[Any] = web.AppKey("govbot.slack", object)

Lane = Literal["quick", "heavy", "llm", "record"]
LANES: dict[str, int] = {"quick": 2, "heavy": 1, "llm": 2, "record": 1}  # calls running at once per lane and event loop
CORE_CALLS = LANES["quick"]  # quick core calls running at once per process, whichever channel makes them
LLM_LIMIT_S = 90.0  # total time an LLM call may take, waiting for its lane included

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class _Lane:
    slots: asyncio.Semaphore
    pool: ThreadPoolExecutor


_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Lane]] = weakref.WeakKeyDictionary()


class _RecordsFirst:
    """While a click is being recorded by `record_first` (its ack waits on it), no other
    core call starts."""

    def __init__(self) -> None:
        self.pending = 0
        self.idle = asyncio.Event()
        self.idle.set()


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _RecordsFirst] = weakref.WeakKeyDictionary()


class StartupError(Exception):
    """`govbot serve` cannot start; the message names what to set or fix."""


class LaneTimeout(Exception):
    """A call ran past its lane's total time limit; the message is for the person who asked."""

    def __init__(self, what: str, limit_s: float):
        self.message = (
            f"Sorry, {what} took longer than {limit_s:g} s (the language model is slow right now), so I "
            "stopped waiting. Nothing else was held up; please try again in a few minutes."
        )
        super().__init__(self.message)


# errors phrased for the person who acted (by the core, or the time limit); no traceback to log
EXPECTED = (Refused, UsageError, NotFound, LaneTimeout)


def lane_of(fn: Callable[..., Any], args: tuple[Any, ...]) -> Lane:
    """The lane a call needs: the facade's answer for its own methods, else quick."""
    owner = getattr(fn, "__self__", None)
    ask = getattr(owner, "lane_for", None)
    if callable(ask):
        lane = ask(getattr(fn, "__name__", ""), args)
        if lane in LANES:
            return cast(Lane, lane)
    return "quick"


async def core_call(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a (synchronous) core call in a worker thread of the lane it needs
    (`lane_of`): at most LANES[lane] at a time per event loop (Slack and Teams share
    them). Quick work holds the GIL, and more threads running it starve the event loop
    that acks new requests (measured in bench/: ack p99 under 50 concurrent clicks);
    slow work waits in its own lane, never in front of a quick command. LLM work ends
    with LaneTimeout after LLM_LIMIT_S."""
    return await in_lane(lane_of(fn, args), fn, *args, **kwargs)


async def in_lane(lane: Lane, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`core_call` in a lane the caller names (e.g. a chart drawn for a heavy read)."""
    loop = asyncio.get_running_loop()
    lanes = _lanes.get(loop)
    if lanes is None:
        lanes = _lanes[loop] = {
            name: _Lane(asyncio.Semaphore(n), ThreadPoolExecutor(n, thread_name_prefix=f"govbot-{name}"))
            for name, n in LANES.items()
        }
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = _RecordsFirst()
    if lane != "record":
        await gate.idle.wait()
    run = _run(lanes[lane], functools.partial(fn, *args, **kwargs))
    if lane != "llm":
        return await run
    try:
        return await asyncio.wait_for(run, LLM_LIMIT_S)
    except TimeoutError:
        raise LaneTimeout(_what(fn), LLM_LIMIT_S) from None


async def record_first(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`in_lane("record", ...)`, and no other core call starts until it is done: for a
    database with one writer at a time (SQLite), where the record an ack waits on would
    otherwise keep losing the write lock to the decisions of earlier clicks."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = _RecordsFirst()
    gate.pending += 1
    gate.idle.clear()
    try:
        return await in_lane("record", fn, *args, **kwargs)
    finally:
        gate.pending -= 1
        if gate.pending == 0:
            gate.idle.set()


async def _run(lane: _Lane, call: Callable[[], T]) -> T:
    """One call in `lane`; its slot is held until the worker thread is done, even when
    the waiting caller gave up (time limit, cancelled request)."""
    await lane.slots.acquire()
    try:
        context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(lane.pool, context.run, call)
    except BaseException:
        lane.slots.release()
        raise

    def done(f: asyncio.Future[T]) -> None:
        lane.slots.release()
        if not f.cancelled():
            f.exception()  # retrieved: a late failure nobody waits for is not reported twice

    future.add_done_callback(done)
    return await asyncio.shield(future)


def _what(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", "")
    return "regenerating the digest" if name == "regenerate_digest" else "drafting the digest"


def error_text(exc: BaseException, what: str = "that") -> str:
    """What to tell the person who acted when a core call raised `exc`: the core's own
    words for a refusal or a usage error, else that `what` failed and nothing was lost
    (the caller logs the traceback)."""
    if isinstance(exc, (Refused, UsageError, LaneTimeout)):
        return exc.message
    if isinstance(exc, NotFound):
        return f"Not found: {exc}"
    return f"Sorry, {what} failed on our side ({type(exc).__name__}). Nothing was lost; please try again."
