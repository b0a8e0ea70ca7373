"""The one HTTP server of `govbot serve`: Slack, Teams and /healthz on aiohttp.

Either platform may be configured alone. Background tasks deliver the outbox and run
the scheduled jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiohttp import web

from handlers.base import CORE_KEY, SENDERS_KEY, SLACK_KEY, StartupError

logger = logging.getLogger(__name__)

OUTBOX_INTERVAL_S = 2.0


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def _slack_wanted(settings: Any, socket: bool) -> bool:
    return bool(socket or settings.slack_bot_token or settings.slack_signing_secret or settings.slack_app_token)


def _teams_wanted(settings: Any) -> bool:
    return bool(settings.microsoft_app_id or settings.teams_enabled)


def build_web_app(core: Any, settings: Any, *, socket: bool = False) -> web.Application:
    """Mount the configured platforms. `handlers.slack.setup.mount` and
    `handlers.teams.setup.mount` add their routes and return their outbox Sender."""
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
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


async def start_background(app: web.Application, core: Any, settings: Any, stop: asyncio.Event) -> list[asyncio.Task]:
    """Start outbox delivery and the job scheduler; return their tasks."""
    senders: dict[str, Any] = app[SENDERS_KEY]
    return [
        asyncio.create_task(core.run_outbox_loop(senders, OUTBOX_INTERVAL_S, stop), name="govbot-outbox"),
        asyncio.create_task(core.run_jobs_loop(settings.jobs_interval_s, stop), name="govbot-jobs"),
    ]


async def run_server(
    core: Any,
    settings: Any,
    host: str,
    port: int,
    socket: bool = False,
    stop: asyncio.Event | None = None,
    started: Any = None,
) -> None:
    """Serve until `stop` is set (or SIGINT/SIGTERM). `started(port)` is called once listening."""
    check_startup(settings, socket)
    stop = stop or asyncio.Event()
    app = build_web_app(core, settings, socket=socket)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server: Any = site._server
    bound = server.sockets[0].getsockname()[1] if server is not None and server.sockets else port
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    socket_handler = None
    tasks = await start_background(app, core, settings, stop)
    try:
        if socket:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            socket_handler = AsyncSocketModeHandler(app[SLACK_KEY].bolt, settings.slack_app_token.get_secret_value())
            await socket_handler.connect_async()
            logger.info("slack: connected in Socket Mode")
        logger.info(
            "govbot serving on http://%s:%s (platforms: %s)",
            host,
            bound,
            ", ".join(sorted(app[SENDERS_KEY].keys())) or "none",
        )
        if started is not None:
            started(bound)
        await stop.wait()
    finally:
        stop.set()
        if socket_handler is not None:
            with contextlib.suppress(Exception):
                await socket_handler.close_async()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()


def serve(core: Any, settings: Any, host: str = "0.0.0.0", port: int = 3000, socket: bool = False) -> None:
    """`govbot serve`: run the HTTP server (and Socket Mode with --socket) until interrupted."""
    check_startup(settings, socket)
    asyncio.run(run_server(core, settings, host, port, socket))
