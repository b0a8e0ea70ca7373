"""Slack users' display names, learnt with `users.info` (scope `users:read`).

Whenever a request names a Slack user — the person acting, a user mentioned in a
command (`<@U123|carla>`), the owner picked in the interview — and whenever a message is
delivered to a user, their name is looked up in the background (never delaying an ack)
and handed to the core, which keeps it in SQL. Each user is asked about at most once
per `ttl_s` per process; a failed look-up is logged and tried again after the same
interval, never reported to the person.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.service.core import Govbot
from handlers.base import core_call

logger = logging.getLogger(__name__)

TTL_S = 24 * 3600.0
REMEMBERED_MAX = 20_000


def is_slack_user(user_id: str) -> bool:
    """Slack user ids start with U or W (bots and channels do not)."""
    return len(user_id) > 1 and user_id[0] in "UW" and user_id[1:].isalnum() and user_id.isupper()


def display_name(user: dict[str, Any]) -> str | None:
    """The name Slack shows for a `users.info` user: the profile's display name, else
    the real name, else the handle."""
    profile = user.get("profile") or {}
    for value in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


_MENTION = re.compile(r"<@([^<>|\s]+)(?:\|[^<>]*)?>")  # a Slack user mention


def people_in(body: dict[str, Any]) -> list[str]:
    """The Slack users a request names: who acts, who a command mentions, and the users
    picked in a submitted view (the interview's owner)."""
    found: list[str] = []
    user = body.get("user")
    found.append(str(user.get("id", "")) if isinstance(user, dict) else str(body.get("user_id") or ""))
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("user"), str):
        found.append(event["user"])
    if isinstance(body.get("text"), str):
        found += [m.group(1) for m in _MENTION.finditer(body["text"])]
    view = body.get("view")
    values = ((view.get("state") or {}).get("values") or {}) if isinstance(view, dict) else {}
    for block in values.values() if isinstance(values, dict) else ():
        for element in block.values() if isinstance(block, dict) else ():
            if isinstance(element, dict):
                found += _selected(element)
    return [u for u in dict.fromkeys(found) if u and is_slack_user(u)]


def _selected(element: dict[str, Any]) -> Iterator[str]:
    if isinstance(element.get("selected_user"), str):
        yield element["selected_user"]
    for uid in element.get("selected_users") or ():
        if isinstance(uid, str):
            yield uid


class SlackNames:
    """Learns display names in the background; `settled()` waits for what is running."""

    def __init__(self, core: Govbot, client: AsyncWebClient, ttl_s: float = TTL_S):
        self.core = core
        self.client = client
        self.ttl_s = ttl_s
        self._asked: OrderedDict[str, float] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def soon(self, user_ids: Iterable[str]) -> None:
        """Look these users up in the background (those not asked about lately)."""
        due = self._due(user_ids)
        if not due:
            return
        task = asyncio.get_running_loop().create_task(self.learn(due))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until no look-up is running (tests, shutdown)."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(set(self._tasks), timeout=timeout)

    def _due(self, user_ids: Iterable[str]) -> list[str]:
        now = time.monotonic()
        due = []
        for uid in dict.fromkeys(u for u in user_ids if u and is_slack_user(u)):
            asked = self._asked.get(uid)
            if asked is not None and now - asked < self.ttl_s:
                continue
            self._asked[uid] = now
            self._asked.move_to_end(uid)
            due.append(uid)
        while len(self._asked) > REMEMBERED_MAX:
            self._asked.popitem(last=False)
        return due

    async def learn(self, user_ids: Iterable[str]) -> None:
        """Ask Slack for each user's name and hand it to the core."""
        for uid in user_ids:
            try:
                resp = await self.client.users_info(user=uid)
                name = display_name(resp.get("user") or {})
                if name:
                    await core_call(self.core.remember_person, "slack", uid, name)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                logger.info("slack: no display name for %s (%s)", uid, type(exc).__name__)
            except Exception:  # a name is a nicety: log it, never fail the request for it
                logger.exception("slack: learning the display name of %s failed", uid)
