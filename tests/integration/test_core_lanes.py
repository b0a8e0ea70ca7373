"""One slow thing must not stall everyone (issue 18, item 3): LLM work and heavy reads
run in lanes of their own, so `mine` answers while both are full, and LLM work has a
total time limit that the person is told about. The slow work is held on an event,
never on time (real store; the LLM is a stub, the outermost callable)."""

from __future__ import annotations

import asyncio
import threading

from bot.service import portfolio as portfolio_service
from handlers import base
from handlers.base import LANES, LaneTimeout, core_call, error_text, in_lane
from tests.support.core_state import GOV

GUARD_S = 10.0  # only so that a stalled lane fails the test instead of hanging it


class Held:
    """Counts the slow calls that started, per lane, and holds them until `gate` opens."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.started = {"llm": 0, "heavy": 0}

    def enter(self, lane: str) -> None:
        with self.lock:
            self.started[lane] += 1
        self.gate.wait()


class HeldDrafter:
    """A digest LLM that waits for the gate, then writes a draft."""

    model_name = "stub-slow"

    def __init__(self, held: Held):
        self.held = held

    def draft(self, system: str, user: str) -> tuple[str, int, int]:
        self.held.enter("llm")
        return "A quiet week.", 10, 5


def _hold_portfolio(monkeypatch, held: Held) -> None:
    original = portfolio_service.portfolio_message

    def slow(*args, **kwargs):
        held.enter("heavy")
        return original(*args, **kwargs)

    monkeypatch.setattr(portfolio_service, "portfolio_message", slow)


def test_the_facade_names_the_lane_of_each_slow_command(core):
    lanes = [
        core.lane_for("handle_command", (GOV, "slack", text)) for text in ("digest", "portfolio", "mine", "approve 3")
    ]
    assert lanes == ["llm", "heavy", "quick", "quick"]


def test_mine_answers_while_the_llm_and_heavy_lanes_are_saturated(core, monkeypatch):
    held = Held()
    core.drafter = HeldDrafter(held)
    _hold_portfolio(monkeypatch, held)
    full = {"llm": LANES["llm"], "heavy": LANES["heavy"]}

    async def scenario() -> bool:
        slow = [
            asyncio.create_task(core_call(core.handle_command, GOV, "slack", "digest")) for _ in range(full["llm"] + 2)
        ]
        slow += [asyncio.create_task(core_call(core.portfolio)) for _ in range(full["heavy"] + 2)]
        for _ in range(int(GUARD_S / 0.01)):  # until every slow slot is taken
            if held.started == full:
                break
            await asyncio.sleep(0.01)
        saturated = held.started == full
        mine = asyncio.create_task(core_call(core.mine, "U_APPROVER"))
        done, _ = await asyncio.wait({mine}, timeout=GUARD_S)
        held.gate.set()
        await asyncio.gather(*slow, mine)
        return saturated and mine in done

    assert asyncio.run(scenario()) is True


def test_llm_work_past_its_time_limit_tells_the_person_and_frees_the_caller(core, monkeypatch):
    held = Held()
    core.drafter = HeldDrafter(held)
    monkeypatch.setattr(base, "LLM_LIMIT_S", 0.05)
    finished = threading.Event()

    def digest() -> object:
        try:
            return core.handle_command(GOV, "slack", "digest")
        finally:
            finished.set()

    async def scenario() -> BaseException | None:
        try:
            await in_lane("llm", digest)
        except LaneTimeout as exc:
            return exc
        finally:
            held.gate.set()
            await asyncio.to_thread(finished.wait, GUARD_S)  # the late draft ends before the database goes
        return None

    exc = asyncio.run(scenario())
    assert exc is not None and error_text(exc) == (
        "Sorry, drafting the digest took longer than 0.05 s (the language model is slow right now), so I "
        "stopped waiting. Nothing else was held up; please try again in a few minutes."
    )
