"""The production gate (DESIGN.md "Gates: what the verdict enforces"): what a pilot
still lacks before `promote` may move it to production. Pure: the caller reads the
figures (readiness, value, incidents, regulatory answers, days in pilot) and this
names every unmet condition, each saying whether governance may override it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.domain.value import direction, meets_target, show_number, with_unit

READINESS: Final = "readiness"
VALUE_TARGET: Final = "value_target"
OPEN_INCIDENTS: Final = "open_incidents"
REGULATORY: Final = "regulatory"
MIN_PILOT_DAYS: Final = "min_pilot_days"
# Governance may override these with a written reason; never incidents, the regulatory
# questions or the policy's minimum pilot time.
OVERRIDABLE: Final = (READINESS, VALUE_TARGET)
CONDITIONS: Final = (READINESS, VALUE_TARGET, OPEN_INCIDENTS, REGULATORY, MIN_PILOT_DAYS)


@dataclass(frozen=True)
class Unmet:
    """One condition the pilot does not meet yet, in words for the person."""

    code: str
    text: str

    @property
    def overridable(self) -> bool:
        return self.code in OVERRIDABLE


@dataclass(frozen=True)
class GateInput:
    """What the gate looks at, read by the service from the store."""

    proposal_id: int
    readiness_score: int
    readiness_max: int
    readiness_missing: tuple[str, ...]
    baseline: float | None
    target: float | None
    unit: str | None
    latest_checkin: float | None  # the latest check-in as a number (None: none, or not a number)
    open_incidents: int
    regulatory_answered: bool
    pilot_days: int
    min_pilot_days: int = 0


def production_gate(g: GateInput) -> list[Unmet]:
    """Every condition of the production gate that `g` does not meet, in DESIGN order
    (empty: the pilot may go to production)."""
    out: list[Unmet] = []
    if g.readiness_max <= 0 or g.readiness_score < g.readiness_max:
        missing = f" (missing: {', '.join(g.readiness_missing)})" if g.readiness_missing else ""
        out.append(
            Unmet(
                READINESS,
                f"readiness is {g.readiness_score}/{g.readiness_max}, not {g.readiness_max}/{g.readiness_max}{missing}",
            )
        )
    value = _value_problem(g)
    if value is not None:
        out.append(Unmet(VALUE_TARGET, value))
    if g.open_incidents > 0:
        n = g.open_incidents
        out.append(
            Unmet(
                OPEN_INCIDENTS, f"{n} open incident{'s' if n != 1 else ''}: resolve {'them' if n != 1 else 'it'} first"
            )
        )
    if not g.regulatory_answered:
        out.append(
            Unmet(REGULATORY, f"the EU AI Act questions are unanswered: answer them first (assess {g.proposal_id})")
        )
    if g.pilot_days < g.min_pilot_days:
        out.append(
            Unmet(
                MIN_PILOT_DAYS,
                f"it has been in pilot {g.pilot_days} day{'s' if g.pilot_days != 1 else ''}; "
                f"the policy asks for at least {g.min_pilot_days}",
            )
        )
    return out


def _value_problem(g: GateInput) -> str | None:
    if g.baseline is None or g.target is None:
        return (
            "no baseline and target to measure against: give value_baseline and value_target "
            f"(edit {g.proposal_id}), e.g. a metric 'from 12 to 6 minutes'"
        )
    if direction(g.baseline, g.target) == 0:
        return f"the baseline and the target are both {show_number(g.target)}, so no value can be shown"
    target = with_unit(g.target, g.unit)
    way = "at or below" if g.target < g.baseline else "at or above"
    if g.latest_checkin is None:
        return (
            f"no check-in yet: report the latest value (checkin {g.proposal_id} <number>); the target is {way} {target}"
        )
    if not meets_target(g.latest_checkin, g.baseline, g.target):
        return f"the latest check-in is {with_unit(g.latest_checkin, g.unit)}, not {way} the target {target}"
    return None


def blocking(unmet: list[Unmet]) -> list[Unmet]:
    """The unmet conditions no override lifts."""
    return [u for u in unmet if not u.overridable]
