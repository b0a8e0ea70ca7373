"""Intake in one paragraph on Slack: the "Describe it in your own words" step, the
"reading your description…" modal and the summary to confirm.

Slack wants an answer within 3 seconds: the command (or the paragraph step) is
acknowledged at once and the modal opens saying it is reading; when the extractor is
done (or has timed out and the lexicon stood in) the same modal is updated with
`views.update`. The requester's words are in their draft before reading starts.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain import interview, questions
from bot.domain.errors import UsageError
from bot.messages.message import Message, Section
from handlers.slack.blocks import VIEW_BLOCKS_MAX, clip, escape
from handlers.slack.modal import (
    CALLBACK,
    encode_state,
    message_view,
    page_view,
    question_block,
    submitted_values,
)

logger = logging.getLogger(__name__)

READING = "Reading your description…"
TITLE_MAX = 24


def paragraph_view(metadata: str) -> dict[str, Any]:
    """The first step of a new interview: one long text box, `block_id` `paragraph`
    (left empty, the question-by-question interview follows)."""
    q = questions.PARAGRAPH_QUESTION
    view = View(
        type="modal",
        callback_id="interview",
        title=PlainTextObject(text=clip(questions.PARAGRAPH_TITLE, TITLE_MAX)),
        submit=PlainTextObject(text="Next"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=metadata,
        notify_on_close=True,
        blocks=[
            InputBlock(
                block_id=questions.PARAGRAPH,
                label=PlainTextObject(text=q.prompt),
                element=PlainTextInputElement(
                    action_id="v",
                    multiline=True,
                    max_length=q.max_len,
                    placeholder=PlainTextObject(text=clip(q.placeholder, 150)),
                ),
                hint=PlainTextObject(text=clip(q.help, 2000)),
                optional=True,
            )
        ],
    )
    return view.to_dict()


def reading_view() -> dict[str, Any]:
    """What the modal shows while the paragraph is read."""
    view = View(
        type="modal",
        callback_id="interview.reading",
        title=PlainTextObject(text="Proposal"),
        close=PlainTextObject(text="Close"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=READING)),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Your words are saved as a draft. This form updates when I am done; "
                        "if you close it, `propose` picks up where you left off."
                    )
                ]
            ),
        ],
    )
    return view.to_dict()


def summary_view(
    step: interview.Step, answers: dict[str, Any], metadata: str, proposal_id: int | None
) -> dict[str, Any]:
    """The summary as one modal: each pre-filled answer (its hint: the words it came
    from), then what is still blank, weak or contradictory."""
    prefilled, asked, editing = step.prefilled, step.asked, step.editing
    blocks: list[Block] = []
    if proposal_id:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Editing proposal #{proposal_id}")]))
    if prefilled:
        head = (
            "*Your current answers.* Correct any of them here."
            if editing
            else "*What I understood from your description.* Each answer shows the words it came from; "
            "correct any of them here."
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=head)))
        blocks.extend(question_block(q, answers.get(q.key)) for q in prefilled)
    if asked:
        if prefilled:
            blocks.append(DividerBlock())
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Still to answer ({len(asked)}).* These are blank, too vague or contradict each other."
                )
            )
        )
        blocks.extend(question_block(q, answers.get(q.key)) for q in asked)
    else:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="Nothing else to ask: submit when it looks right.")])
        )
    view = View(
        type="modal",
        callback_id=CALLBACK,
        title=PlainTextObject(text=clip(step.page.title, TITLE_MAX)),
        submit=PlainTextObject(text="Submit" if step.last else "Next"),
        close=PlainTextObject(text="Save for later"),
        private_metadata=metadata,
        notify_on_close=True,
        blocks=blocks[:VIEW_BLOCKS_MAX],
    )
    return view.to_dict()


def note_blocks(step: interview.Step) -> list[Block]:
    """The note that the reading fell back to the lexicon (shown above the questions)."""
    return [ContextBlock(elements=[MarkdownTextObject(text=escape(step.note))])] if step.note else []


def step_view(step: interview.Step, answers: dict[str, Any], proposal_id: int | None) -> tuple[dict[str, Any], bool]:
    """One interview step as a modal, the summary included: (view, whether the answers
    must be saved as the user's draft because they do not fit the view's metadata)."""
    metadata, needs_draft = encode_state(step.page.id, answers, proposal_id, step.page.id == interview.FOLLOWUP)
    if step.page.id == questions.SUMMARY:
        return summary_view(step, answers, metadata, proposal_id), needs_draft
    view = page_view(step.page, answers, metadata, last=step.last, proposal_id=proposal_id, step=step.position)
    if step.note:  # the reading fell back to the plain interview
        view["blocks"] = [b.to_dict() for b in note_blocks(step)] + view["blocks"]
    return view, needs_draft


async def open_interview(fe: Any, client: Any, trigger_id: str, user: str, start: Any) -> None:
    """Open the interview modal for an `InterviewStart` (new, resumed or edit). A
    paragraph opens "reading your description…" at once (the trigger expires in 3 s)
    and the modal is updated when it is read; a new empty interview opens with
    "Describe it in your own words"."""
    if start.paragraph:
        opened = await client.views_open(trigger_id=trigger_id, view=reading_view())
        await read_into(fe, opened["view"]["id"], user, start.paragraph)
        return
    if start.describe:
        metadata, _ = encode_state(questions.PARAGRAPH, {}, None, False)
        await client.views_open(trigger_id=trigger_id, view=paragraph_view(metadata))
        return
    answers = dict(start.seed or {})
    first = fe.core.interview_flow().start(answers)
    view, needs_draft = step_view(first, answers, start.proposal_id)
    if needs_draft:
        await fe.call(fe.core.save_draft, "slack", user, answers, first.page.id, start.proposal_id)
    await client.views_open(trigger_id=trigger_id, view=view)


async def read_into(fe: Any, view_id: str, user: str, paragraph: str) -> None:
    """Read the paragraph, then update the modal `view_id` with the summary (or the
    plain interview when the LLM failed). Failures say the words are kept."""
    try:
        start = await fe.call(fe.core.read_paragraph, user, "slack", paragraph)
    except UsageError as exc:
        view = message_view("Proposal", _kept(exc.message))
    except Exception:
        logger.exception("slack: reading the paragraph of %s failed", user)
        view = message_view("Proposal", _kept("Sorry, reading your description failed on our side."))
    else:
        answers = dict(start.seed)
        first = fe.core.interview_flow().start(answers)
        view, _needs_draft = step_view(first, answers, None)  # read_paragraph saved the draft
    try:
        await fe.client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:  # the requester closed the modal: the draft has everything
        logger.info("slack: could not update the reading modal of %s (%s)", user, exc.response.get("error"))


def _kept(text: str) -> Message:
    return Message(
        kind="submit_failed",
        text=text,
        sections=(Section(text="Your words are saved as a draft: run the command with `propose` to continue."),),
    )


async def paragraph_step(fe: Any, ack: Any, user: str, view: dict[str, Any]) -> None:
    """The "Describe it in your own words" step was submitted: empty, the question-by-
    question interview follows; else ack with "reading…" and update when read."""
    text = (submitted_values(view).get(questions.PARAGRAPH) or "").strip()
    if not text:
        answers: dict[str, Any] = {}
        first = fe.core.interview_flow().start(answers)
        nxt, _ = step_view(first, answers, None)
        await ack(response_action="update", view=nxt)
        return
    try:
        fe.core.check_paragraph(text)
    except UsageError as exc:
        await ack(response_action="errors", errors={questions.PARAGRAPH: exc.message})
        return
    await ack(response_action="update", view=reading_view())
    await read_into(fe, view["id"], user, text)


async def paragraph_closed(fe: Any, user: str, view: dict[str, Any]) -> None:
    """The paragraph step was closed: whatever was typed becomes the draft."""
    text = (submitted_values(view).get(questions.PARAGRAPH) or "").strip()
    try:
        fe.core.check_paragraph(text)
    except UsageError:
        return
    start = interview.seed(text)
    await fe.call(fe.core.save_draft, "slack", user, {**start, "description": text}, questions.PARAGRAPH, None)
