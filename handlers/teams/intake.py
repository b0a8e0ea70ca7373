"""Intake in one paragraph on Teams: the "Describe it in your own words" card (input id
`paragraph`), the quick "reading your description…" message and the summary card —
every pre-filled answer with the words it came from, correctable in place, then only
what is still blank, weak or contradictory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain import interview, questions
from handlers.teams import cards

READING = "Reading your description…"


def paragraph_card(state: Mapping[str, Any], *, error: str | None = None, value: str | None = None) -> dict[str, Any]:
    """The first step of a new interview: one long text input, id `paragraph`."""
    q = questions.PARAGRAPH_QUESTION
    body = [
        cards.text_block("Propose an AI workflow", weight="Bolder", size="Medium"),
        cards.text_block(q.help, isSubtle=True),
        cards._text_input(
            questions.PARAGRAPH,
            q.prompt,
            value,
            error,
            multiline=True,
            placeholder=q.placeholder,
            max_length=q.max_len,
        ),
    ]
    if error:
        body.append(cards.text_block(f"⚠ {error}", color="Attention", size="Small", spacing="None"))
    data = {**state, "page": questions.PARAGRAPH}
    actions = [
        cards.execute(cards.INTERVIEW_NEXT, "Next", data, "primary"),
        cards.execute(cards.INTERVIEW_CANCEL, "Cancel", data, inputs=False),
    ]
    return cards.new_card(body, actions, fallback_text="Propose an AI workflow: describe it in your own words")


def reading_card() -> dict[str, Any]:
    return cards.notice_card(READING, detail="Your words are saved as a draft. The summary to confirm follows.")


def summary_card(
    step: interview.Step,
    values: Mapping[str, Any],
    state: Mapping[str, Any],
    *,
    errors: Mapping[str, str] | None = None,
    intro: str | None = None,
    submit_label: str = "Submit proposal",
) -> dict[str, Any]:
    """The summary as one card form: what was understood (each with its words), then what
    is still to answer. Input ids are the proposal keys, as on every interview card."""
    errors = errors or {}
    prefilled, asked, editing = step.prefilled, step.asked, step.editing
    body: list[dict[str, Any]] = [
        cards.text_block(f"Propose an AI workflow: {step.page.title}", weight="Bolder", size="Medium")
    ]
    if intro:
        body.append(cards.text_block(intro))
    if errors:
        body.append(
            cards.text_block(
                "Please fix the answers marked below; everything you typed is kept.", color="Attention", weight="Bolder"
            )
        )
        known = set(step.page.keys())
        body.extend(cards.text_block(f"⚠ {msg}", color="Attention") for key, msg in errors.items() if key not in known)
    if prefilled:
        head = (
            "Your current answers: correct any of them here."
            if editing
            else "What I understood from your description. Each answer shows the words it came from; correct any of them here."
        )
        body.append(cards.text_block(head, weight="Bolder", spacing="Medium"))
        for q in prefilled:
            body.extend(cards.question_input(q, values.get(q.key), errors.get(q.key)))
    if asked:
        body.append(
            cards.text_block(
                f"Still to answer ({len(asked)}): blank, too vague or contradictory.",
                weight="Bolder",
                spacing="Large",
                separator=True,
            )
        )
        for q in asked:
            body.extend(cards.question_input(q, values.get(q.key), errors.get(q.key)))
    else:
        body.append(cards.text_block("Nothing else to ask: submit when it looks right.", isSubtle=True))
    actions = [
        cards.execute(cards.INTERVIEW_NEXT, submit_label, state, "primary"),
        cards.execute(cards.INTERVIEW_CANCEL, "Cancel", state, inputs=False),
    ]
    return cards.new_card(body, actions, fallback_text=f"Propose an AI workflow: {step.page.title}")
