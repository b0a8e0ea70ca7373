"""The slash command (`/aiwf` by default): one listener, parsed by the core."""

from __future__ import annotations

import logging
import re
from typing import Any

from handlers.slack.app import SlackFrontEnd
from handlers.slack.assess import open_assess
from handlers.slack.blocks import render
from handlers.slack.files import attach_image
from handlers.slack.intake import open_interview

logger = logging.getLogger(__name__)


_ESCAPED = re.compile(r"<([^<>]*)>")


def command_text(text: str) -> str:
    """The slash command's text as the person typed it. With escaping on (the manifest's
    `should_escape: true`) Slack sends people as `<@U123|sam>`, which stays: it is how a
    command names a user. Channels (`<#C1|general>`) and links (`<https://x|x>`) become
    the text shown, and `&amp;`, `&lt;`, `&gt;` the characters."""

    def shown(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("@"):
            return match.group(0)
        target, _, label = inner.partition("|")
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return label or target.removeprefix("mailto:")

    unescaped = _ESCAPED.sub(shown, text)
    return unescaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def register(fe: SlackFrontEnd) -> None:
    """Add the slash-command listener to `fe.bolt`."""

    @fe.bolt.command(fe.settings.slack_command)
    async def on_command(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
        async with fe.work("running your command", fe.reporter(body, respond), ack):
            await ack()
            user = body["user_id"]
            text = command_text(body.get("text") or "")
            reply = await fe.call(fe.core.handle_command, user, "slack", text, body.get("channel_id"))
            if reply.interview is not None:
                await open_interview(fe, client, body["trigger_id"], user, reply.interview)
            if reply.assess is not None:
                await open_assess(fe, body["trigger_id"], reply.assess)
            if reply.message is not None:
                response_type = "ephemeral" if reply.ephemeral else "in_channel"
                await respond(response_type=response_type, replace_original=False, **render(reply.message))
                await attach_image(fe, user, reply.message, fe.reporter(body, respond))
