"""The one HTTP server of `govbot serve`: Slack, Teams and /healthz on aiohttp.

Either platform may be configured alone. Background tasks deliver the outbox and run
the scheduled jobs.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def build_web_app(core: Any, settings: Any) -> web.Application:
    """Mount the configured platforms. `handlers.slack.mount` and
    `handlers.teams.mount` add their routes and return their outbox Sender."""
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    senders: list[Any] = []
    if settings.slack_bot_token or settings.slack_signing_secret:
        from handlers.slack import mount as mount_slack

        senders.append(mount_slack(app, core, settings))
    if settings.microsoft_app_id or settings.teams_enabled:
        from handlers.teams import mount as mount_teams

        senders.append(mount_teams(app, core, settings))
    app["govbot.core"] = core
    app["govbot.senders"] = senders
    return app
