"""Comparing verdicts under two policies (`govbot policy what-if`), and where in a
policy file a problem is (`govbot policy check`).

Pure functions: a stored verdict and a new `govbot classify` result in, the what-if
entry of DESIGN.md ("Policy versions") out, or None when nothing it lists changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.domain.proposal import RISK_LEVELS
from bot.domain.records import StoredVerdict

# Proposals the what-if compares and `policy apply` re-classifies: every one that is
# still live, i.e. not rejected or retired.
NOT_LIVE = ("rejected", "retired")
COUNT_KEYS = ("risk_up", "risk_down", "tier_changed", "stops_added", "stops_removed")
_RANK = {level: i for i, level in enumerate(RISK_LEVELS)}


def tier_of(result: Mapping[str, Any]) -> str | None:
    """The EU AI Act tier of a `govbot classify` result."""
    return ((result.get("regulatory") or {}).get("eu_ai_act") or {}).get("tier")


def verdict_change(old: StoredVerdict, new: Mapping[str, Any]) -> dict[str, Any] | None:
    """The what-if entry for one proposal, or None when risk, tier, stop conditions
    and approver roles are all as stored."""
    old_stops, new_stops = set(old.stop_conditions), set(new.get("stop_conditions") or ())
    old_roles, new_roles = set(old.approver_roles), set(new.get("approver_roles") or ())
    entry: dict[str, Any] = {
        "id": old.proposal_id,
        "risk_level": [old.risk_level, new["risk_level"]],
        "tier": [old.tier, tier_of(new)],
        "stop_conditions_added": sorted(new_stops - old_stops),
        "stop_conditions_removed": sorted(old_stops - new_stops),
        "approver_roles_added": sorted(new_roles - old_roles),
        "approver_roles_removed": sorted(old_roles - new_roles),
    }
    same = (
        entry["risk_level"][0] == entry["risk_level"][1]
        and entry["tier"][0] == entry["tier"][1]
        and old_stops == new_stops
        and old_roles == new_roles
    )
    return None if same else entry


def risk_move(entry: Mapping[str, Any]) -> int:
    """+1 when the entry raises the risk level, -1 when it lowers it, else 0."""
    before, after = (_RANK.get(level, -1) for level in entry["risk_level"])
    return (after > before) - (after < before)


def counts(changed: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many proposals move risk up or down, change tier, gain or lose stop conditions."""
    out = dict.fromkeys(COUNT_KEYS, 0)
    for entry in changed:
        move = risk_move(entry)
        out["risk_up"] += move > 0
        out["risk_down"] += move < 0
        out["tier_changed"] += entry["tier"][0] != entry["tier"][1]
        out["stops_added"] += bool(entry["stop_conditions_added"])
        out["stops_removed"] += bool(entry["stop_conditions_removed"])
    return out


def what_if_report(
    from_version: str, to_version: str, compared: int, changed: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The `govbot policy what-if --json` document."""
    return {
        "from": from_version,
        "to": to_version,
        "compared": compared,
        "changed": list(changed),
        "counts": counts(changed),
    }


def describe(entry: Mapping[str, Any]) -> list[str]:
    """What changed for one proposal, in words ("risk medium -> high", ...)."""
    out = []
    if entry["risk_level"][0] != entry["risk_level"][1]:
        out.append(f"risk {entry['risk_level'][0]} -> {entry['risk_level'][1]}")
    if entry["tier"][0] != entry["tier"][1]:
        out.append(f"EU AI Act tier {entry['tier'][0] or '-'} -> {entry['tier'][1] or '-'}")
    for key, label in (
        ("stop_conditions_added", "stop conditions added"),
        ("stop_conditions_removed", "stop conditions removed"),
        ("approver_roles_added", "approvers added"),
        ("approver_roles_removed", "approvers no longer needed"),
    ):
        if entry[key]:
            out.append(f"{label}: {', '.join(entry[key])}")
    return out


# --------------------------------------------------------------------------- locations

_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_PART = re.compile(r"([A-Za-z0-9_\-]+)(?:\[(\d+)\])?")


def locate(text: str, path: str) -> int | None:
    """The line (1-based) of a policy file that a problem's key path points at, e.g.
    "risk.rules[2].level" or "reassessment.review_days.high"; None when the path
    cannot be found (the key is missing, or written in a form this does not follow).

    Follows table headers (`[a.b]`, the n-th `[[a.b]]`) and the keys under them; a key
    inside an inline table (`when = { ... }`) is found on the line that opens it."""
    lines = text.splitlines()
    parts = [(m.group(1), int(m.group(2)) if m.group(2) else None) for m in _PART.finditer(path.split(":")[0])]
    if not parts:
        return None
    headers: list[tuple[int, str]] = []  # (line index, dotted name)
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m and not _KEY.match(line):
            headers.append((i, m.group(1).replace('"', "").replace("'", "").replace(" ", "")))
    best: int | None = None
    start, end = 0, _next_header(headers, -1, len(lines))  # the section the next key is in
    prefix = ""
    for name, index in parts:
        prefix = f"{prefix}.{name}" if prefix else name
        found = _find_header(headers, prefix, index, start)
        if found is not None:
            best, start, end = found, found + 1, _next_header(headers, found, len(lines))
            continue
        if index is None and any(h.startswith(prefix + ".") for i, h in headers if i >= start):
            continue  # `[a.b.c]` without `[a.b]`: go on to the deeper header
        key_line = _find_key(lines, name, start, end)
        if key_line is not None:
            best = key_line  # an inline value: deeper parts are on the same line
        break
    return None if best is None else best + 1


def _next_header(headers: list[tuple[int, str]], after: int, end: int) -> int:
    return next((i for i, _ in headers if i > after), end)


def _find_header(headers: list[tuple[int, str]], dotted: str, index: int | None, start: int) -> int | None:
    matches = [i for i, name in headers if name == dotted and i >= start - 1]
    if not matches:
        return None
    if index is None:
        return matches[0]
    return matches[index] if index < len(matches) else None


def _find_key(lines: list[str], key: str, start: int, end: int) -> int | None:
    for i in range(start, min(end, len(lines))):
        m = _KEY.match(lines[i])
        if m and m.group(1) == key:
            return i
    return None
