"""What waits on one person: their own proposals and the approvals they can decide now
(`mine`, and the App Home / personal tab)."""

from __future__ import annotations

from datetime import datetime

from bot.domain import approval_rules
from bot.domain.records import ApprovalRequestRow, ProposalRow
from bot.messages import compose
from bot.messages.message import Message
from bot.ports import Clock, UnitOfWork
from bot.service import approvals, decisions, roles
from bot.settings import Settings


def mine(uow: UnitOfWork, clock: Clock, settings: Settings, actor: str, channel: str | None = None) -> Message:
    """The actor's proposals, their unfinished interview in `channel` (and how to resume
    it), and the requests waiting on them with their ids."""
    with uow:
        proposals = own_proposals(uow, actor)
        pending = waiting_on(uow, settings, actor, clock.now())
        draft = uow.drafts.get(channel, actor) if channel else None
    return compose.mine_message(actor, proposals, pending, draft)


def home(uow: UnitOfWork, clock: Clock, settings: Settings, actor: str) -> Message:
    """The actor's proposals and the approvals waiting on them, with the approval buttons."""
    now = clock.now()
    with uow:
        proposals = own_proposals(uow, actor)
        cards = [decisions.card_for(uow, settings, now, p, r, actor) for r, p in waiting_on(uow, settings, actor, now)]
    return compose.home_message(actor, proposals, cards)


def own_proposals(uow: UnitOfWork, actor: str) -> list[ProposalRow]:
    """Proposals the actor requested or owns, newest first (read in the open `uow`)."""
    seen: dict[int, ProposalRow] = {}
    for p in list(uow.proposals.by_requester(actor)) + list(uow.proposals.by_owner(actor)):
        seen.setdefault(p.id, p)
    return sorted(seen.values(), key=lambda p: p.id, reverse=True)


def waiting_on(
    uow: UnitOfWork, settings: Settings, actor: str, now: datetime
) -> list[tuple[ApprovalRequestRow, ProposalRow]]:
    """Pending requests the actor can decide now: routed to them, to a role they
    hold (any holder may decide), or to someone who delegated to them."""
    users = [actor, *uow.delegations.delegators_of(actor, now)]
    out = []
    seen: set[int] = set()
    memo: dict[tuple[bool, str, str, str], list[str]] = {}

    def holds(r: ApprovalRequestRow, user: str) -> bool:  # one directory look-up per route
        key = (approval_rules.routed_to_governance(r), r.role, (r.department or "").casefold(), r.approver)
        if key not in memo:
            memo[key] = roles.request_holders(uow, settings, r)
        return user in memo[key]

    for user in dict.fromkeys(users):
        held = sorted({a.role for a in uow.roles.roles_of(user)})
        governance = user in roles.governance_members(uow, settings)
        if governance:
            held = sorted({*held, "governance"})
        # a governance member also sees what fell back to governance because nobody held the role
        pending = uow.approvals.pending_in_roles(held, governance_fallback=governance)
        candidates = list(uow.approvals.pending_for(user)) + list(pending)
        for r in sorted(candidates, key=lambda r: r.id):
            if r.id in seen or r.status != "pending":
                continue
            if not holds(r, user):  # the directory now: a former holder no longer sees it
                continue
            if user != actor and user not in approval_rules.delegating(r, [user]):
                continue
            p = uow.proposals.get(r.proposal_id)
            if user != actor and p.requester == actor:  # a delegate never decides their own proposal
                continue
            if approvals.duty_refusal(uow, r, actor) is not None:  # separation of duties: never listed
                continue
            if decisions.not_decidable(uow, p, r) is None:
                seen.add(r.id)
                out.append((r, p))
    return out
