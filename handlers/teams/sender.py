"""The Teams outbox Sender: proactive messages through stored conversation references.

`bot.service.delivery` hands over one row at a time. The row's recipient is a Teams user id (or a
conversation id for channel posts); its conversation reference was stored when that
user (or channel) last talked to the bot. Messages are posted with
`adapter.continue_conversation`, replies thread on `replyToId`, and updates replace an
earlier card in place. Connector throttling and outages (429, 412, 5xx) become
`DeliveryFailed(retry_after=...)` so the outbox backs off, honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import parsedate_to_datetime
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, ConversationReference, ErrorResponseException

from bot.domain.records import OutboxRow
from bot.messages.message import Message
from bot.ports import DeliveryFailed
from bot.service.core import Govbot
from handlers.teams import cards

logger = logging.getLogger(__name__)

RETRYABLE = {408, 412, 429, 500, 502, 503, 504}
PERMANENT = {400, 413}
NO_REFERENCE_RETRY_S = 3600.0


def retry_after_seconds(value: str | None, now: Any = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def message_activity(card: dict[str, Any], text: str) -> Activity:
    activity = MessageFactory.attachment(cards.attachment(card))
    activity.summary = cards.summary(text) if text else None
    return activity


class TeamsSender:
    """`bot.ports.Sender` for channel "teams"."""

    channel = "teams"

    def __init__(self, adapter: Any, core: Govbot, app_id: str | None):
        self.adapter = adapter
        self.core = core
        self.app_id = app_id

    async def render(self, message: Message, recipient: str) -> dict[str, Any]:
        """Approval cards get `refresh` for the approver and governance; others are plain."""
        if cards.has_decision_buttons(message) or message.kind.startswith("approval"):
            rid = message.meta.get("request_id")
            users = [recipient]
            if rid is not None:
                users += await asyncio.to_thread(self.core.approval_viewers, int(rid))
            return cards.approval_card(message, refresh_users=users)
        return cards.message_card(message)

    # ------------------------------------------------------------------ Sender
    async def send(
        self, row: OutboxRow, thread_ref: dict[str, Any] | None, update_ref: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        message = Message.from_json(row.payload)
        raw_ref = await asyncio.to_thread(self.core.conversation_reference, self.channel, row.recipient)
        if raw_ref is None:
            raise DeliveryFailed(
                f"no Teams conversation reference for {row.recipient}: they must install the app or message "
                "the bot first",
                retry_after=NO_REFERENCE_RETRY_S,
            )
        reference = ConversationReference().deserialize(raw_ref)
        target = update_ref or thread_ref
        if target and target.get("conversation_id"):
            reference.conversation.id = target["conversation_id"]
        conversation_id = reference.conversation.id
        activity = message_activity(await self.render(message, row.recipient), message.text)
        result: dict[str, Any] = {}

        failure: list[Exception] = []

        async def deliver(context: TurnContext) -> None:
            # The adapter's on_turn_error would swallow a connector error; keep it instead.
            try:
                await post(context)
            except Exception as exc:
                failure.append(exc)

        async def post(context: TurnContext) -> None:
            client = context.turn_state[self.adapter.BOT_CONNECTOR_CLIENT_KEY]
            outgoing = TurnContext.apply_conversation_reference(activity, reference)
            outgoing.reply_to_id = None
            if update_ref and update_ref.get("activity_id"):
                outgoing.id = update_ref["activity_id"]
                await client.conversations.update_activity(conversation_id, outgoing.id, outgoing)
                result.update(conversation_id=conversation_id, activity_id=outgoing.id)
                return
            if thread_ref and thread_ref.get("activity_id"):
                outgoing.reply_to_id = thread_ref["activity_id"]
                response = await client.conversations.reply_to_activity(conversation_id, outgoing.reply_to_id, outgoing)
            else:
                response = await client.conversations.send_to_conversation(conversation_id, outgoing)
            result.update(conversation_id=conversation_id, activity_id=getattr(response, "id", None))

        try:
            await self.adapter.continue_conversation(reference, deliver, self.app_id)
            if failure:
                raise failure[0]
        except ErrorResponseException as exc:
            raise _delivery_failed(exc) from exc
        except DeliveryFailed:
            raise
        except Exception as exc:  # connection refused, timeouts: try again later
            raise DeliveryFailed(f"Teams connector unreachable: {type(exc).__name__}: {exc}") from exc
        logger.info("Teams: delivered outbox %s (%s) to %s", row.id, row.kind, conversation_id)
        return result


def _delivery_failed(exc: ErrorResponseException) -> DeliveryFailed:
    response = getattr(exc, "response", None)
    status = int(getattr(response, "status_code", 0) or 0)
    headers = getattr(response, "headers", None) or {}
    retry_after = retry_after_seconds(headers.get("Retry-After"))
    if status in PERMANENT:
        return DeliveryFailed(f"Teams connector refused the message (HTTP {status})", permanent=True)
    if status in RETRYABLE:
        logger.warning("Teams connector answered HTTP %s; retry after %s s", status, retry_after)
    return DeliveryFailed(f"Teams connector answered HTTP {status}", retry_after=retry_after)
