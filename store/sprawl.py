"""Keeps `proposals.sprawl_key` current: set whenever a proposal is classified.

The key (`bot.portfolio.sprawl_signature`) combines the effective actions of the new
classification with the proposal's significant title words, so `store.facts` can find
AI sprawl with one GROUP BY. Bulk loaders that insert rows with Core statements (bench
seeding) set the column themselves with `sprawl_key_for`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, update

from bot.portfolio import sprawl_signature
from store import models as m


def sprawl_key_for(title: str, classification: dict[str, Any] | None) -> str | None:
    """The key for a proposal titled `title` with this `govbot classify` result."""
    actions = ((classification or {}).get("effective") or {}).get("actions") or []
    return sprawl_signature(title, actions)


@event.listens_for(m.Classification, "after_insert")
def _on_classified(_mapper: Any, connection: Any, target: m.Classification) -> None:
    title = connection.execute(select(m.Proposal.title).where(m.Proposal.id == target.proposal_id)).scalar()
    if title is None:
        return
    key = sprawl_key_for(title, target.result)
    connection.execute(update(m.Proposal).where(m.Proposal.id == target.proposal_id).values(sprawl_key=key))
