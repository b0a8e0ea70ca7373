"""Button listeners: approvals, edit after "changes requested", digest review, check-ins.

Every listener acks first, then calls the core off the event loop and shows the
result: the approval message is replaced in place, refusals and notices go only to
the person who clicked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.records import InboundAction
from bot.messages import message as msg
from bot.service.results import DecisionOutcome
from handlers.guard import parse_id
from handlers.slack.app import SlackFrontEnd, user_of
from handlers.slack.blocks import home_view, proposal_modal, render
from handlers.slack.forms import checkin_modal, decision_modal
from handlers.slack.intake import open_interview

logger = logging.getLogger(__name__)

OVERRIDE = "approval.override"  # value = "<request id>:<decision>"; opens the decision modal with a reason field


def register(fe: SlackFrontEnd) -> None:
    """Add the button listeners to `fe.bolt`."""
    bolt = fe.bolt

    @bolt.action(msg.APPROVE)
    async def on_approve(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("recording your approval", fe.reporter(body, respond), ack):
            request_id = _int(action["value"])
            recorded = await record_decision(fe, body, click_key(body, action), request_id, "approve")
            await ack()  # only once the click is recorded: acknowledged means done
            if recorded is not None:
                await decide(fe, body, respond, request_id, "approve", recorded=recorded)

    async def ask_comment(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("opening the decision form", fe.reporter(body, respond), ack):
            await ack()
            if action["action_id"] == OVERRIDE:
                rid_text, _, decision = action["value"].partition(":")
            else:
                rid_text, decision = (
                    action["value"],
                    "reject" if action["action_id"] == msg.REJECT else "request_changes",
                )
            request_id = _int(rid_text)
            form = await fe.call(fe.core.decision_form, user_of(body), request_id, decision)
            if form.refusal is not None:
                # refused (and audited) or already decided, told privately, without a form to fill in first
                await decide(fe, body, respond, request_id, decision)
                return
            view = decision_modal(form, _message_ref(body))
            await fe.client.views_open(trigger_id=body["trigger_id"], view=view)

    bolt.action(msg.REJECT)(ask_comment)
    bolt.action(msg.REQUEST_CHANGES)(ask_comment)
    bolt.action(OVERRIDE)(ask_comment)

    @bolt.action(msg.REASSESSMENT_CONFIRM)
    async def on_reassessment_confirm(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("recording your review", fe.reporter(body, respond), ack):
            await ack()
            result = await fe.call(fe.core.confirm_reassessment, user_of(body), _int(action["value"]))
            await _show(fe, body, respond, result)

    async def on_edit(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("reopening your proposal", fe.reporter(body, respond), ack):
            await ack()
            user = user_of(body)
            start = await fe.call(fe.core.edit_seed, user, _int(action["value"]))  # Refused is reported
            await open_interview(fe, fe.client, body["trigger_id"], user, start)

    bolt.action(msg.EDIT_PROPOSAL)(on_edit)
    bolt.action(msg.REASSESSMENT_EDIT)(on_edit)

    @bolt.action(msg.FULL_PROPOSAL)
    async def on_full_proposal(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("opening the full proposal", fe.reporter(body, respond), ack):
            await ack()
            whole = await fe.call(fe.core.full_proposal, _int(action["value"]), user_of(body))  # Refused is reported
            await fe.client.views_open(trigger_id=body["trigger_id"], view=proposal_modal(whole))

    @bolt.action(msg.CHECKIN_OPEN)
    async def on_checkin(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("opening the check-in form", fe.reporter(body, respond), ack):
            await ack()
            await fe.client.views_open(trigger_id=body["trigger_id"], view=checkin_modal(_int(action["value"])))

    async def on_digest(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("handling the digest", fe.reporter(body, respond), ack):
            await ack()
            fn = fe.core.post_digest if action["action_id"] == msg.DIGEST_POST else fe.core.regenerate_digest
            result = await fe.call(fn, user_of(body), _int(action["value"]))
            if isinstance(result, msg.Message):
                await _show(fe, body, respond, result)
            else:
                await fe.reporter(body, respond)(str(getattr(result, "notice", None) or "Done."))

    bolt.action(msg.DIGEST_POST)(on_digest)
    bolt.action(msg.DIGEST_REGENERATE)(on_digest)

    @bolt.action(msg.POLICY_APPLY)
    async def on_policy_apply(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async with fe.work("applying the policy", fe.reporter(body, respond), ack):
            await ack()
            result = await fe.call(fe.core.confirm_policy, user_of(body), _int(action["value"]))
            await _show(fe, body, respond, result)


def click_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    """What identifies one click across Slack's deliveries of it: who, when, which button."""
    return ":".join(
        str(part)[:60]
        for part in (user_of(body), action.get("action_ts"), action.get("action_id"), action.get("value"))
    )


