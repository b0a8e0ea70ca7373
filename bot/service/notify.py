"""Putting messages in the outbox: where a user is reached, and the approval card's copies.

Everything here writes outbox rows in the caller's unit of work (the caller commits).
What to say after an approval decision is `bot.service.publish`, which turns the
decision's events into these calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.approval_rules import delegating, may_be_asked
from bot.domain.records import ApprovalRequestRow, OutboxRow, ProposalRow
from bot.domain.similarity import Match
from bot.messages import compose
from bot.messages.message import Message
from bot.ports import UnitOfWork
from bot.service import rounds
from bot.service.roles import request_holders
from bot.settings import Settings

MessageRef = dict[str, Any]  # a channel's reference of a delivered message, e.g. {"channel": "D1", "ts": "1.2"}


def queue(
    uow: UnitOfWork,
    settings: Settings,
    recipient: str,
    message: Message,
    at: datetime,
    *,
    proposal: ProposalRow | None = None,
    ref_key: str | None = None,
    thread_key: str | None = None,
    update_key: str | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Put one message in the outbox, in the caller's unit of work, on the channel
    that reaches `recipient` (the proposal's own channel when it has one)."""
    channel = channel_for(uow, settings, recipient, proposal)
    enqueue(
        uow,
        channel,
        recipient,
        message,
        at,
        ref_key=ref_key,
        thread_key=thread_key,
        update_key=update_key,
        dedupe_key=dedupe_key,
    )


def proposal_notice(kind: str, text: str, row: ProposalRow, **meta: Any) -> Message:
    """A plain notice about `row` (meta names the proposal)."""
    return Message(kind=kind, text=text, meta={"proposal_id": row.id, **meta})


def enqueue(
    uow: UnitOfWork,
    channel: str,
    recipient: str,
    message: Message,
    at: datetime,
    *,
    ref_key: str | None = None,
    thread_key: str | None = None,
    update_key: str | None = None,
    dedupe_key: str | None = None,
) -> OutboxRow | None:
    """Queue one message inside the caller's unit of work (the caller commits)."""
    return uow.outbox.add(
        channel,
        recipient,
        message.kind,
        message.to_json(),
        at,
        ref_key=ref_key,
        thread_key=thread_key,
        update_key=update_key,
        dedupe_key=dedupe_key,
    )


CHAT_CHANNELS = ("slack", "teams", "console")
SIMILAR_SHOWN = 3  # near-duplicates named on an approval card


def similar_on_card(uow: UnitOfWork, proposal_id: int) -> list[Match]:
    """The live near-duplicates in other departments an approval card names."""
    return uow.similarity.linked(proposal_id, limit=SIMILAR_SHOWN)


def channel_for(uow: UnitOfWork, settings: Settings, user: str, proposal: ProposalRow | None) -> str:
    """Where to reach a user: the proposal's chat channel, else where we have talked
    with them, else the configured platform, else the console."""
    if proposal is not None and proposal.channel in CHAT_CHANNELS:
        return proposal.channel
    for platform in ("teams", "slack"):
        if uow.conversations.get(platform, user) is not None:
            return platform
    if getattr(settings, "slack_bot_token", None) is not None:
        return "slack"
    if getattr(settings, "teams_enabled", False) or getattr(settings, "microsoft_app_id", None):
        return "teams"
    return "console"


def send_classification(
    uow: UnitOfWork, settings: Settings, proposal: ProposalRow, recipient: str, message: Message, now: datetime
) -> None:
    """Queue the verdict of the proposal's current revision to `recipient`: one per
    revision, and later updates of it replace the same message."""
    send(
        uow,
        settings,
        proposal,
        recipient,
        message,
        now,
        ref_key=f"classification:{proposal.id}",
        dedupe_key=f"classification:{proposal.id}:{proposal.revision}",
    )


