"""Images that come with a message (the portfolio chart), uploaded to the user's DM.

A neutral message names the image kind in `image_png`; Slack cannot show a PNG inside
blocks without a public URL, so the chart is uploaded (files.upload v2) to the DM
between the user and govbot. Failure to attach never fails the command: the user is
told why.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.messages.message import Message

logger = logging.getLogger(__name__)

IMAGES = {"portfolio_chart": ("portfolio.png", "Pipeline by stage and risk")}


def image_bytes(message: Message) -> bytes | None:
    """The PNG a message names, or None when the kind is unknown."""
    if message.image_png == "portfolio_chart":
        from bot.messages.portfolio import portfolio_chart_png

        return portfolio_chart_png(message.meta)
    return None


async def attach_image(fe: Any, user: str, message: Message, report: Callable[[str], Awaitable[Any]]) -> None:
    """Upload the message's image to the user's DM with the bot."""
    if not message.image_png or message.image_png not in IMAGES:
        return
    filename, title = IMAGES[message.image_png]
    png = await fe.call(image_bytes, message)
    if not png:
        return
    try:
        channel = (await fe.client.conversations_open(users=user))["channel"]["id"]
        await fe.client.files_upload_v2(channel=channel, file=png, filename=filename, title=title, alt_txt=title)
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        logger.warning("slack: could not attach %s: %s", message.image_png, error)
        await report(f"The {title.lower()} chart could not be attached ({error}).")
