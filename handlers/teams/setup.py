"""Mount the Teams channel on the server of `govbot serve`."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

ROUTE = "/api/messages"


def mount(app: Any, core: Any, settings: Any) -> Any:
    """Add `POST /api/messages` to the aiohttp app and return the Teams outbox Sender.
    On shutdown the server waits for the messages still being answered after their turn.

        Raises `handlers.teams.adapter.TeamsConfigError` (naming MicrosoftAppId) when
        Teams is enabled without credentials outside GOVBOT_ENV=local.
    """
    from aiohttp import web

    from handlers.base import TEAMS_BOT_KEY
    from handlers.teams.adapter import build_adapter
    from handlers.teams.bot import GovbotTeamsBot
    from handlers.teams.sender import TeamsSender

    adapter = build_adapter(settings)
    bot = GovbotTeamsBot(core, settings)

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    async def finish_answers(_app: web.Application) -> None:
        # messages already answered 201 are still being worked on: let them finish
        await bot.drain()

    app.router.add_post(ROUTE, messages)
    app.on_shutdown.append(finish_answers)
    app[TEAMS_BOT_KEY] = bot
    logger.info(
        "Teams: %s mounted (%s)", ROUTE, "authenticated" if adapter.app_id else "UNAUTHENTICATED, GOVBOT_ENV=local"
    )
    return TeamsSender(adapter, core, adapter.app_id)
