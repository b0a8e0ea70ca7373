"""Event listeners: App Home."""

from __future__ import annotations

import logging
from typing import Any

from handlers.slack.app import SlackFrontEnd

logger = logging.getLogger(__name__)


def register(fe: SlackFrontEnd) -> None:
    """Add the event listeners to `fe.bolt`."""

    @fe.bolt.event("app_home_opened")
    async def on_home(ack: Any, body: dict[str, Any], event: dict[str, Any]) -> None:
        user = str(event.get("user") or "")

        async def report(text: str) -> None:
            await fe.client.chat_postMessage(channel=user, text=text)

        async with fe.work("showing your home tab", report, ack):
            await ack()
            if event.get("tab", "home") != "home" or not user:
                return
            from handlers.slack.actions import refresh_home

            await refresh_home(fe, user)
