"""`assess <id>` on Teams: an Adaptive Card 1.5 with exactly the regulatory questions
that decide the tier. Every input's `id` is the proposal key it fills and choice
values are the enum codes ("true"/"false" for yes/no); the buttons are
`Action.Execute` with an `Action.Submit` fallback. A bad or missing answer comes back
on the same card under its field, with everything typed kept; nothing is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.messages.message import Message
from bot.service.results import AssessForm
from handlers.teams import cards

SUBMIT = "assess.submit"
CANCEL = "assess.cancel"


def assess_card(
    form: AssessForm,
    intro: Message,
    actor: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The card for `form`: the tier now and what the words settled, then the inputs."""
    values, errors = values or {}, errors or {}
    inputs: list[dict[str, Any]] = []
    if errors:
        inputs.append(
            cards.text_block(
                "Please fix the answers marked below; nothing was stored.", color="Attention", weight="Bolder"
            )
        )
    asked = {q.key for q in form.questions}
    inputs.extend(cards.text_block(f"⚠ {msg}", color="Attention") for key, msg in errors.items() if key not in asked)
    for question in form.questions:
        inputs.extend(cards.question_input(question, values.get(question.key), errors.get(question.key)))
    card = cards.message_card(intro, inputs=inputs)
    data = {"proposal_id": form.proposal_id, "user": actor}
    card["actions"] = [
        cards.execute(SUBMIT, "Store answers", data, "primary"),
        cards.execute(CANCEL, "Cancel", data, inputs=False),
    ]
    return card


def submitted(form: AssessForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """The values the card sent for the questions of `form` ({key: raw value})."""
    return {q.key: data[q.key] for q in form.questions if q.key in data}
