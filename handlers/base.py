"""What every channel shares: the server's typed keys, the start-up error, and the
bounded lane in which (synchronous) core calls run off the event loop."""

from __future__ import annotations

from typing import Any

from aiohttp import web

# Typed application keys (aiohttp.web.AppKey) for what the server shares.
CORE_KEY: web.AppKey[Any] = web.AppKey("govbot.core", object)
SENDERS_KEY: web.AppKey[dict[str, Any]] = web.AppKey("govbot.senders", dict)
SLACK_KEY: web.AppKey[Any] = web.AppKey("govbot.slack", object)


class StartupError(Exception):
    """`govbot serve` cannot start; the message names what to set or fix."""
