"""Teams runs at most CORE_CALLS core calls at once per process, in the lane it shares with Slack."""

from __future__ import annotations

import asyncio
import threading

import pytest

from handlers.base import CORE_CALLS, core_call
from handlers.teams.actions import TeamsActions
from tests.support.bot_connector import validate_card

CLIENTS = 12


class Gauge:
    """Wraps a callable and counts the calls running at once. Each call is held
    briefly (released at once if more than CORE_CALLS run together), so that without
    the limit the calls would overlap and the peak would exceed it."""

    def __init__(self, fn):
        self.fn = fn
        self.active = self.peak = self.calls = 0
        self.lock = threading.Lock()
        self.over = threading.Event()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
            if self.active > CORE_CALLS:
                self.over.set()
        self.over.wait(timeout=0.05)
        try:
            return self.fn(*args, **kwargs)
        finally:
            with self.lock:
                self.active -= 1


def test_concurrent_commands_run_at_most_core_calls_at_once(core, monkeypatch):
    gauge = Gauge(core.handle_command)
    monkeypatch.setattr(core, "handle_command", gauge)
    actions = TeamsActions(core, core.settings)

    async def many() -> list[dict]:
        return await asyncio.gather(*(actions.command(f"29:user{n}", "mine") for n in range(CLIENTS)))

    found = asyncio.run(many())
    assert gauge.calls == CLIENTS
    assert gauge.peak == CORE_CALLS
    assert len(found) == CLIENTS
    for card in found:
        validate_card(card)


@pytest.mark.slow
def test_every_teams_core_call_in_a_loop_shares_the_limit(core):
    gauge = Gauge(lambda n: n * 2)
    actions = TeamsActions(core, core.settings)

    async def mixed() -> list[int]:
        direct = [core_call(gauge, n) for n in range(CLIENTS)]
        through_actions = [actions._call(gauge, n) for n in range(CLIENTS)]
        return await asyncio.gather(*direct, *through_actions)

    assert asyncio.run(mixed()) == [n * 2 for n in range(CLIENTS)] * 2
    assert gauge.peak == CORE_CALLS
    # a new event loop gets a semaphore of its own
    assert asyncio.run(mixed()) == [n * 2 for n in range(CLIENTS)] * 2
    assert gauge.peak == CORE_CALLS
