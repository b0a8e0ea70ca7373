"""Recording a click comes first on a database with one writer (`handlers.base.record_first`):
while a record is being written (the ack waits on it), no quick core call starts; they
all run once it is written."""

from __future__ import annotations

import asyncio
import threading

from handlers.base import in_lane, record_first

GUARD_S = 10.0  # only so that a stalled lane fails the test instead of hanging it


def test_quick_calls_wait_while_a_click_is_being_recorded():
    written = threading.Event()
    order: list[str] = []

    def record() -> None:
        written.wait(GUARD_S)
        order.append("record")

    async def scenario() -> None:
        recording = asyncio.create_task(record_first(record))
        await asyncio.sleep(0)  # the record is pending
        quick = [asyncio.create_task(in_lane("quick", order.append, f"quick {n}")) for n in range(3)]
        await asyncio.sleep(0.05)
        held = list(order)
        written.set()
        await asyncio.wait_for(asyncio.gather(recording, *quick), GUARD_S)
        assert held == []

    asyncio.run(scenario())
    assert (order[0], sorted(order[1:])) == ("record", ["quick 0", "quick 1", "quick 2"])
