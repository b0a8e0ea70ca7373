"""Platform-neutral messages.

The core returns these; `handlers/slack` renders them as Block Kit, `handlers/teams`
as Adaptive Cards and `handlers/console` as text. They round-trip through JSON so the
outbox can store them.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

# What the core wrote vs what people typed: compose functions wrap user-written text
# with `user_text()`; renderers escape those spans (`spans()`), plain text drops the marks.
from bot.domain.usertext import plain as plain
from bot.domain.usertext import spans as spans
from bot.domain.usertext import user_text as user_text

# Button action ids (DESIGN.md, Chat interfaces). Renderers use them verbatim as the
# Slack `action_id` and the Teams `Action.Execute` verb.
APPROVE = "approval.approve"
REJECT = "approval.reject"
REQUEST_CHANGES = "approval.request_changes"
EDIT_PROPOSAL = "proposal.edit"  # value = proposal id; reopens the interview prefilled
DIGEST_POST = "digest.post"  # value = digest id
DIGEST_REGENERATE = "digest.regenerate"  # value = digest id
CHECKIN_OPEN = "checkin.open"  # value = proposal id; asks for a metric value
POLICY_APPLY = "policy.apply"  # value = candidate policy id; governance applies it
REASSESSMENT_CONFIRM = "reassessment.confirm"  # value = reassessment id; the answers still hold
REASSESSMENT_EDIT = "reassessment.edit"  # value = proposal id; reopens the interview prefilled
FULL_PROPOSAL = "proposal.full"  # value = proposal id; shows every answer (Slack modal, Teams card, `proposal <id>`)
ASSESS_OPEN = "assess.open"  # value = proposal id; asks the owner the regulatory questions that apply


@dataclass(frozen=True)
class Button:
    action: str
    label: str
    value: str
    style: str | None = None  # "primary" | "danger" | None


@dataclass(frozen=True)
class Section:
    """A block of the message: optional heading, text lines and label/value facts."""

    title: str | None = None
    text: str = ""
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Message:
    """What a person sees. `text` is the one-line fallback (notifications, logs)."""

    kind: str
    text: str
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    image_png: str | None = None  # name of an attachment kind, e.g. "portfolio_chart"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # what asdict() gives, built directly (asdict deep-copies every section first)
        return {
            "kind": self.kind,
            "text": self.text,
            "sections": [
                {"title": s.title, "text": s.text, "fields": [list(f) for f in s.fields]} for s in self.sections
            ],
            "buttons": [asdict(b) for b in self.buttons],
            "image_png": self.image_png,
            "meta": copy.deepcopy(self.meta),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            kind=data["kind"],
            text=data["text"],
            sections=tuple(
                Section(s.get("title"), s.get("text", ""), tuple(tuple(f) for f in s.get("fields", ())))
                for s in data.get("sections", ())
            ),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            image_png=data.get("image_png"),
            meta=dict(data.get("meta") or {}),
        )

    def plain_text(self) -> str:
        """Everything in the message as plain text (console, tests, Teams fallback)."""
        lines = [self.text]
        for s in self.sections:
            if s.title:
                lines.append(s.title)
            if s.text:
                lines.append(s.text)
            lines.extend(f"{label}: {value}" for label, value in s.fields)
        if self.buttons:
            lines.append(" | ".join(f"[{b.label}]" for b in self.buttons))
        return plain("\n".join(lines))
