"""Incidents after go-live (DESIGN.md "After go-live" -> "Incidents"): the record, the
allowed values and the checks of what people type. Pure rules, no I/O.

Anyone may report an incident on a proposal; a `high` one pauses a running workflow
(`PAUSES`: pilot or production, the stages where the workflow acts on real work) in the
same transaction. The owner or governance resolves it. While any incident of a proposal
is open, `resume` and `promote` are refused, naming the incidents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import UsageError
from bot.domain.usertext import NUL, refuse_nul

SEVERITIES = ("low", "medium", "high")
STATUSES = ("open", "resolved")
PAUSES = ("pilot", "production")  # a high incident pauses a workflow in these stages
TEXT_MAX = 2000  # what happened / what was done


@dataclass
class IncidentRow:
    id: int
    proposal_id: int
    severity: str  # low | medium | high
    status: str  # open | resolved
    text: str
    reported_by: str
    created_at: datetime
    resolution: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None


def check_severity(value: object) -> str:
    """The severity as stored (`low`, `medium`, `high`, any case); UsageError naming
    the field and the allowed values otherwise."""
    word = str(value or "").strip().lower()
    if word not in SEVERITIES:
        shown = str(value or "").strip()[:40]
        got = f"{shown!r} is not a severity" if shown else "missing"
        raise UsageError(f"severity: {got}; allowed: {', '.join(SEVERITIES)}")
    return word


def check_text(value: object, field: str, what: str) -> str:
    """Typed text of an incident (`what happened`, `what was done`): not blank, no NUL,
    at most TEXT_MAX characters. Kept as typed (trimmed); renderers show it as text."""
    text = str(value or "").strip()
    refuse_nul(text, field)
    if not text:
        raise UsageError(f"{field}: say {what}")
    if len(text) > TEXT_MAX:
        raise UsageError(f"{field}: at most {TEXT_MAX} characters (got {len(text)})")
    return text


def open_ids(incidents: list[IncidentRow]) -> list[int]:
    """The ids of the open incidents, oldest first."""
    return [i.id for i in incidents if i.status == "open"]


def blocking_line(ids: list[int], label: str, action: str) -> str:
    """Why `resume` or `promote` is refused while incidents are open, naming them."""
    many = len(ids) > 1
    named = ", ".join(str(i) for i in ids)
    return (
        f"{label} has open incident{'s' if many else ''} {named}; it cannot {action} until the owner or "
        f"governance resolves {'them' if many else 'it'}: resolve <incident id> <what was done>."
    )


QUOTE_MAX = 600  # characters of the reported message quoted in "what happened"
_PROPOSAL_REF = re.compile(r"(?<![\w&])#(\d{1,9})\b")


def prefill(quote: str, link: str | None) -> str:
    """What the "Report an AI incident" form starts with: the message people noticed
    it in, quoted as plain text, and its link; the reporter writes what happened above."""
    lines = [line.strip() for line in (quote or "").replace(NUL, "").splitlines()]
    text = " ".join(line for line in lines if line)
    if len(text) > QUOTE_MAX:
        text = text[: QUOTE_MAX - 1] + "\u2026"
    parts = ["What happened: ", ""]
    if text:
        parts.append(f'Message: "{text}"')
    if link:
        parts.append(f"Link: {link[:500]}")
    return "\n".join(parts)[:TEXT_MAX]


def proposal_in(text: str | None) -> int | None:
    """The first proposal named `#N` in a message (govbot's own notices name it so)."""
    match = _PROPOSAL_REF.search(text or "")
    return int(match.group(1)) if match else None
