"""Messages the core queues: approval cards, notices to requesters and owners (through the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.approval_rules import delegating
from bot.domain.records import ApprovalRequestRow, OutboxRow, ProposalRow
from bot.messages import compose
from bot.messages.message import Message
from bot.service import notify
from bot.service.roles import request_holders


def queue(
    core: Any,
    uow: Any,
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
    channel = notify.channel_for(uow, core.settings, recipient, proposal)
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
    uow: Any,
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


def channel_for(uow: Any, settings: Any, user: str, proposal: ProposalRow | None) -> str:
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


def send(
    uow: Any, settings: Any, proposal: ProposalRow, recipient: str, message: Message, now: datetime, **keys: Any
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
    enqueue(uow, channel_for(uow, settings, recipient, proposal), recipient, message, now, **keys)


def tell_requester(
    uow: Any,
    settings: Any,
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
    other holders of the routed role."""
    return f"approval:{request.id}" if user == request.approver else f"approval:{request.id}:{user}"


def _card_dedupe(request: ApprovalRequestRow, user: str, tag: str = "") -> str:
    base = f"approval:{request.id}" if user == request.approver else f"approval:{request.id}:holder:{user}"
    return f"{base}:{tag}" if tag else base


def queue_request(
    uow: Any,
    settings: Any,
    proposal: ProposalRow,
    request: ApprovalRequestRow,
    result: dict[str, Any] | None,
    now: datetime,
    card: Message | None = None,
) -> None:
    """The approval request card to every holder of the routed role (once per request
    and holder, each copy under its own ref key so it can be updated in place), and a
    copy to anyone they delegated to for now. `card` replaces the standard card."""
    similar: list[Any] | None = None  # near-duplicates on every card, read once when needed
    if card is None:
        similar = uow.similarity.linked(proposal.id, limit=SIMILAR_SHOWN)
        card = compose.approval_request_card(proposal, request, result, similar=similar)
    people = request_holders(uow, settings, request)
    for user in people:
        key = card_key(request, user)
        send(uow, settings, proposal, user, card, now, ref_key=key, dedupe_key=_card_dedupe(request, user))
    for user in delegating(request, people):
        for delegation in uow.delegations.active_for(user, now):  # a copy for an active delegate
            if delegation.delegate_id in people:
                continue
            if similar is None:
                similar = uow.similarity.linked(proposal.id, limit=SIMILAR_SHOWN)
            copy = compose.approval_request_card(proposal, request, result, delegate_of=user, similar=similar)
            send(
                uow,
                settings,
                proposal,
                delegation.delegate_id,
                copy,
                now,
                dedupe_key=f"approval:{request.id}:delegate:{delegation.delegate_id}",
            )


def update_card(
    uow: Any, settings: Any, proposal: ProposalRow, request: ApprovalRequestRow, card: Message, now: datetime, tag: str
) -> None:
    """Replace the approval message in place: the routed approver's (posted anew if it
    never went out) and every other current holder's copy that went out."""
    pending: set[str] | None = None  # ref keys of copies still in the outbox
    for user in request_holders(uow, settings, request):
        key = card_key(request, user)
        if user != request.approver and uow.message_refs.get(key) is None:
            if pending is None:
                pending = {row.ref_key for row in uow.outbox.pending_for_proposal(proposal.id) if row.ref_key}
            if key not in pending:
                continue  # this holder never got a copy (e.g. named after it went out)
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
