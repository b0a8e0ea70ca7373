"""Acknowledged actions on the server's side (`bot.service.inbound` holds the rules).

- Every process has an owner name, "host:pid:token": the actions it records are
  claimed in its name. `gone(owner)` tells, without waiting for a lease to run out,
  that a process on this host which held actions is dead (SIGKILL, a crash), so the
  next one to start takes them over at once; on another host the lease decides.
- `ActionDesk` (one per core and process, `desk_for`): records an action before the
  channel acknowledges it, processes it in the lanes of `handlers.base`, knows which
  actions are running here (never taken over by this process's own worker), and runs
  the worker that resumes unfinished actions at start-up and every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import weakref
from typing import Any

from bot.domain.records import InboundAction
from bot.service.results import DecisionOutcome
from handlers.base import EXPECTED, core_call, record_first

logger = logging.getLogger(__name__)

RESUME_INTERVAL_S = 2.0
RECORD_BATCH = 100  # clicks written in one transaction at most
Incoming = tuple[str, str, str, str, dict[str, Any]]  # platform, key, actor, kind, payload (`Govbot.receive_actions`)
HOST = socket.gethostname().replace(":", "-")[:80]
TOKEN = secrets.token_hex(6)


def owner_name() -> str:
    """This process, as it claims the actions it records."""
    return f"{HOST}:{os.getpid()}:{TOKEN}"


def gone(owner: str | None) -> bool:
    """True when `owner` is a process of this host that no longer runs (its pid is
    free, or is ours under another token: an earlier process before a restart)."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != HOST or token == TOKEN or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: the pid runs, under another user
        return False
    return False


class ActionDesk:
    """Records and processes this process's acknowledged actions (see module doc)."""

    def __init__(self, core: Any):
        self.core = core
        self.running: set[int] = set()
        self._waiting: list[tuple[Incoming, asyncio.Future[InboundAction | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    @property
    def owner(self) -> str:
        return owner_name()

    async def receive(
        self, platform: str, key: str, actor: str, kind: str, payload: dict[str, Any]
    ) -> InboundAction | None:
        """Record the action (committed) before the caller acknowledges it; None for a
        repeated delivery of one already recorded. The clicks that arrive while a write
        is under way are written together by the next one (one commit for a burst)."""
        done: asyncio.Future[InboundAction | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(((platform, key, actor, kind, payload), done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="govbot-record")
        action = await done
        if action is not None:
            self.running.add(action.id)  # until processed: this process's worker leaves it alone
        return action

    async def _write(self) -> None:
        call = record_first if getattr(self.core, "single_writer", False) else core_call
        while self._waiting:
            batch, self._waiting = self._waiting[:RECORD_BATCH], self._waiting[RECORD_BATCH:]
            try:
                results = await call(self.core.receive_actions, [item for item, _ in batch], self.owner)
            except Exception as exc:  # each caller reports it to its person (nothing was recorded)
                results = [exc] * len(batch)
            for (_, done), result in zip(batch, results, strict=True):
                if done.done():  # its request went away meanwhile
                    continue
                if isinstance(result, Exception):
                    done.set_exception(result)
                else:
                    done.set_result(result)

    async def process(self, action_id: int, *, resumed: bool = False) -> DecisionOutcome | None:
        """Carry the recorded action out (`Govbot.process_action`); None when it was not
        ours to do any more. Errors are raised for the caller to report."""
        self.running.add(action_id)
        try:
            outcome: DecisionOutcome | None = await core_call(
                self.core.process_action, action_id, self.owner, resumed=resumed
            )
            return outcome
        finally:
            self.running.discard(action_id)

    async def resume(self) -> int:
        """Renew the leases of the actions running here, take over unfinished ones and
        process them; how many were taken."""
        if self.running:
            await core_call(self.core.renew_actions, sorted(self.running), self.owner)
        ids: list[int] = await core_call(self.core.resume_actions, self.owner, gone, sorted(self.running))
        self.running.update(ids)
        await asyncio.gather(*(self._resumed(i) for i in ids))
        return len(ids)

    async def _resumed(self, action_id: int) -> None:
        try:
            await self.process(action_id, resumed=True)
        except Exception as exc:  # settled and told to the person by the core; logged here
            if isinstance(exc, EXPECTED):
                logger.info("resumed action %s: %s", action_id, type(exc).__name__)
            else:
                logger.exception("resumed action %s failed; it will be tried again", action_id)

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Resume unfinished actions now (start-up), then every `interval` seconds until `stop`."""
        while not stop.is_set():
            try:
                await self.resume()
            except Exception:  # e.g. the database is down: try again next round
                logger.exception("could not resume unfinished actions")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    def busy(self) -> bool:
        return bool(self.running or self._waiting or (self._writer is not None and not self._writer.done()))


_desks: weakref.WeakKeyDictionary[Any, ActionDesk] = weakref.WeakKeyDictionary()


def desk_for(core: Any) -> ActionDesk:
    """The one ActionDesk of `core` in this process (Slack, Teams and the server share it)."""
    desk = _desks.get(core)
    if desk is None:
        desk = _desks[core] = ActionDesk(core)
    return desk
