"""`assess <id>` on Slack: a modal with exactly the regulatory questions that decide
the tier, opened from the slash command or the "Answer regulatory questions" button.

Each input's `block_id` is the proposal key it fills and a choice's value is the enum
code ("true"/"false" for yes/no). The submission is stored by the core before the ack,
so a bad or missing answer comes back under its field (`response_action: errors`)
and nothing is written; otherwise the modal shows what changed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk.models.blocks import Block, PlainTextObject
from slack_sdk.models.views import View

from bot.domain.errors import ProposalInvalid, Refused, UsageError
from bot.messages.message import ASSESS_OPEN, Message
from bot.service.results import AssessForm
from handlers.guard import parse_id
from handlers.slack import modal
from handlers.slack.app import SlackFrontEnd, user_of
from handlers.slack.blocks import VIEW_BLOCKS_MAX, clip, message_blocks, render

logger = logging.getLogger(__name__)

CALLBACK = "assess"
TITLE = "EU AI Act questions"
INTRO_BLOCKS_MAX = 20


def assess_modal(form: AssessForm, intro: Message) -> dict[str, Any]:
    """The modal for `form`: the tier now and what the words settled, then one input
    per question; the proposal id rides in `private_metadata`."""
    blocks: list[Block] = message_blocks(intro, max_blocks=INTRO_BLOCKS_MAX)
    blocks += [modal.question_block(q, None) for q in form.questions]
    view = View(
        type="modal",
        callback_id=CALLBACK,
        title=PlainTextObject(text=clip(TITLE, modal.TITLE_MAX)),
        submit=PlainTextObject(text="Store answers"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"p": form.proposal_id}),
        blocks=blocks[:VIEW_BLOCKS_MAX],
    )
    return view.to_dict()


async def open_assess(fe: SlackFrontEnd, trigger_id: str, form: AssessForm) -> None:
    """Open the modal for `form` (which asks at least one question)."""
    intro = await fe.call(fe.core.assess_intro, form)
    await fe.client.views_open(trigger_id=trigger_id, view=assess_modal(form, intro))


def register(fe: SlackFrontEnd) -> None:
    """Add the button and the view listener to `fe.bolt`."""
    bolt = fe.bolt

    @bolt.action(ASSESS_OPEN)
    async def on_open(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        report = fe.reporter(body, respond)
        async with fe.work("opening the regulatory questions", report, ack):
            await ack()
            form = await fe.call(fe.core.assess_form, user_of(body), parse_id(action["value"], "button value"))
            if form.questions:
                await open_assess(fe, body["trigger_id"], form)
                return
            message = await fe.call(fe.core.assess_nothing, form)
            if respond is not None and body.get("response_url"):
                await respond(response_type="ephemeral", replace_original=False, **render(message))
            else:
                await report(message.text)

    @bolt.view(CALLBACK)
    async def on_submit(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        async with fe.work("storing your answers", fe.reporter(body), ack):
            meta = json.loads(view.get("private_metadata") or "{}")
            proposal_id = parse_id(str(meta.get("p", "")), "proposal id")
            values = modal.submitted_values(view)
            try:
                message = await fe.call(fe.core.assess, user_of(body), proposal_id, values)
            except ProposalInvalid as exc:
                await ack(response_action="errors", errors=_on_fields(exc, view))
                return
            except (Refused, UsageError) as exc:
                message = Message(kind="refused", text=exc.message)
            await ack(response_action="update", view=modal.message_view(f"#{proposal_id}", message))


def _on_fields(exc: ProposalInvalid, view: dict[str, Any]) -> dict[str, str]:
    """Each error under its input; one about a field the view lacks goes on the first."""
    ids = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    errors: dict[str, str] = {}
    for e in exc.errors:
        target = e.key if e.key in ids else ids[0]
        text = str(e)  # "use_area: unknown value 'hr'; allowed: ..."
        errors[target] = clip(f"{errors[target]}; {text}" if target in errors else text, 500)
    return errors
