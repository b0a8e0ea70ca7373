"""The "Report an AI incident" form every channel shows (Slack message shortcut, Teams
message action): its fields, the severity choices, and the text it starts with."""

from __future__ import annotations

from bot.domain.incidents import SEVERITIES, TEXT_MAX, prefill, proposal_in

TITLE = "Report an AI incident"
INTRO = "Tell the owner and governance what an AI workflow did."
PROPOSAL_LABEL = "Which workflow (proposal id)"
PROPOSAL_HINT = "The number shown as #N in govbot's messages; see `mine` or `portfolio`."
SEVERITY_LABEL = "Severity"
TEXT_LABEL = "What happened"
SEVERITY_CHOICES = (
    ("low", "Low: a nuisance, no harm done"),
    ("medium", "Medium: some harm, the workflow may keep running"),
    ("high", "High: real harm; pauses a running workflow"),
)
# the form field a core UsageError is about (its message starts with the field's name)
FIELD_OF_ERROR = {"id": "proposal", "severity": "severity", "what happened": "text"}

__all__ = [
    "FIELD_OF_ERROR",
    "INTRO",
    "PROPOSAL_HINT",
    "PROPOSAL_LABEL",
    "SEVERITIES",
    "SEVERITY_CHOICES",
    "SEVERITY_LABEL",
    "TEXT_LABEL",
    "TEXT_MAX",
    "TITLE",
    "error_field",
    "prefill",
    "proposal_in",
]


def error_field(message: str) -> str:
    """Which field of the form a UsageError message names (`text` when unsure)."""
    return FIELD_OF_ERROR.get(message.split(":", 1)[0], "text")