def send(
    uow: UnitOfWork,
    settings: Settings,
    proposal: ProposalRow,
    recipient: str,
    message: Message,
    now: datetime,
    *,
    ref_key: str | None = None,
    thread_key: str | None = None,
    update_key: str | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Queue a message about `proposal` to `recipient` (meta names the proposal)."""
    if "proposal_id" not in message.meta:
        message = Message(
            message.kind,
            message.text,
            message.sections,
            message.buttons,
            message.image_png,
            {**message.meta, "proposal_id": proposal.id},
        )
    enqueue(
        uow,
        channel_for(uow, settings, recipient, proposal),
        recipient,
        message,
        now,
        ref_key=ref_key,
        thread_key=thread_key,
        update_key=update_key,
        dedupe_key=dedupe_key,
    )


def tell_requester(
    uow: UnitOfWork,
    settings: Settings,
    proposal: ProposalRow,
    notice: Message,
    now: datetime,
    dedupe_key: str,
) -> None:
    """A notice to the requester, threaded under the proposal's classification message."""
    send(
        uow,
        settings,
        proposal,
        proposal.requester,
        notice,
        now,
        thread_key=f"classification:{proposal.id}",
        dedupe_key=dedupe_key,
    )


def card_key(request: ApprovalRequestRow, user: str) -> str:
    """The ref key of `user`'s copy of the approval message: `approval:<id>` for the
    routed approver (threads and updates point at it), `approval:<id>:<user>` for the
    other holders of the routed role and for delegates."""
    return f"approval:{request.id}" if user == request.approver else f"approval:{request.id}:{user}"


def _card_dedupe(request: ApprovalRequestRow, user: str, tag: str = "") -> str:
    base = f"approval:{request.id}" if user == request.approver else f"approval:{request.id}:holder:{user}"
    return f"{base}:{tag}" if tag else base


def _delegates(uow: UnitOfWork, request: ApprovalRequestRow, people: list[str], now: datetime) -> list[tuple[str, str]]:
    """(delegate, whose delegate) for every active delegation of a holder, holders and
    the proposal's requester excluded."""
    found: dict[str, str] = {}
    requester: str | None = None  # a delegate never gets a copy of their own proposal's request
    for user in delegating(request, people):
        for delegation in uow.delegations.active_for(user, now):
            if requester is None:
                requester = uow.proposals.get(request.proposal_id).requester
            if delegation.delegate_id not in people and delegation.delegate_id != requester:
                found.setdefault(delegation.delegate_id, user)
    return list(found.items())


def queue_request(
    uow: UnitOfWork,
    settings: Settings,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    result: dict[str, Any] | None,
    now: datetime,
    card: Message | None = None,
) -> Message:
    """The approval request card to every holder of the routed role (once per request
    and holder, each copy under its own ref key so it can be updated in place), and a
    copy to anyone they delegated to for now. `card` replaces the standard card.
    Returns the card the holders got."""
    similar = similar_on_card(uow, proposal.id)  # near-duplicates on every copy, read once
    changes = rounds.show(uow, proposal, request)  # what changed since the revision this role saw
    if card is None:
        card = compose.approval_request_card(proposal, request, result, similar=similar, changes=changes)
    people = [u for u in request_holders(uow, settings, request) if may_be_asked(proposal, request, u)]
    for user in people:
        key = card_key(request, user)
        send(uow, settings, proposal, user, card, now, ref_key=key, dedupe_key=_card_dedupe(request, user))
    for delegate, holder in _delegates(uow, request, people, now):
        copy = compose.approval_request_card(
            proposal, request, result, delegate_of=holder, similar=similar, changes=changes
        )
        send(
            uow,
            settings,
            proposal,
            delegate,
            copy,
            now,
            ref_key=card_key(request, delegate),
            dedupe_key=f"approval:{request.id}:delegate:{delegate}",
        )
    return card


def card_copies(
    uow: UnitOfWork, settings: Settings, proposal: ProposalRow, request: ApprovalRequestRow, now: datetime
) -> list[tuple[str, str]]:
    """(user, ref key) of every copy of the approval message there is to update: the
    routed approver's (even if it never went out), and every other holder's or
    delegate's copy that went out or still waits in the outbox."""
    people = request_holders(uow, settings, request)
    others = [u for u in people if u != request.approver] + [d for d, _ in _delegates(uow, request, people, now)]
    copies = [(request.approver, card_key(request, request.approver))] if request.approver else []
    pending: set[str] | None = None  # ref keys of copies still in the outbox
    for user in others:
        key = card_key(request, user)
        if uow.message_refs.get(key) is None:
            if pending is None:
                pending = {row.ref_key for row in uow.outbox.pending_for_proposal(proposal.id) if row.ref_key}
            if key not in pending:
                continue  # this user never got a copy (e.g. named after it went out)
        copies.append((user, key))
    return copies


def same_message(stored: MessageRef | None, shown: MessageRef) -> bool:
    """Whether the copy stored under a ref key is the message a channel points at."""
    return stored is not None and bool(shown) and all(stored.get(k) == v for k, v in shown.items())


def update_card(
    uow: UnitOfWork,
    settings: Settings,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    card: Message,
    now: datetime,
    tag: str,
    *,
    in_place: MessageRef | None = None,
) -> None:
    """Replace every copy of the approval message in place (see `card_copies`), once
    per copy and `tag`. `in_place` is the message a channel replaces itself (the one
    that was clicked): that copy is left alone here, so it changes once."""
    for user, key in card_copies(uow, settings, proposal, request, now):
        if in_place and same_message(uow.message_refs.get(key), in_place):
            continue
        send(
            uow,
            settings,
            proposal,
            user,
            card,
            now,
            ref_key=key,
            update_key=key,
            dedupe_key=_card_dedupe(request, user, tag),
        )
