"""The interview as Slack modals: one `bot.domain.interview` page per modal step.

Each input block's `block_id` is the proposal key it fills; enum choices carry the
enum code as their value, yes/no answers "true"/"false", the owner is a
users_select. `private_metadata` carries the state: the page shown, the proposal
being edited and the answers so far when they fit (else they live in the user's
interview draft in SQL). Invalid answers come back as `response_action: errors`, so
the form is never lost; the final submit acks with a "working" view and reports
the classification (or the failure) in the same modal.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import interview, questions
from bot.messages.message import Message
from handlers.slack.blocks import VIEW_BLOCKS_MAX, clip, escape, message_blocks

logger = logging.getLogger(__name__)

CALLBACK = "interview"
METADATA_MAX = 3000
ANSWERS_IN_METADATA_MAX = 2600  # leave room for the rest of the state
INPUT_MAX = 3000  # Slack's plain_text_input max_length
OPTION_TEXT_MAX = 75
OPTION_DESC_MAX = 75
CHECKBOXES_MAX = 10
TITLE_MAX = 24


# --------------------------------------------------------------------------- rendering


def _option(choice: questions.Choice, *, with_help: bool = False) -> Option:
    desc = clip(choice.help, OPTION_DESC_MAX) if with_help and choice.help else None
    return Option(
        value=choice.value,
        text=PlainTextObject(text=clip(choice.label, OPTION_TEXT_MAX)),
        description=PlainTextObject(text=desc) if desc else None,
    )


def _element(q: questions.Question, value: Any) -> Any:
    """The input element for one question, prefilled with `value`."""
    if q.kind in (questions.TEXT, questions.LONG_TEXT):
        limit = min(q.max_len or INPUT_MAX, INPUT_MAX)
        text = clip(str(value), limit) if isinstance(value, str) and value.strip() else None
        placeholder = PlainTextObject(text=clip(q.placeholder, 150)) if q.placeholder else None
        return PlainTextInputElement(
            action_id="v",
            multiline=q.kind == questions.LONG_TEXT,
            max_length=limit,
            initial_value=text,
            placeholder=placeholder,
        )
    if q.kind == questions.USER:
        return UserSelectElement(
            action_id="v",
            initial_user=value if isinstance(value, str) and value else None,
            placeholder=PlainTextObject(text="Pick one person"),
        )
    if q.kind == questions.YES_NO:
        options = [_option(c) for c in q.choices]
        chosen = {True: "true", False: "false"}.get(value) if isinstance(value, bool) else None
        initial = next((o for o in options if o.value == chosen), None)
        return StaticSelectElement(
            action_id="v", options=options, initial_option=initial, placeholder=PlainTextObject(text="Yes or no")
        )
    if q.kind == questions.SINGLE:
        with_help = any(c.help for c in q.choices) and len(q.choices) <= CHECKBOXES_MAX
        options = [_option(c, with_help=with_help) for c in q.choices]
        initial = next((o for o in options if o.value == value), None)
        if with_help:
            return RadioButtonsElement(action_id="v", options=options, initial_option=initial)
        return StaticSelectElement(
            action_id="v", options=options, initial_option=initial, placeholder=PlainTextObject(text="Choose one")
        )
    if q.kind == questions.MULTI:
        chosen_set = set(value) if isinstance(value, (list, tuple)) else set()
        if len(q.choices) <= CHECKBOXES_MAX:
            options = [_option(c, with_help=bool(c.help)) for c in q.choices]
            ticked = [o for o in options if o.value in chosen_set] or None
            return CheckboxesElement(action_id="v", options=options, initial_options=ticked)
        options = [_option(c) for c in q.choices]
        picked = [o for o in options if o.value in chosen_set] or None
        return StaticMultiSelectElement(
            action_id="v",
            options=options,
            initial_options=picked,
            placeholder=PlainTextObject(text="Choose all that apply"),
        )
    raise ValueError(f"question {q.key}: unknown kind {q.kind!r}")


def question_block(q: questions.Question, value: Any) -> InputBlock:
    return InputBlock(
        block_id=q.key,
        label=PlainTextObject(text=clip(q.prompt or q.label, 2000)),
        element=_element(q, value),
        hint=PlainTextObject(text=clip(q.help, 2000)) if q.help else None,
        optional=not q.required,
    )


def encode_state(
    page_id: str, answers: dict[str, Any], proposal_id: int | None, followup_done: bool
) -> tuple[str, bool]:
    """The private_metadata for a step; the bool says whether the answers had to be left
    out (then they must be saved as the user's draft)."""
    state: dict[str, Any] = {"p": page_id, "pid": proposal_id, "f": int(followup_done)}
    packed = json.dumps(answers, separators=(",", ":"), ensure_ascii=False)
    if len(packed) <= ANSWERS_IN_METADATA_MAX:
        state["a"] = answers
        return json.dumps(state, separators=(",", ":"), ensure_ascii=False), False
    state["d"] = 1
    return json.dumps(state, separators=(",", ":")), True


def decode_state(metadata: str) -> dict[str, Any]:
    """Parse private_metadata; raise ValueError when it is not ours."""
    state = json.loads(metadata or "{}")
    if not isinstance(state, dict) or not isinstance(state.get("p"), str):
        raise ValueError("interview state missing from the view")
    if "a" in state and not isinstance(state["a"], dict):
        raise ValueError("interview answers in the view are not an object")
    return state


def page_view(
    page: questions.Page,
    answers: dict[str, Any],
    metadata: str,
    *,
    last: bool,
    proposal_id: int | None = None,
    step: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """One interview step as a modal view (validated by slack_sdk.models)."""
    blocks: list[Block] = []
    notes = []
    if proposal_id:
        notes.append(f"Editing proposal #{proposal_id}")
    if step and page.id != "followup":
        notes.append(f"Step {step[0]} of {step[1]}")
    if page.id == "followup":
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="A few answers are blank or too vague for governance to act on. Improve them now, "
                    "or submit as they are: the classification will say what is missing."
                )
            )
        )
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(notes))]))
    blocks.extend(question_block(q, answers.get(q.key)) for q in page.questions)
    view = View(
        type="modal",
        callback_id=CALLBACK,
        title=PlainTextObject(text=clip(page.title, TITLE_MAX)),
        submit=PlainTextObject(text="Submit" if last else "Next"),
        close=PlainTextObject(text="Save for later"),
        private_metadata=metadata,
        notify_on_close=True,
        blocks=blocks[:VIEW_BLOCKS_MAX],
    )
    return view.to_dict()


