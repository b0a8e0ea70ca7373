"""The Slack outbox Sender: delivers queued messages with the Web API.

A message to a user goes to their DM with the bot (conversations.open, cached); a
`thread_ref` threads it (`thread_ts`), an `update_ref` replaces the earlier message in
place (chat.update). Rate limits come back as `DeliveryFailed(retry_after=...)` so the
outbox schedules the retry instead of blocking other deliveries; errors that no retry
can fix (unknown channel, invalid blocks) are marked permanent.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.records import OutboxRow
from bot.messages.message import Message
from bot.ports import DeliveryFailed
from handlers.slack.blocks import render
from handlers.slack.names import SlackNames

logger = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "cannot_dm_bot",
        "user_disabled",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
    }
)
UPDATE_GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackSender:
    """Implements `bot.ports.Sender` for channel "slack"."""

    channel = "slack"

    def __init__(self, client: AsyncWebClient, names: SlackNames | None = None):
        self.client = client
        self.names = names  # learns the names of the people messages go to
        self._dm: dict[str, str] = {}

    async def send(
        self, row: OutboxRow, thread_ref: dict[str, Any] | None, update_ref: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """Post (or update) one outbox message; return {"channel", "ts"} of the message."""
        content = render(Message.from_json(row.payload))
        if self.names is not None:
            self.names.soon([row.recipient])
        try:
            if update_ref and update_ref.get("channel") and update_ref.get("ts"):
                try:
                    resp = await self.client.chat_update(channel=update_ref["channel"], ts=update_ref["ts"], **content)
                    return {"channel": resp["channel"], "ts": resp["ts"]}
                except SlackApiError as exc:
                    if _error(exc) not in UPDATE_GONE:
                        raise
                    logger.info("outbox %s: message to update is gone (%s); posting a new one", row.id, _error(exc))
            kwargs: dict[str, Any] = {}
            if thread_ref and thread_ref.get("channel") and thread_ref.get("ts"):
                channel = thread_ref["channel"]
                kwargs["thread_ts"] = thread_ref.get("thread_ts") or thread_ref["ts"]
            else:
                channel = await self.conversation_for(row.recipient)
            resp = await self.client.chat_postMessage(channel=channel, **content, **kwargs)
            return {"channel": resp["channel"], "ts": resp["ts"]}
        except SlackApiError as exc:
            raise _delivery_failed(exc) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryFailed(f"Slack unreachable: {type(exc).__name__}") from exc

    async def conversation_for(self, recipient: str) -> str:
        """The conversation to post to: the DM with a user (U.../W...), else the id itself."""
        if recipient[:1] not in ("U", "W"):
            return recipient
        if recipient not in self._dm:
            resp = await self.client.conversations_open(users=recipient)
            self._dm[recipient] = resp["channel"]["id"]
        return self._dm[recipient]


def _error(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http_{exc.response.status_code}")


def _delivery_failed(exc: SlackApiError) -> DeliveryFailed:
    status = exc.response.status_code
    error = _error(exc)
    if status == 429:
        header = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
        if isinstance(header, list):
            header = header[0] if header else None
        try:
            retry_after = float(header) if header is not None else None
        except ValueError:
            retry_after = None
        return DeliveryFailed("Slack rate limit (429)", retry_after=retry_after)
    if status >= 500:
        return DeliveryFailed(f"Slack server error {status}")
    return DeliveryFailed(f"Slack refused the message: {error}", permanent=error in PERMANENT_ERRORS)
