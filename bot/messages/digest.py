"""The digest as a neutral message and as the `govbot digest --json` record."""

from __future__ import annotations

from typing import Any

from bot.domain.records import DigestRow
from bot.messages.message import DIGEST_POST, DIGEST_REGENERATE, Button, Message, Section, user_text

SECTION_MAX = 2900  # Slack's section text limit is 3000 characters


def digest_json(row: DigestRow) -> dict[str, Any]:
    """The digest record of `govbot digest --json` (DESIGN.md keys, in that order)."""
    return {
        "id": row.id,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "facts": row.facts,
        "prompt_name": row.prompt_name,
        "prompt_version": row.prompt_version,
        "model": row.model,
        "text": row.text,
        "tokens_in": row.tokens_in,
        "tokens_out": row.tokens_out,
        "latency_ms": row.latency_ms,
        "status": row.status,
        "fallback_reason": row.fallback_reason,
        "posted_to": list(row.posted_to),
    }


def digest_message(row: DigestRow, *, review: bool = False, note: str | None = None) -> Message:
    """The digest as a neutral message; with `review`, the Post / Regenerate buttons.
    The draft quotes user-written titles and values (and an LLM wrote it), so all of its
    text is marked as user-written: no renderer turns any of it into a link or mention."""
    lines = row.text.splitlines() or [""]
    headline = user_text(lines[0][:300])
    sections = [Section(None, user_text(chunk)) for chunk in _chunks("\n".join(lines[1:]).strip())]
    by = "govbot's template writer" if row.model == "template" else f"{row.model}, checked against the facts"
    footer = f"Digest #{row.id}, written by {by}."
    head = (row.audit_head or "").split()
    if len(head) == 2:  # "#<id> <sha256>", published where people keep it: a later rewrite shows
        footer += f" Audit chain head {head[0]} ({head[1][:16]})."
    if review:
        footer += " Review it, then post it to the digest channels or ask for a new draft."
    sections.append(Section(None, footer + (f"\n{note}" if note else "")))
    buttons: tuple[Button, ...] = ()
    if review:
        buttons = (
            Button(DIGEST_POST, "Post", str(row.id), "primary"),
            Button(DIGEST_REGENERATE, "Regenerate", str(row.id)),
        )
    return Message(kind="digest", text=headline, sections=tuple(sections), buttons=buttons, meta={"digest_id": row.id})


def _chunks(text: str) -> list[str]:
    out: list[str] = []
    for para in text.split("\n\n"):
        para = para.strip()
        while len(para) > SECTION_MAX:
            cut = para.rfind("\n", 0, SECTION_MAX)
            cut = cut if cut > 0 else SECTION_MAX
            out.append(para[:cut])
            para = para[cut:].strip()
        if para:
            out.append(para)
    return out
