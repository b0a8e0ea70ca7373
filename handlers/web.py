"""The one HTTP server of `govbot serve`: Slack, Teams, /healthz and /readyz on aiohttp.

Either platform may be configured alone. Background tasks deliver the outbox, run
the scheduled jobs and resume acknowledged actions left unfinished (`handlers.inbound`).
On SIGTERM (or SIGINT) the server stops accepting (new requests get 503), lets the work
in flight finish for at most DRAIN_S seconds, then exits; what a drain (or a SIGKILL)
leaves unfinished is resumed by the next server to start. `preflight` runs before anything else is done: it checks that each
configured channel has its variables, takes the port, and asks Slack whether the token
is good (`auth.test`), so a bad setup fails at start-up, not on the first command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket as sockets
import time
from typing import Any

from aiohttp import web

from handlers.base import CORE_KEY, SENDERS_KEY, SLACK_KEY, StartupError
from handlers.inbound import RESUME_INTERVAL_S, desk_for

logger = logging.getLogger(__name__)

OUTBOX_INTERVAL_S = 2.0
DRAIN_S = 20.0  # on SIGTERM, how long work in flight may take to finish
STOP_TASKS_S = 2.0  # then how long the background loops may take to end their round
READY_TIMEOUT_S = 5.0
LOCAL_HOST = "127.0.0.1"


class Gate:
    """Open until the server stops: then new requests get 503. Counts requests in flight."""

    def __init__(self) -> None:
        self.closed = False
        self.active = 0


GATE_KEY: web.AppKey[Gate] = web.AppKey("govbot.gate", Gate)


@web.middleware
async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
    """Refuse new work with 503 once the server is stopping (liveness still answers)."""
    state = request.app[GATE_KEY]
    if state.closed and request.path != "/healthz":
        return web.json_response(
            {"error": "govbot is shutting down; try again shortly"}, status=503, headers={"Retry-After": "5"}
        )
    state.active += 1
    try:
        response: web.StreamResponse = await handler(request)
        return response
    finally:
        state.active -= 1


async def drain(app: web.Application, timeout: float) -> bool:
    """Close the gate, then wait (at most `timeout` s) until no request, Slack listener
    work or acknowledged action is in flight; False when time ran out (what is left is
    resumed by the next server to start)."""
    state = app[GATE_KEY]
    state.closed = True
    desk = desk_for(app[CORE_KEY])
    slack = app.get(SLACK_KEY)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        busy = state.active > 0 or desk.busy() or (slack is not None and slack.busy())
        if not busy:
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.05)


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process answers. Nothing else is checked (see /readyz)."""
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers a read within READY_TIMEOUT_S, and which
    channels this instance serves. 503 while the database does not answer."""
    core = request.app[CORE_KEY]
    database: dict[str, Any] = {"ok": True}
    began = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.to_thread(core.check_database), READY_TIMEOUT_S)
        database["latency_ms"] = round((time.perf_counter() - began) * 1000, 1)
    except Exception as exc:  # reported, never raised: readiness is an answer, not a crash
        logger.warning("readyz: the database did not answer (%s)", type(exc).__name__)
        database = {"ok": False, "error": type(exc).__name__}
    senders = request.app[SENDERS_KEY]
    channels = {name: {"ok": True} for name in sorted(senders)}
    body = {"ok": database["ok"], "database": database, "channels": channels}
    return web.json_response(body, status=200 if database["ok"] else 503)


def bind_host(settings: Any, host: str | None) -> str:
    """Where `govbot serve` listens: `--host` when given; else 127.0.0.1 with
    GOVBOT_ENV=local (a development machine, maybe running Teams unauthenticated),
    else every interface."""
    if host:
        return host
    return LOCAL_HOST if settings.govbot_env == "local" else "0.0.0.0"


def _slack_wanted(settings: Any, socket: bool) -> bool:
    return bool(socket or settings.slack_bot_token or settings.slack_signing_secret or settings.slack_app_token)


def _teams_wanted(settings: Any) -> bool:
    return bool(settings.microsoft_app_id or settings.teams_enabled)


def build_web_app(core: Any, settings: Any, *, socket: bool = False) -> web.Application:
    """Mount the configured platforms. `handlers.slack.setup.mount` and
    `handlers.teams.setup.mount` add their routes and return their outbox Sender."""
    app = web.Application(client_max_size=1024 * 1024, middlewares=[gate])
    app[GATE_KEY] = Gate()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    senders: dict[str, Any] = {}
    if _slack_wanted(settings, socket):
        from handlers.slack.setup import mount as mount_slack

        sender = mount_slack(app, core, settings, socket=socket)
        senders[sender.channel] = sender
    if _teams_wanted(settings):
        from handlers.teams.setup import mount as mount_teams

        sender = mount_teams(app, core, settings)
        if sender is not None:
            senders[getattr(sender, "channel", "teams")] = sender
    app[CORE_KEY] = core
    app[SENDERS_KEY] = senders
    return app


def check_startup(settings: Any, socket: bool) -> None:
    """Raise StartupError naming every missing variable."""
    if socket:
        from handlers.slack.setup import missing_settings

        missing = missing_settings(settings, socket=True)
        if missing:
            raise StartupError(f"--socket needs {', '.join(missing)} (Slack Socket Mode)")
        return
    if not _slack_wanted(settings, socket) and not _teams_wanted(settings):
        raise StartupError(
            "nothing to serve: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for Slack, "
            "or MicrosoftAppId (or GOVBOT_TEAMS=1 with GOVBOT_ENV=local) for Teams"
        )
    if _slack_wanted(settings, socket):
        from handlers.slack.setup import missing_settings

        missing = missing_settings(settings)
        if missing:
            raise StartupError(f"Slack is not configured: set {', '.join(missing)}")


def bind_port(host: str, port: int) -> sockets.socket:
    """Take `host:port` for the server now, so a port in use fails before anything runs
    (StartupError naming --port)."""
    try:
        family = sockets.getaddrinfo(host, port, type=sockets.SOCK_STREAM)[0][0]
        return sockets.create_server((host, port), family=family)
    except sockets.gaierror:
        raise StartupError(
            f"--host: {host!r} is not an address of this machine; use e.g. 0.0.0.0 or 127.0.0.1"
        ) from None
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise StartupError(
            f"--port: cannot listen on {host}:{port} ({reason}); choose a free port with --port"
        ) from None


def preflight(settings: Any, host: str, port: int, socket: bool = False) -> sockets.socket:
    """Everything `govbot serve` checks before it opens the database: each configured
    channel has its variables (Teams: a safe setup), the port is free (it stays taken
    for the server), Slack accepts the token. Returns the listening socket; raises
    StartupError naming what to fix."""
    check_startup(settings, socket)
    if _teams_wanted(settings) and (settings.microsoft_app_id or settings.govbot_env != "local"):
        from handlers.teams.adapter import bot_config

        bot_config(settings)  # local mode without an app id cannot fail; mounting says so once
    listener = bind_port(host, port)
    try:
        if _slack_wanted(settings, socket):
            from handlers.slack.setup import verify_token

            asyncio.run(verify_token(settings))
    except BaseException:
        listener.close()
        raise
    return listener


def channels_on(app: web.Application, socket: bool) -> str:
    """The channels a server runs, for its start-up line: e.g. "slack (Socket Mode), teams"."""
    names = sorted(app[SENDERS_KEY].keys())
    return ", ".join(f"{n} (Socket Mode)" if n == "slack" and socket else n for n in names) or "none"


async def start_background(app: web.Application, core: Any, settings: Any, stop: asyncio.Event) -> list[asyncio.Task]:
    """Start outbox delivery, the job scheduler and the worker that resumes unfinished
    acknowledged actions (at once, then every RESUME_INTERVAL_S); return their tasks."""
    senders: dict[str, Any] = app[SENDERS_KEY]
    return [
        asyncio.create_task(core.run_outbox_loop(senders, OUTBOX_INTERVAL_S, stop), name="govbot-outbox"),
        asyncio.create_task(core.run_jobs_loop(settings.jobs_interval_s, stop), name="govbot-jobs"),
        asyncio.create_task(desk_for(core).run(RESUME_INTERVAL_S, stop), name="govbot-actions"),
    ]


async def run_server(
    core: Any,
    settings: Any,
    host: str,
    port: int,
    socket: bool = False,
    stop: asyncio.Event | None = None,
    started: Any = None,
    listener: sockets.socket | None = None,
) -> None:
    """Serve until `stop` is set (or SIGINT/SIGTERM). `started(port)` is called once
    listening. `listener` is a socket `preflight` already bound (else `host:port` is
    bound here)."""
    check_startup(settings, socket)
    if listener is None:
        listener = bind_port(host, port)
    stop = stop or asyncio.Event()
    app = build_web_app(core, settings, socket=socket)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.SockSite(runner, listener)
    await site.start()
    bound = listener.getsockname()[1]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    socket_handler = None
    tasks = await start_background(app, core, settings, stop)
    try:
        if socket:
            from handlers.slack.setup import connect_socket_mode

            socket_handler = await connect_socket_mode(app[SLACK_KEY], settings)
        logger.info("govbot listening on http://%s:%s; channels: %s", host, bound, channels_on(app, socket))
        if started is not None:
            started(bound)
        await stop.wait()
    finally:
        stop.set()
        logger.info("govbot stopping: new requests get 503; finishing the work in flight (at most %g s)", DRAIN_S)
        if await drain(app, DRAIN_S):
            logger.info("govbot: the work in flight is finished")
        else:
            logger.warning("govbot: work still in flight after %g s; the next server to start resumes it", DRAIN_S)
        if socket_handler is not None:
            with contextlib.suppress(Exception):
                await socket_handler.close_async()
        await asyncio.wait(tasks, timeout=STOP_TASKS_S)  # the loops end their round (stop is set)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()


def serve(
    core: Any,
    settings: Any,
    host: str = "0.0.0.0",
    port: int = 3000,
    socket: bool = False,
    listener: sockets.socket | None = None,
) -> None:
    """`govbot serve`: run the HTTP server (and Socket Mode with --socket) until interrupted."""
    check_startup(settings, socket)
    asyncio.run(run_server(core, settings, host, port, socket, listener=listener))
