"""Stored records built directly (for store and message tests that need a row as the
store holds it, without going through submit and decide)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.domain.records import ApprovalRequestRow, DecisionRow, ProposalRow
from tests.support.clock import T0
from tests.support.proposals import make_proposal


def proposal_row(**changes: Any) -> ProposalRow:
    """A proposal in review, as the store holds it; its answers are the factory's
    proposal (under the row's title)."""
    title = changes.get("title", "Refund drafts")
    row = ProposalRow(
        id=0,
        title=title,
        requester="UREQ",
        channel="slack",
        department="Finance",
        owner="UOWN",
        stage="in_review",
        risk_level="high",
        capacity="incremental",
        autonomy="draft_only",
        eu_tier="minimal",
        revision=1,
        answers=make_proposal(title=title),
        created_at=T0,
        updated_at=T0,
        stage_changed_at=T0,
    )
    return replace(row, **changes)


def request_row(proposal_id: int, **changes: Any) -> ApprovalRequestRow:
    """A pending finance approval request of round 1."""
    row = ApprovalRequestRow(
        id=0,
        proposal_id=proposal_id,
        role="finance",
        department="Finance",
        approver="UFIN",
        kind="proposal",
        target=None,
        round=1,
        status="pending",
        note=None,
        created_at=T0,
    )
    return replace(row, **changes)


def decision_row(request_id: int, **changes: Any) -> DecisionRow:
    """The owner's approval of a request."""
    row = DecisionRow(
        id=0,
        request_id=request_id,
        decision="approve",
        actor="UOWN",
        on_behalf_of=None,
        comment=None,
        override_reason=None,
        created_at=T0,
    )
    return replace(row, **changes)


def add_proposal(uow: Any, **changes: Any) -> ProposalRow:
    """Store `proposal_row(**changes)` through a unit of work of the factory `uow`."""
    with uow() as u:
        row = u.proposals.add(proposal_row(**changes), author=changes.get("requester", "UREQ"))
        u.commit()
    return row
