"""The "Report an AI incident" message shortcut (callback_id `incident.report`): on any
message, a modal asks which workflow, how severe and what happened (prefilled with the
message quoted as plain text and its permalink); submitting records the incident
through the core (`Govbot.report_incident`), where a high one pauses a running workflow."""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.errors import Refused, UsageError
from bot.messages import incident_form as form
from bot.messages.message import Message
from handlers.guard import parse_id
from handlers.slack import modal
from handlers.slack.app import SlackFrontEnd, user_of

logger = logging.getLogger(__name__)

SHORTCUT = "incident.report"  # the message shortcut's callback_id (slack-manifest.yml)
VIEW = "incident.submit"  # the modal's callback_id
TITLE = form.TITLE[: modal.TITLE_MAX]

_MENTION = re.compile(r"<([@#!])([^|>]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^@#!|>][^|>]*)(?:\|([^>]*))?>")


def plain_message(text: str) -> str:
    """A Slack message's mrkdwn as plain text: `<@U1|ana>` -> `@ana`, `<url|label>` ->
    `label (url)`, `<!here>` -> `@here`, entities unescaped."""

    def mention(m: re.Match[str]) -> str:
        sigil, ref, label = m.group(1), m.group(2), m.group(3)
        return ("#" if sigil == "#" else "@") + (label or ref)

    def link(m: re.Match[str]) -> str:
        url, label = m.group(1), m.group(2)
        return f"{label} ({url})" if label else url

    return html.unescape(_LINK.sub(link, _MENTION.sub(mention, text or "")))


def incident_modal(proposal_id: int | None, text: str, source: str | None) -> dict[str, Any]:
    """The report form: proposal id, severity, what happened (prefilled)."""
    severity = [Option(value=value, text=PlainTextObject(text=label)) for value, label in form.SEVERITY_CHOICES]
    blocks = [
        ContextBlock(elements=[PlainTextObject(text=form.INTRO)]),
        InputBlock(
            block_id="proposal",
            label=PlainTextObject(text=form.PROPOSAL_LABEL),
            element=PlainTextInputElement(
                action_id="v", max_length=12, initial_value=str(proposal_id) if proposal_id else None
            ),
            hint=PlainTextObject(text=form.PROPOSAL_HINT),
        ),
        InputBlock(
            block_id="severity",
            label=PlainTextObject(text=form.SEVERITY_LABEL),
            element=StaticSelectElement(action_id="v", options=severity),
        ),
        InputBlock(
            block_id="text",
            label=PlainTextObject(text=form.TEXT_LABEL),
            element=PlainTextInputElement(action_id="v", multiline=True, max_length=form.TEXT_MAX, initial_value=text),
        ),
    ]
    view = View(
        type="modal",
        callback_id=VIEW,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Report"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"src": (source or "")[:500]}),
        blocks=blocks,
    )
    return view.to_dict()


def register(fe: SlackFrontEnd) -> None:
    """Add the shortcut and its modal's listener to `fe.bolt`."""
    bolt = fe.bolt

    @bolt.message_shortcut(SHORTCUT)
    async def on_shortcut(ack: Any, body: dict[str, Any], respond: Any) -> None:
        async with fe.work("opening the incident form", fe.reporter(body, respond), ack):
            await ack()
            message = body.get("message") or {}
            channel = (body.get("channel") or {}).get("id")
            ts = message.get("ts") or body.get("message_ts")
            link = None
            if channel and ts:
                try:
                    link = (await fe.client.chat_getPermalink(channel=channel, message_ts=ts)).get("permalink")
                except Exception:  # the form still opens; the quote is there
                    logger.warning("slack: no permalink for the reported message")
            quote = plain_message(str(message.get("text") or ""))
            view = incident_modal(form.proposal_in(quote), form.prefill(quote, link), link)
            await fe.client.views_open(trigger_id=body["trigger_id"], view=view)

    @bolt.view(VIEW)
    async def on_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        async with fe.work("recording the incident", fe.reporter(body), ack):
            values = modal.submitted_values(view)
            source = json.loads(view.get("private_metadata") or "{}").get("src") or None
            try:
                proposal_id = parse_id(values.get("proposal"), "id")
                message = await fe.call(
                    fe.core.report_incident,
                    user_of(body),
                    proposal_id,
                    str(values.get("severity") or ""),
                    str(values.get("text") or ""),
                    source=source,
                )
            except UsageError as exc:
                await ack(response_action="errors", errors={form.error_field(exc.message): exc.message[:500]})
                return
            except Refused as exc:
                message = Message(kind="refused", text=exc.message)
            await ack(response_action="update", view=modal.message_view(TITLE, message))
