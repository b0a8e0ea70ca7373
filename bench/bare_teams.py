"""The yardstick for the Teams benchmark: a bare botbuilder bot that replies once.

Run as `python -m bench.bare_teams PORT`; it answers `POST /api/messages` with the stock
botbuilder CloudAdapter (no credentials, as govbot with GOVBOT_ENV=local) and an
ActivityHandler that replies to every message with one text, in the turn, through the
activity's serviceUrl (the fake Bot Connector), and `GET /healthz`.
"""

from __future__ import annotations

import logging
import sys

from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter

REPLY = "Commands: propose, mine, status, portfolio, roles, digest, help."


class BareBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(REPLY)


def build() -> web.Application:
    adapter = CloudAdapter()
    bot = BareBot()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
