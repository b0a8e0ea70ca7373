"""What changed between two rounds of a proposal: its answers and its verdict.

An approver who saw revision 1 and is asked again about revision 3 reads the changes
since revision 1, field by field (old → new), and what they did to the verdict (risk
level, EU AI Act tier, stop conditions, who must approve). Pure: the answers and the
classification results come from the store's per-revision snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.proposal import FIELDS, is_blank

# Verdict keys compared, in display order: (key, how to read it from a classification result)
VERDICT_KEYS = ("risk_level", "eu_tier", "stop_conditions", "approver_roles")


@dataclass(frozen=True)
class Change:
    """One key that differs: `before`/`after` are None when blank; lists are sorted
    tuples, so `added` and `removed` say what a list gained and lost."""

    key: str
    before: Any
    after: Any

    @property
    def is_list(self) -> bool:
        return isinstance(self.before, tuple) or isinstance(self.after, tuple)

    @property
    def added(self) -> tuple[Any, ...]:
        old = set(self.before or ())
        return tuple(x for x in (self.after or ()) if x not in old)

    @property
    def removed(self) -> tuple[Any, ...]:
        new = set(self.after or ())
        return tuple(x for x in (self.before or ()) if x not in new)


@dataclass(frozen=True)
class RoundChanges:
    """The changes from revision `since` (the one the reader saw) to revision `now`."""

    since: int
    now: int
    answers: tuple[Change, ...]
    verdict: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not self.answers and not self.verdict


def _value(value: Any) -> Any:
    """Blank → None; a list → a sorted tuple of its distinct items; text trimmed."""
    if is_blank(value):
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        items = tuple(sorted({str(v) for v in value}))
        return items or None
    if isinstance(value, str):
        return value.strip()
    return value


def _order(keys: set[str]) -> list[str]:
    known = [k for k in FIELDS if k in keys]
    return known + sorted(keys - set(FIELDS))


def answer_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Change, ...]:
    """Every proposal key whose answer differs (blank and absent count alike), in the
    order of the proposal's keys, then any other keys by name."""
    out = []
    for key in _order(set(before) | set(after)):
        old, new = _value(before.get(key)), _value(after.get(key))
        if old != new:
            out.append(Change(key, old, new))
    return tuple(out)


def verdict_of(result: Mapping[str, Any] | None) -> dict[str, Any]:
    """The compared verdict keys of a classification result (`govbot classify` JSON)."""
    result = result or {}
    eu = (result.get("regulatory") or {}).get("eu_ai_act") or {}
    return {
        "risk_level": result.get("risk_level"),
        "eu_tier": eu.get("tier"),
        "stop_conditions": result.get("stop_conditions") or [],
        "approver_roles": result.get("approver_roles") or [],
    }


def verdict_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[Change, ...]:
    """Risk level, EU AI Act tier, stop conditions and approver roles that differ."""
    old, new = verdict_of(before), verdict_of(after)
    out = []
    for key in VERDICT_KEYS:
        a, b = _value(old[key]), _value(new[key])
        if a != b:
            out.append(Change(key, a, b))
    return tuple(out)


def round_changes(
    since: int,
    now: int,
    before_answers: Mapping[str, Any],
    after_answers: Mapping[str, Any],
    before_result: Mapping[str, Any] | None,
    after_result: Mapping[str, Any] | None,
) -> RoundChanges:
    """The changes from revision `since` to revision `now`."""
    return RoundChanges(
        since,
        now,
        answer_changes(before_answers, after_answers),
        verdict_changes(before_result, after_result),
    )
