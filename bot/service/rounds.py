"""Rounds of approval: which revision an approval card shows, and what changed since
the revision its approvers saw.

The answers and the verdict of every revision are stored (`proposal_revisions`,
`classifications.revision`); a request records the revision its card last showed
(`shown_revision`) and the one its approvers saw before that (`since_revision`) — on
this request when it was kept across a resubmission, or on the earlier request for the
same role (and department) when the role is asked again. The card shows the changes
between `since_revision` and the proposal's current revision, and so does every
refresh of it.
"""

from __future__ import annotations

from bot.domain.proposal_diff import RoundChanges, round_changes
from bot.domain.records import ApprovalRequestRow, ProposalRow
from bot.ports import UnitOfWork


def show(uow: UnitOfWork, proposal: ProposalRow, request: ApprovalRequestRow) -> RoundChanges | None:
    """Record that `request`'s card now shows the proposal's current revision (in the
    caller's unit of work) and return the changes the card shows, if any."""
    if request.kind != "proposal":
        return None
    now = proposal.revision
    if request.shown_revision != now:
        seen = request.shown_revision if request.shown_revision is not None else _seen_by_role(uow, request, now)
        request.since_revision = seen
        request.shown_revision = now
        uow.approvals.mark_shown(request)
    return changes_for(uow, proposal, request)


def _seen_by_role(uow: UnitOfWork, request: ApprovalRequestRow, now: int) -> int | None:
    """The latest revision an earlier request for the same role showed (None when the
    role was never asked about an earlier revision)."""
    if now == 1:
        return None  # a first submission: no earlier revision to have seen
    seen = [
        r.shown_revision
        for r in uow.approvals.for_proposal(request.proposal_id)
        if r.id != request.id
        and r.kind == "proposal"
        and (r.role, r.department) == (request.role, request.department)
        and r.shown_revision is not None
        and r.shown_revision < now
    ]
    return max(seen, default=None)


def changes_for(uow: UnitOfWork, proposal: ProposalRow, request: ApprovalRequestRow) -> RoundChanges | None:
    """The changes `request`'s card shows (None on a first look or an autonomy step)."""
    since = request.since_revision
    if request.kind != "proposal" or since is None or since >= proposal.revision:
        return None
    return between(uow, proposal, since)


def between(uow: UnitOfWork, proposal: ProposalRow, since: int) -> RoundChanges | None:
    """The changes from revision `since` to the proposal's current one: the answers of
    each revision, the latest verdict of each (None when `since` is not stored)."""
    answers = {r.revision: r.answers for r in uow.proposals.revisions(proposal.id)}
    if since not in answers:
        return None
    before = uow.classifications.at_revision(proposal.id, since)
    after = uow.classifications.latest(proposal.id)
    return round_changes(
        since,
        proposal.revision,
        answers[since],
        proposal.answers or {},
        before.result if before else None,
        after.result if after else None,
    )


def since_last(uow: UnitOfWork, proposal: ProposalRow) -> RoundChanges | None:
    """For `status`: the changes from the previous revision to the current one."""
    return between(uow, proposal, proposal.revision - 1) if proposal.revision > 1 else None
