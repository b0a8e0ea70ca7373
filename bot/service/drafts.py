"""Unfinished interviews: one draft per (channel, user), kept until it is submitted
or discarded."""

from __future__ import annotations

from typing import Any

from bot.domain.records import InterviewDraft
from bot.domain.usertext import strip_nul
from bot.ports import Clock, UnitOfWork


def load_draft(uow: UnitOfWork, channel: str, actor: str) -> dict[str, Any] | None:
    """The unfinished interview: {"answers", "step", "proposal_id", "updated_at"}."""
    with uow:
        draft = uow.drafts.get(channel, actor)
    if draft is None:
        return None
    return {
        "answers": dict(draft.answers or {}),
        "step": draft.step,
        "proposal_id": draft.proposal_id,
        "updated_at": draft.updated_at.isoformat(),
    }


def save_draft(
    uow: UnitOfWork,
    clock: Clock,
    channel: str,
    actor: str,
    answers: dict[str, Any],
    step: str | None,
    proposal_id: int | None = None,
) -> None:
    clean = {str(k): strip_nul(v) for k, v in answers.items()}  # unfinished typing: drop NULs, keep the rest
    with uow:
        uow.drafts.put(InterviewDraft(channel, actor, clean, step, proposal_id, clock.now()))
        uow.commit()


def discard_draft(uow: UnitOfWork, channel: str, actor: str) -> None:
    with uow:
        uow.drafts.delete(channel, actor)
        uow.commit()
