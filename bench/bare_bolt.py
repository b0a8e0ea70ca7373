"""The yardstick for the ack benchmark: a bare slack_bolt AsyncApp on aiohttp that only acks.

Run as `python -m bench.bare_bolt PORT` with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and
SLACK_API_URL set; it answers `POST /slack/events` (signature checked by Bolt) and
`GET /healthz`, acking the slash command and the approve button and doing nothing else.
"""

from __future__ import annotations

import logging
import os
import sys

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build(command: str = "/aiwf") -> web.Application:
    """The aiohttp app wrapping a Bolt AsyncApp whose listeners only ack."""
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    bolt = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], name="bare")

    @bolt.command(command)
    async def on_command(ack):  # type: ignore[no-untyped-def]
        await ack()

    @bolt.action("approval.approve")
    async def on_approve(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