def message_view(title: str, message: Message) -> dict[str, Any]:
    """A closing modal that shows a neutral message (classification, refusal, error)."""
    view = View(
        type="modal",
        title=PlainTextObject(text=clip(title, TITLE_MAX)),
        close=PlainTextObject(text="Close"),
        blocks=message_blocks(message, max_blocks=VIEW_BLOCKS_MAX),
    )
    return view.to_dict()


def working_view(title: str, text: str) -> dict[str, Any]:
    view = View(
        type="modal",
        title=PlainTextObject(text=clip(title, TITLE_MAX)),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=escape(text)))],
    )
    return view.to_dict()


# --------------------------------------------------------------------------- reading


def submitted_values(view: dict[str, Any]) -> dict[str, Any]:
    """{block_id: raw value} from a view submission's state, for any element type."""
    out: dict[str, Any] = {}
    values = (view.get("state") or {}).get("values") or {}
    if not isinstance(values, dict):
        return out
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            continue
        for element in actions.values():
            if not isinstance(element, dict):
                continue
            kind = element.get("type")
            if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
                out[block_id] = element.get("value")
            elif kind in ("static_select", "radio_buttons", "external_select"):
                option = element.get("selected_option")
                out[block_id] = option.get("value") if isinstance(option, dict) else None
            elif kind in ("multi_static_select", "checkboxes", "multi_external_select"):
                out[block_id] = [o.get("value") for o in element.get("selected_options") or [] if isinstance(o, dict)]
            elif kind == "users_select":
                out[block_id] = element.get("selected_user")
            elif kind == "conversations_select":
                out[block_id] = element.get("selected_conversation")
    return out


def step_view(step: interview.Step, answers: dict[str, Any], proposal_id: int | None) -> tuple[dict[str, Any], bool]:
    """One interview step as a modal: (view, whether the answers must be saved as the
    user's draft because they do not fit the view's metadata)."""
    metadata, needs_draft = encode_state(step.page.id, answers, proposal_id, step.page.id == interview.FOLLOWUP)
    view = page_view(step.page, answers, metadata, last=step.last, proposal_id=proposal_id, step=step.position)
    return view, needs_draft


async def open_interview(fe: Any, client: Any, trigger_id: str, user: str, start: Any) -> None:
    """Open the interview modal for an `InterviewStart` (new, resumed or edit)."""
    answers = dict(start.seed or {})
    first = fe.core.interview_flow().start(answers)
    view, needs_draft = step_view(first, answers, start.proposal_id)
    if needs_draft:
        await fe.call(fe.core.save_draft, "slack", user, answers, first.page.id, start.proposal_id)
    await client.views_open(trigger_id=trigger_id, view=view)
