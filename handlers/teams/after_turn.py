"""Answering a Teams message after its turn, the way Slack acks first.

Teams waits for the HTTP answer to `POST /api/messages`; the bot answers a typed
message there at once (201) and does the work afterwards, replying through the
conversation reference of the message (`adapter.continue_conversation`, as the outbox
does) — nothing touches the database inside the request.

- `AfterTurn.later` queues the work of one message. Each (conversation, person) has its
  own queue: one person's messages are handled one at a time, in the order they
  arrived (an interview page is never processed before the one typed before it);
  different people never wait for each other. The core calls the work makes run in the
  lanes of `handlers.base` like every other core call, so a slow command does not hold
  up quick ones.
- The proactive turn carries the original message as its activity, so replies thread
  on it and card updates replace the clicked card exactly as they did inside the turn.
- A failure after the turn is told to the person (`error_text`), never only logged.
- `drain` waits for the queued work (the server calls it on shutdown, tests after a turn).
- `ReferenceCache` remembers the conversation reference last stored for each address, so
  an unchanged reference costs no database work at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity

from handlers.base import EXPECTED, error_text
from handlers.teams import cards

logger = logging.getLogger(__name__)

Work = Callable[[TurnContext], Awaitable[None]]
DRAIN_S = 30.0  # how long shutdown waits for answers still being worked on
CACHE_MAX = 20_000  # addresses whose last stored reference is remembered


class ReferenceCache:
    """The conversation reference last stored per address (user id or conversation id)."""

    def __init__(self, limit: int = CACHE_MAX):
        self.limit = limit
        self._stored: dict[str, str] = {}

    @staticmethod
    def _canonical(conversation_id: str, reference: dict[str, Any]) -> str:
        return json.dumps([conversation_id, reference], sort_keys=True, default=str)

    def unchanged(self, address: str, conversation_id: str, reference: dict[str, Any]) -> bool:
        """True when exactly this reference was stored for `address` by this process."""
        return self._stored.get(address) == self._canonical(conversation_id, reference)

    def stored(self, address: str, conversation_id: str, reference: dict[str, Any]) -> None:
        if len(self._stored) >= self.limit:
            self._stored.clear()
        self._stored[address] = self._canonical(conversation_id, reference)


def queue_key(activity: Activity) -> tuple[str, str]:
    """Whose queue a message joins: its conversation (thread left out) and its sender."""
    conversation = activity.conversation.id if activity.conversation and activity.conversation.id else ""
    sender = activity.from_property.id if activity.from_property and activity.from_property.id else ""
    return conversation.split(";messageid=", 1)[0], sender


class AfterTurn:
    """Work queued by a turn and run after it, one queue per (conversation, person)."""

    def __init__(self) -> None:
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def later(self, turn_context: TurnContext, work: Work) -> None:
        """Queue `work` for the message of `turn_context`; it runs in a proactive turn on
        the same adapter, whose activity is that message."""
        activity = turn_context.activity
        adapter = turn_context.adapter
        key = queue_key(activity)
        before = self._tails.get(key)
        task = asyncio.get_running_loop().create_task(
            self._run(before, adapter, activity, work), name=f"teams-after-turn-{activity.id}"
        )
        self._tails[key] = task
        self._pending.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._pending.discard(t)
            if self._tails.get(key) is t:
                del self._tails[key]

        task.add_done_callback(done)

    async def _run(self, before: asyncio.Task[None] | None, adapter: Any, activity: Activity, work: Work) -> None:
        if before is not None:
            await asyncio.wait([before])  # its outcome is its own; only its end matters here
        try:
            await answer(adapter, activity, work)
        except Exception:  # the connector itself failed: nobody can be told, so say it loudly
            logger.exception("Teams: could not answer %s activity %s after the turn", activity.type, activity.id)

    async def drain(self, timeout: float = DRAIN_S) -> bool:
        """Wait until every queued answer is done (True) or `timeout` passed (False)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._pending:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                logger.warning("Teams: %d answers still running at shutdown", len(self._pending))
                return False
            await asyncio.wait(set(self._pending), timeout=left)
        return True


async def answer(adapter: Any, activity: Activity, work: Work) -> None:
    """Run `work` in a proactive turn addressed like a reply to `activity`; a failure is
    told to the person in the same conversation."""
    reference = TurnContext.get_conversation_reference(activity)
    failure: list[BaseException] = []

    async def turn(context: TurnContext) -> None:
        # Addressed as the original turn: replies thread on the message, updates replace its card.
        context.activity = activity
        try:
            await work(context)
        except Exception as exc:
            if isinstance(exc, EXPECTED):
                logger.info("Teams: message from %s refused: %s", activity.from_property.id, type(exc).__name__)
            else:
                logger.exception("Teams: answering a message from %s failed", activity.from_property.id)
            try:
                await context.send_activity(_notice(error_text(exc, "your last message")))
            except Exception as told:  # the connector is what failed
                failure.append(told)

    await adapter.continue_conversation(reference, turn, getattr(adapter, "app_id", None))
    if failure:
        raise failure[0]


def _notice(text: str) -> Activity:
    return MessageFactory.attachment(cards.attachment(cards.notice_card(text, attention=True)))
