"""The `proposals.sprawl_key` of a classified proposal.

The key (`bot.domain.portfolio.sprawl_signature`) combines the effective actions of the
classification with the proposal's significant title words, so `store.facts` can find
AI sprawl with one GROUP BY. `SqlClassificationRepo.add` writes it with every
classification; bulk loaders (bench seeding) call `sprawl_key_for` themselves.
"""

from __future__ import annotations

from typing import Any

from bot.domain.portfolio import sprawl_signature


def sprawl_key_for(title: str, classification: dict[str, Any] | None) -> str | None:
    """The key for a proposal titled `title` with this `govbot classify` result."""
    actions = ((classification or {}).get("effective") or {}).get("actions") or []
    return sprawl_signature(title, actions)
