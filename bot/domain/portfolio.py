"""Portfolio summary: the sprawl signature and the neutral portfolio message.

The facts themselves are computed in SQL (`FactsReader.portfolio`, `store.facts`); this
module only turns them into a `Message` that Slack, Teams and the console render, and
names the PNG chart they can attach (`image_png="portfolio_chart"`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

CHART = "portfolio_chart"
SIGNATURE_WORDS = 2
LIST_CAP = 10  # every list in the facts holds at most this many entries (with its total)
STALE_CHECKIN_DAYS = 14  # two weekly check-in periods
SPRAWL_SHOWN = 5  # groups shown in a chat message (the facts keep up to their cap)

# Words that say nothing about what a workflow does.
_STOP_TEXT = """a an and the of for to in on at by with from into onto via per our your their its it is be are
    this that these those new using use used based driven powered assisted automatic automated automate
    automation ai genai llm gpt chatgpt copilot bot bots agent agents assistant assistants tool tools helper
    workflow workflows pilot system systems solution platform app apps project team teams internal v2 poc
    mvp smart auto"""
_STOP = frozenset(_STOP_TEXT.split())


def _stem(word: str) -> str:
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ers", ""), ("er", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def significant_words(title: str) -> list[str]:
    """The title's content words, lower-cased and stemmed, without duplicates."""
    out: list[str] = []
    for raw in re.findall(r"[^\W\d_]+", (title or "").casefold()):
        if len(raw) < 3 or raw in _STOP:
            continue
        word = _stem(raw)
        if word not in _STOP and word not in out:
            out.append(word)
    return out


def sprawl_signature(title: str, actions: Iterable[str]) -> str | None:
    """The grouping key of a proposal for AI sprawl.

    "<sorted effective actions>|<its most specific title words>": the two longest
    significant words (ties alphabetical), sorted. Proposals with the same key do the
    same things to similar subjects. None when the title has no significant word.
    """
    words = sorted(significant_words(title), key=lambda w: (-len(w), w))[:SIGNATURE_WORDS]
    if not words:
        return None
    return f"{','.join(sorted(set(actions)))}|{' '.join(sorted(words))}"[:400]


def sprawl_reason(key: str) -> str:
    """Say why proposals with this signature were grouped."""
    actions, _, words = key.partition("|")
    acts = ", ".join(actions.split(",")) if actions else "no declared or detected actions"
    shared = ", ".join(f"'{w}'" for w in words.split())
    return f"same actions ({acts}) and shared title words {shared}"


class PortfolioSettings(Protocol):
    """What the portfolio reads of `bot.settings.Settings` (the domain imports no settings)."""

    reminder_after_h: float
    purgatory_days: int

    def capacity_targets(self) -> dict[str, float]: ...


def portfolio_config(settings: PortfolioSettings) -> dict[str, Any]:
    """The `config` that `FactsReader.portfolio`/`digest` take, from the settings."""
    return {
        "list_cap": LIST_CAP,
        "capacity_targets": settings.capacity_targets(),
        "overdue_after_h": settings.reminder_after_h,
        "purgatory_days": settings.purgatory_days,
        "stale_checkin_days": STALE_CHECKIN_DAYS,
    }


# --------------------------------------------------------------------------- message