async def record_decision(
    fe: SlackFrontEnd,
    body: dict[str, Any],
    key: str,
    request_id: int,
    decision: str,
    comment: str | None = None,
    override_reason: str | None = None,
    where: dict[str, Any] | None = None,
) -> InboundAction | None:
    """Record a decision (committed) before Slack is told it was received; None when
    this click was recorded before (whoever holds it finishes it)."""
    in_place = _in_place(where or _message_ref(body))
    payload = {
        "request_id": request_id,
        "decision": decision,
        "comment": comment,
        "override_reason": override_reason,
        "in_place": in_place,
    }
    return await fe.desk.receive("slack", key, user_of(body), "decide", payload)


async def decide(
    fe: SlackFrontEnd,
    body: dict[str, Any],
    respond: Any,
    request_id: int,
    decision: str,
    comment: str | None = None,
    override_reason: str | None = None,
    where: dict[str, Any] | None = None,
    report: Callable[[str], Awaitable[Any]] | None = None,
    recorded: InboundAction | None = None,
) -> DecisionOutcome:
    """Record a decision and show it: the clicked card replaced in place (here, once:
    the outbox updates only the other copies), a notice to the actor only. With
    `recorded` (see `record_decision`), the decision is made from that record."""
    user = user_of(body)
    in_place = _in_place(where or _message_ref(body))
    outcome = await fe.desk.process(recorded.id) if recorded is not None else None
    if outcome is None:  # not recorded first, or its record was finished elsewhere: idempotent per request
        outcome = await fe.call(fe.core.decide, user, request_id, decision, comment, override_reason, in_place=in_place)
    report = report or fe.reporter(body, respond)
    if outcome.status == "refused":
        await report(outcome.notice)
        if outcome.may_override and not override_reason:
            await _offer_override(fe, body, respond, request_id, decision)
        return outcome
    notice = outcome.notice
    if in_place is not None:
        try:
            await fe.client.chat_update(channel=in_place["channel"], ts=in_place["ts"], **render(outcome.card))
        except Exception as exc:  # the decision is recorded: say so, not "failed"; the outbox takes the card over
            logger.warning("slack: approval card %s not replaced: %s", request_id, type(exc).__name__)
            notice += " (Slack did not let me update the approval message just now; the decision stands.)"
            if outcome.status == "recorded":
                await fe.call(fe.core.card_not_replaced, request_id, in_place)
    if _in_home(body):
        await refresh_home(fe, user)
    await report(notice)
    return outcome


async def _offer_override(
    fe: SlackFrontEnd, body: dict[str, Any], respond: Any, request_id: int, decision: str
) -> None:
    """Governance members may still decide, with a written reason: offer the form."""
    offer = msg.Message(
        kind="override_offer",
        text="Governance members can decide for the routed approver with a written reason.",
        buttons=(msg.Button(OVERRIDE, "Decide as governance", f"{request_id}:{decision}"),),
    )
    if respond is not None and body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, **render(offer))


async def refresh_home(fe: SlackFrontEnd, user: str) -> None:
    """Re-publish the user's App Home."""
    message = await fe.call(fe.core.home, user)
    await fe.client.views_publish(user_id=user, view=home_view(message))


async def _show(fe: SlackFrontEnd, body: dict[str, Any], respond: Any, message: msg.Message) -> None:
    if respond is not None and body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, **render(message))
    else:
        await fe.client.chat_postMessage(channel=user_of(body), **render(message))


def _message_ref(body: dict[str, Any]) -> dict[str, Any]:
    """Where the clicked message is ({} when the button was not on a message)."""
    container = body.get("container") or {}
    if container.get("type") == "message" and not container.get("is_ephemeral"):
        return {
            "channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
            "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
        }
    return {}


def _in_place(where: dict[str, Any]) -> dict[str, str] | None:
    """The clicked message's reference when it is a message the core may replace."""
    if where.get("channel") and where.get("ts"):
        return {"channel": str(where["channel"]), "ts": str(where["ts"])}
    return None


def _in_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def _int(value: Any) -> int:
    return parse_id(value, "button value")
