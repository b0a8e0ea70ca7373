"""Structured value: the baseline, target and unit read from a metric sentence, and how
a check-in stands against them (DESIGN.md "Gates: what the verdict enforces").

Pure functions. `read_metric("handling time from 12 to 6 minutes per ticket")` gives
baseline 12, target 6, unit "minutes per ticket"; the direction is the sign of
target - baseline. `meets_target` and `trend` judge a check-in in that direction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final

# A number as people write it: "12", "4.5", "1,200", "0.5"; a leading currency sign is
# the unit ("$4"), a trailing "%" too.
_NUM: Final = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
_NUMBER: Final = re.compile(rf"(?P<cur>[$€£])?\s?(?P<n>{_NUM})(?P<pct>\s?%)?")
_UNIT_STOP: Final = frozenset(
    [
        "to",
        "from",
        "and",
        "or",
        "by",
        "today",
        "now",
        "currently",
        "at",
        "in",
        "on",
        "a",
        "an",
        "the",
        "with",
        "within",
        "than",
        "of",
        "for",
        "is",
        "was",
        "it",
        "baseline",
        "target",
        "down",
        "up",
        "per",
        "cut",
        "reduce",
        "raise",
        "so",
        "as",
        "this",
        "that",
        "we",
        "our",
    ]
)
_UNIT_KEEP: Final = 3  # words of a unit at most ("minutes per ticket")
UNIT_MAX: Final = 40

_DOWN_VERBS: Final = r"(?:reduce[sd]?|reducing|cut(?:s|ting)?|lower(?:s|ed|ing)?|decrease[sd]?|decreasing|drop(?:s|ped)?|shrink(?:s)?|shorten(?:s|ed)?|bring(?:s)? down|slash(?:es|ed)?)"
_UP_VERBS: Final = (
    r"(?:raise[sd]?|raising|increase[sd]?|increasing|grow(?:s)?|boost(?:s|ed)?|lift(?:s|ed)?|improve[sd]? .{0,30}?\bup)"
)
_BELOW: Final = r"(?:under|below|less than|fewer than|at most|no more than|within|down to|max(?:imum)?(?: of)?)"
_ABOVE: Final = r"(?:above|over|more than|at least|up to|min(?:imum)?(?: of)?)"
_NOW: Final = r"(?:today(?: it is| it's| is|:)?|currently(?: at)?|now(?: at)?|at present|baseline(?: is| of|:)?|was)"

# Stated in the order they are tried; the first that reads both numbers wins.
_FROM_TO: Final = re.compile(
    rf"\bfrom\s+(?P<b>[$€£]?\s?{_NUM}(?:\s?%)?)(?P<bu>(?:\s+[^\d\s,;.]+){{0,4}}?)\s*(?:,\s*)?"
    rf"(?:down\s+|up\s+)?(?:to|->|→|towards)\s+(?P<t>[$€£]?\s?{_NUM}(?:\s?%)?)",
    re.IGNORECASE,
)
_TO_FROM: Final = re.compile(
    rf"\b(?:down|up)?\s*to\s+(?P<t>[$€£]?\s?{_NUM}(?:\s?%)?)(?P<tu>(?:\s+[^\d\s,;.]+){{0,4}}?)\s*,?\s*"
    rf"(?:from|(?:down |up )?from)\s+(?P<b>[$€£]?\s?{_NUM}(?:\s?%)?)",
    re.IGNORECASE,
)
_ARROW: Final = re.compile(
    rf"(?P<b>[$€£]?\s?{_NUM}(?:\s?%)?)(?P<bu>(?:\s*[^\d\s,;.>→=-]+){{0,3}}?)\s*(?:->|→|=>)\s*(?P<t>[$€£]?\s?{_NUM}(?:\s?%)?)"
)
_PERCENT_CHANGE: Final = re.compile(
    rf"\b(?P<verb>{_DOWN_VERBS}|{_UP_VERBS})\b[^.;]*?\bby\s+(?P<p>{_NUM})\s?(?:%|per ?cent)",
    re.IGNORECASE,
)
_HALVE: Final = re.compile(r"\b(?P<verb>halve[sd]?|halving|cut (?:it )?in half|double[sd]?|doubling)\b", re.IGNORECASE)
_BASE_FROM: Final = re.compile(rf"\bfrom\s+(?P<b>[$€£]?\s?{_NUM}(?:\s?%)?)", re.IGNORECASE)
_BASE_NOW: Final = re.compile(
    rf"\b{_NOW}\s*(?:about|around|roughly|~)?\s*(?P<b>[$€£]?\s?{_NUM}(?:\s?%)?)"
    rf"|(?P<b2>[$€£]?\s?{_NUM}(?:\s?%)?)(?:\s*[^\d\s,;.]+){{0,3}}?\s+(?:today|now|currently|at present)\b",
    re.IGNORECASE,
)
_THRESHOLD: Final = re.compile(
    rf"\b(?P<dir>{_BELOW}|{_ABOVE})\s+(?P<t>[$€£]?\s?{_NUM}(?:\s?%)?)(?P<tu>(?:\s+[^\d\s,;.]+){{0,4}})",
    re.IGNORECASE,
)
_TARGET_WORD: Final = re.compile(
    rf"\b(?:target|goal|aim|aiming)(?:\s+(?:is|of|at|for))?\s*[:=]?\s*(?P<t>[$€£]?\s?{_NUM}(?:\s?%)?)", re.IGNORECASE
)


@dataclass(frozen=True)
class MetricReading:
    """What a metric sentence says: the value today, the value that proves it worth it,
    and the unit both are in (each None when the sentence does not say)."""

    baseline: float | None = None
    target: float | None = None
    unit: str | None = None

    @property
    def complete(self) -> bool:
        return self.baseline is not None and self.target is not None


def parse_number(text: Any) -> float | None:
    """A number as typed: "12", "4.5", "1,200", "30%", "$4.50", " 7 "; None for
    anything else (words, "12-15", two numbers, NaN, infinity, booleans)."""
    if isinstance(text, bool) or text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text) if math.isfinite(text) else None
    if not isinstance(text, str):
        return None
    raw = text.strip()
    match = re.fullmatch(rf"(?P<sign>[-+−])?\s?[$€£]?\s?(?P<n>{_NUM})\s?%?", raw)
    if not match:
        return None
    value = float(match.group("n").replace(",", ""))
    return -value if match.group("sign") in ("-", "−") else value


def _value(token: str) -> float:
    match = _NUMBER.search(token)
    assert match is not None  # the patterns only hand over tokens holding a number
    return float(match.group("n").replace(",", ""))


def _unit_of(token: str, after: str) -> str | None:
    """The unit of a number: its currency sign or %, else the words after it up to a
    stop word ("6 minutes per ticket" -> "minutes per ticket")."""
    match = _NUMBER.search(token)
    if match and match.group("cur"):
        return match.group("cur")
    if match and match.group("pct"):
        return "%"
    words: list[str] = []
    for word in re.findall(r"[^\W\d_][\w'/-]*|%", after):
        low = word.lower()
        if low == "per" and words:
            words.append(low)
            continue
        if low in _UNIT_STOP:
            break
        words.append(low)
        if len(words) >= _UNIT_KEEP:
            break
    while words and words[-1] == "per":
        words.pop()
    unit = " ".join(words)
    return unit[:UNIT_MAX] if unit else None


def _rounded(value: float) -> float:
    return float(round(value, 4))


def read_metric(text: str | None) -> MetricReading:
    """Read the baseline, target and unit from a metric sentence ("from 12 to 6
    minutes", "raise CSAT from 4.1 to 4.5", "under 2 hours, today 5", "cut handling
    time by 30% from 10 minutes"). What the sentence does not say stays None."""
    if not text or not isinstance(text, str):
        return MetricReading()
    sentence = " ".join(text.split())
    m = _FROM_TO.search(sentence)
    if m:
        tail = sentence[m.end("t") :]
        unit = _unit_of(m.group("t"), tail) or _unit_of(m.group("b"), m.group("bu"))
        return MetricReading(_value(m.group("b")), _value(m.group("t")), unit)
    m = _TO_FROM.search(sentence)
    if m:
        unit = _unit_of(m.group("t"), m.group("tu")) or _unit_of(m.group("b"), sentence[m.end("b") :])
        return MetricReading(_value(m.group("b")), _value(m.group("t")), unit)
    m = _PERCENT_CHANGE.search(sentence)
    if m:
        base = _baseline(sentence)
        if base is not None:
            share = float(m.group("p").replace(",", "")) / 100
            down = re.match(_DOWN_VERBS, m.group("verb"), re.IGNORECASE) is not None
            target = base[0] * (1 - share if down else 1 + share)
            return MetricReading(base[0], _rounded(target), base[1])
    m = _HALVE.search(sentence)
    if m:
        base = _baseline(sentence)
        if base is not None:
            factor = 0.5 if m.group("verb").lower().startswith(("halv", "cut")) else 2.0
            return MetricReading(base[0], _rounded(base[0] * factor), base[1])
    m = _THRESHOLD.search(sentence)
    if m:
        unit = _unit_of(m.group("t"), m.group("tu"))
        base = _baseline(sentence, skip=(m.start("t"), m.end("t")))
        return MetricReading(base[0] if base else None, _value(m.group("t")), unit or (base[1] if base else None))
    m = _ARROW.search(sentence)
    if m:
        return MetricReading(_value(m.group("b")), _value(m.group("t")), _unit_of(m.group("t"), sentence[m.end() :]))
    m = _TARGET_WORD.search(sentence)
    if m:
        base = _baseline(sentence, skip=(m.start("t"), m.end("t")))
        unit = _unit_of(m.group("t"), sentence[m.end("t") :])
        return MetricReading(base[0] if base else None, _value(m.group("t")), unit or (base[1] if base else None))
    base = _baseline(sentence)
    if base is None:
        return MetricReading()
    # "Handle 500 invoices a day, currently 300": the value today and one other number
    others = [n for n in _NUMBER.finditer(sentence) if not (n.start() < base[2][1] and base[2][0] < n.end())]
    if len(others) == 1:
        other = others[0]
        unit = base[1] or _unit_of(other.group(0), sentence[other.end() :])
        return MetricReading(base[0], _value(other.group(0)), unit)
    return MetricReading(base[0], None, base[1])


def _baseline(sentence: str, skip: tuple[int, int] | None = None) -> tuple[float, str | None, tuple[int, int]] | None:
    """The value today ("from 10 minutes", "today 5", "currently 40%", "5 hours today"),
    its unit and where it stands in the sentence."""
    for pattern in (_BASE_FROM, _BASE_NOW):
        for m in pattern.finditer(sentence):
            group = "b" if m.group("b") else "b2"
            if skip is not None and m.start(group) < skip[1] and skip[0] < m.end(group):
                continue
            unit = _unit_of(m.group(group), sentence[m.end(group) :])
            return _value(m.group(group)), unit, (m.start(group), m.end(group))
    return None


# --------------------------------------------------------------------------- judging a value


IMPROVING: Final = "improving"
FLAT: Final = "flat"
WORSENING: Final = "worsening"


def direction(baseline: float | None, target: float | None) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when unknown or equal."""
    if baseline is None or target is None or baseline == target:
        return 0
    return 1 if target > baseline else -1


def meets_target(value: float | None, baseline: float | None, target: float | None) -> bool:
    """A value at or beyond the target in the direction from the baseline."""
    way = direction(baseline, target)
    if value is None or target is None or way == 0:
        return False
    return value >= target if way > 0 else value <= target


def trend(latest: float | None, previous: float | None, baseline: float | None, target: float | None) -> str | None:
    """Whether the latest value moved towards the target (from the previous check-in, or
    from the baseline when it is the first): improving, flat or worsening; None when
    there is no direction or no number to compare."""
    way = direction(baseline, target)
    before = previous if previous is not None else baseline
    if way == 0 or latest is None or before is None:
        return None
    step = (latest - before) * way
    return IMPROVING if step > 0 else WORSENING if step < 0 else FLAT


def show_number(value: float | None) -> str:
    """12.0 -> "12", 4.5 -> "4.5", None -> "-"."""
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0").rstrip(".")


def with_unit(value: float | None, unit: str | None) -> str:
    """ "6 minutes", "40%", "$4"."""
    shown = show_number(value)
    if not unit or value is None:
        return shown
    if unit in ("$", "€", "£"):
        return f"{unit}{shown}"
    return f"{shown}{unit}" if unit == "%" else f"{shown} {unit}"


def standing(
    latest: float | None, previous: float | None, baseline: float | None, target: float | None, unit: str | None
) -> dict[str, Any]:
    """A running workflow's latest value against its target, JSON-ready: `latest`,
    `baseline`, `target`, `unit`, `meets_target`, `trend`."""
    return {
        "latest": latest,
        "baseline": baseline,
        "target": target,
        "unit": unit,
        "meets_target": meets_target(latest, baseline, target),
        "trend": trend(latest, previous, baseline, target),
    }


def standing_line(s: dict[str, Any]) -> str:
    """ "11 minutes against target 6 minutes (from 12): improving"."""
    unit = s.get("unit")
    head = "no numeric check-in yet" if s.get("latest") is None else with_unit(s["latest"], unit)
    if s.get("target") is None:
        return f"{head}; no target set"
    line = f"{head} against target {with_unit(s['target'], unit)}"
    if s.get("baseline") is not None:
        line += f" (from {with_unit(s['baseline'], unit)})"
    if s.get("meets_target"):
        line += ", target met"
    if s.get("trend"):
        line += f": {s['trend']}"
    return line
