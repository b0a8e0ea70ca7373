"""The console channel's outbox `Sender` (bot.ports.Sender, channel "console").

Messages are kept in an in-memory inbox per recipient; a message for the user who is
active in the terminal is printed at once. A message that updates an earlier one
(`update_ref`, e.g. an approval request once decided) replaces it in the inbox.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from bot.domain.records import OutboxRow
from bot.messages.message import Message
from bot.service.core import Govbot
from handlers.console.render import render_message, render_note

logger = logging.getLogger(__name__)


@dataclass
class Delivered:
    """One message in someone's console inbox."""

    message: Message
    row_id: int = 0
    read: bool = False
    reply: bool = False  # threaded on an earlier message
    updated: bool = False  # replaced an earlier version in place


class ConsoleSender:
    """Delivers outbox rows of channel "console" to in-memory inboxes."""

    channel = "console"

    def __init__(self, out: TextIO | None = None, *, color: bool = False, width: int | None = None):
        self.out = out
        self.color = color
        self.width = width
        self.active: str | None = None
        self.inbox: dict[str, list[Delivered]] = {}
        self.printed = 0  # messages printed to the active user so far
        self._session = uuid.uuid4().hex[:12]  # refs from another session point at nothing here
        self._lock = threading.Lock()

    async def send(
        self, row: OutboxRow, thread_ref: dict[str, Any] | None, update_ref: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """Put the message in the recipient's inbox (replacing it for an update); print
        it when the recipient is the active user. Returns where it is kept."""
        message = Message.from_json(row.payload)
        with self._lock:
            box = self.inbox.setdefault(row.recipient, [])
            index = self._updatable(row.recipient, update_ref, len(box))
            item = Delivered(message, row.id, reply=bool(thread_ref), updated=index is not None)
            if index is None:
                box.append(item)
                index = len(box) - 1
            else:
                box[index] = item
            if row.recipient == self.active and self.out is not None:
                self._print(item)
        logger.debug("console message %s delivered to %s", row.kind, row.recipient)
        return {"session": self._session, "recipient": row.recipient, "index": index}

    def _updatable(self, recipient: str, ref: dict[str, Any] | None, size: int) -> int | None:
        if not ref or ref.get("session") != self._session or ref.get("recipient") != recipient:
            return None
        index = ref.get("index")
        return index if isinstance(index, int) and 0 <= index < size else None

    def _print(self, item: Delivered) -> None:
        assert self.out is not None
        what = "updated message" if item.updated else ("reply" if item.reply else "new message")
        self.out.write("\n" + render_note(f"── {what} for {self.active} ──", color=self.color) + "\n")
        self.out.write(render_message(item.message, color=self.color, width=self.width) + "\n")
        self.out.flush()
        item.read = True
        self.printed += 1

    # --- reading the inbox ----------------------------------------------------------
    def messages(self, user: str) -> list[Delivered]:
        """Everything delivered to `user` in this session, oldest first."""
        return list(self.inbox.get(user, ()))

    def unread(self, user: str) -> list[Delivered]:
        return [d for d in self.inbox.get(user, ()) if not d.read]

    def mark_read(self, user: str) -> None:
        for d in self.inbox.get(user, ()):
            d.read = True


@dataclass
class StoredMessage:
    """One message of a user's console inbox as the outbox holds it."""

    row: OutboxRow
    message: Message
    updated: bool = False  # a later message replaced an earlier version


def collapse(rows: Sequence[OutboxRow]) -> list[StoredMessage]:
    """Outbox rows (any order) as an inbox, oldest first: a row whose `update_key` names
    an earlier row's `ref_key` replaces it in place, as the platforms update a message."""
    out: list[StoredMessage] = []
    where: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r.id):
        item = StoredMessage(row, Message.from_json(row.payload))
        target = where.get(row.update_key) if row.update_key else None
        if target is None:
            out.append(item)
            target = len(out) - 1
        else:
            item.updated = True
            out[target] = item
        if row.ref_key:
            where[row.ref_key] = target
    return out


def stored_inbox(core: Govbot, user: str, limit: int = 50) -> list[StoredMessage]:
    """The console messages the outbox holds for `user` (this and earlier sessions)."""
    rows = core.outbox_for(user, limit=limit)
    items = collapse([r for r in rows if r.channel == ConsoleSender.channel])
    for item in items:  # with people's names, as delivery shows them
        item.message = core.named(item.message)
    return items
