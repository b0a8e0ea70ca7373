"""The messages of `assess <id>`: what the questions are about, nothing left to ask,
and what the answers changed."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.usertext import user_text
from bot.messages.compose import ROLE_LABEL, clip
from bot.messages.message import Message, Section

BASIS_SHOWN = 4


def _basis(basis: Sequence[str]) -> str:
    shown = "; ".join(user_text(b) for b in basis[:BASIS_SHOWN])  # they quote the proposal's words
    more = len(basis) - BASIS_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def form_intro(
    proposal_id: int, title: str, tier: str, basis: Sequence[str], settled: Sequence[str], asked: int
) -> Message:
    """Above the questions: the tier as it stands, and what the words already settled."""
    sections = [Section("EU AI Act tier now", clip(f"{tier} — basis: {_basis(basis)}", 2000))]
    if settled:
        sections.append(
            Section(
                "Already settled by the words (answers never lower these)",
                "\n".join(f"• {user_text(line)}" for line in settled),
            )
        )
    return Message(
        kind="assess_form",
        text=f"#{proposal_id} {user_text(title)}: {asked} regulatory question{'s' if asked != 1 else ''} decide "
        "its EU AI Act tier. Your answers are stored and the proposal is re-classified.",
        sections=tuple(sections),
        meta={"proposal_id": proposal_id},
    )


def nothing_to_ask(proposal_id: int, title: str, tier: str, basis: Sequence[str], answered: bool) -> Message:
    """No question is left that would change the tier."""
    why = (
        "all regulatory questions that decide its tier are answered"
        if answered
        else "no answer could change its tier: the words settle it"
    )
    return Message(
        kind="assess_nothing",
        text=f"Nothing to ask for #{proposal_id} {user_text(title)}: {why}; tier {tier}, basis: {_basis(basis)}.",
        meta={"proposal_id": proposal_id},
    )


def assessed(
    proposal_id: int,
    title: str,
    tier: tuple[str | None, str | None],
    risk: tuple[str, str],
    basis: Sequence[str],
    opened: Sequence[tuple[str, str | None]],
    stage: tuple[str, str],
    note: str | None,
) -> Message:
    """The answers are stored: the tier and risk before and after, the approvals asked."""
    changed = tier[0] != tier[1]
    text = (
        f"Regulatory answers for #{proposal_id} {user_text(title)} stored. EU AI Act tier "
        + (f"{tier[0] or '-'} -> {tier[1]}" if changed else f"stays {tier[1]}")
        + (f"; risk {risk[0]} -> {risk[1]}" if risk[0] != risk[1] else f"; risk stays {risk[1]}")
        + "."
    )
    lines = [f"Basis: {_basis(basis)}"]
    if opened:
        asked = ", ".join(
            ROLE_LABEL.get(role, role) + (f" ({user_text(dept)})" if dept else "") for role, dept in opened
        )
        lines.append(f"Approval is asked again of: {asked}.")
    if stage[0] != stage[1]:
        lines.append(f"It moves from {stage[0]} back to {stage[1]} until they decide.")
    if note:
        lines.append(note)
    return Message(
        kind="assessed",
        text=text,
        sections=(Section(None, clip("\n".join(lines), 3000)),),
        meta={"proposal_id": proposal_id},
    )
