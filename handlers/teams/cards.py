"""Adaptive Cards 1.5 for Teams: neutral `Message`s, approval cards and interview forms.

Every button is an `Action.Execute` (verb = the neutral action id) with an
`Action.Submit` fallback whose data carries the same verb, so older clients reach the
same handler through a message activity. Cards are kept under the Teams message limit:
when one would be too big, trailing lines are dropped and the card says "and N more".
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.domain import questions
from bot.domain.questions import Question
from bot.messages.message import (
    APPROVE,
    FULL_PROPOSAL,
    REJECT,
    REQUEST_CHANGES,
    Button,
    Message,
    plain,
    spans,
    user_text,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
# Teams refuses messages over ~40 KB; leave room for the activity envelope.
MAX_CARD_BYTES = 36_000
# A card that carries the whole proposal (Action.ShowCard) stays within the ~28 KB
# Teams documents for a message with a card.
SHOW_CARD_MAX_BYTES = 28_000
MAX_TEXT = 4_000

INTERVIEW_NEXT = "interview.next"
INTERVIEW_CANCEL = "interview.cancel"
APPROVAL_REFRESH = "approval.refresh"
COMMENT_ID = "comment"
OVERRIDE_ID = "override_reason"
DECISION_VERBS = {APPROVE: "approve", REJECT: "reject", REQUEST_CHANGES: "request_changes"}
_STYLE = {"primary": "positive", "danger": "destructive"}


# --------------------------------------------------------------------------- basics


def card_size(card: Mapping[str, Any]) -> int:
    """Size in bytes of the card as JSON (what counts against the Teams limit)."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MENTION = re.compile(r"<@([^>|]+)(?:\|([^>]*))?>")
# What makes TextBlock and FactSet markdown live: links and images ([..](..), ![..](..)),
# emphasis (* _ ~), code and autolinks (< >), and the backslash that escapes them.
_MARKDOWN = re.compile(r"([\\*_~`\[\]<>])")


def display(text: str) -> str:
    """Text for a card: in the core's own text `<@id>` mentions become the id (or the
    name given as `<@id|name>`, markdown-escaped); user-written spans are markdown-escaped, so a typed
    `[text](url)`, image or emphasis shows as typed and never renders."""
    out: list[str] = []
    for piece, is_user in spans(text or ""):
        if is_user:
            out.append(escape_markdown(piece))
        else:
            # a display name came from the platform (user text): escaped like the rest
            out.append(_MENTION.sub(lambda m: escape_markdown(m.group(2)) if m.group(2) else m.group(1), piece))
    return "".join(out)


def summary(text: str) -> str:
    """An activity's plain-text summary (notifications render no markdown)."""
    return _MENTION.sub(lambda m: m.group(2) or m.group(1), plain(text or ""))[:200]


def escape_markdown(text: str) -> str:
    """Backslash-escape every character that would start markdown in a TextBlock."""
    return _MARKDOWN.sub(r"\\\1", text)


def text_block(text: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": _clip(display(text)), "wrap": True, **props}


def execute(
    verb: str, title: str, data: Mapping[str, Any], style: str | None = None, *, inputs: bool = True
) -> dict[str, Any]:
    """An Action.Execute with an Action.Submit fallback carrying the same verb and data.
    `inputs=False` sends none of the card's inputs (and skips their validation)."""
    payload = {"verb": verb, **data}
    submit: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": payload}
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "verb": verb,
        "title": title,
        "data": dict(data),
        "fallback": submit,
    }
    if not inputs:
        action["associatedInputs"] = submit["associatedInputs"] = "none"
    if style in _STYLE:
        action["style"] = submit["style"] = _STYLE[style]
    return action


def new_card(
    body: list[dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
    *,
    fallback_text: str = "",
    refresh: dict[str, Any] | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    if fallback_text:
        card["fallbackText"] = _clip(display(fallback_text), 500)
    if refresh:
        card["refresh"] = refresh
    return card


def attachment(card: Mapping[str, Any]) -> dict[str, Any]:
    """The activity attachment that carries a card."""
    return {"contentType": CARD_CONTENT_TYPE, "content": dict(card)}


# --------------------------------------------------------------------------- messages


def _button_data(button: Button) -> dict[str, Any]:
    data: dict[str, Any] = {"value": button.value}
    if button.action in DECISION_VERBS or button.action.startswith("approval."):
        data["request_id"] = _int_or_str(button.value)
    elif button.action.startswith("digest."):
        data["digest_id"] = _int_or_str(button.value)
    elif button.action.startswith(("proposal.", "checkin.")):
        data["proposal_id"] = _int_or_str(button.value)
    return data


def _int_or_str(value: str) -> int | str:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _units(message: Message) -> list[dict[str, Any] | tuple[str, str]]:
    """The message as a flat list of elements and facts, in display order."""
    units: list[dict[str, Any] | tuple[str, str]] = []
    for section in message.sections:
        if section.title:
            units.append(text_block(section.title, weight="Bolder", spacing="Medium"))
        if section.text:
            units.extend(text_block(line) for line in _paragraphs(section.text))
        units.extend((str(label), str(value)) for label, value in section.fields)
        units.append({"type": "_break"})
    return units


def _paragraphs(text: str) -> list[str]:
    # One TextBlock per paragraph so a long list can be cut between lines; a paragraph
    # longer than a TextBlock holds (escaping may double it) goes into several.
    parts = [p for p in text.split("\n") if p.strip()]
    return [piece for p in parts or [text] for piece in _pieces(p, MAX_TEXT // 2)]


def _pieces(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, each user-written run marked
    again in every piece it falls into (so it stays escaped on its own)."""
    if len(plain(text)) <= limit:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for run, is_user in spans(text):
        while run:
            room = limit - size
            part, run = run[:room], run[room:]
            current.append(user_text(part) if is_user else part)
            size += len(part)
            if size >= limit:
                pieces.append("".join(current))
                current, size = [], 0
    if current:
        pieces.append("".join(current))
    return pieces


def _body(units: Sequence[dict[str, Any] | tuple[str, str]]) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    facts: list[dict[str, str]] = []

    def flush() -> None:
        if facts:
            body.append({"type": "FactSet", "facts": list(facts)})
            facts.clear()

    for unit in units:
        if isinstance(unit, tuple):
            facts.append({"title": _clip(display(unit[0]), 200), "value": _clip(display(unit[1]), 1000)})
            continue
        flush()
        if unit.get("type") != "_break":
            body.append(unit)
    flush()
    return body


def message_card(
    message: Message,
    *,
    extra_body: Iterable[dict[str, Any]] = (),
    notice: str | None = None,
    inputs: Iterable[dict[str, Any]] = (),
    refresh: dict[str, Any] | None = None,
    image_png: bytes | None = None,
    max_bytes: int = MAX_CARD_BYTES,
) -> dict[str, Any]:
    """Render a neutral Message as an Adaptive Card no bigger than `max_bytes`.

    `image_png` (e.g. the portfolio chart) is shown inline as a data URI when the card
    still fits; otherwise it is left out and the card says so."""
    if image_png is not None:
        image = {
            "type": "Image",
            "url": "data:image/png;base64," + base64.b64encode(image_png).decode("ascii"),
            "altText": "chart",
            "size": "Stretch",
        }
        # Only whole: never cut the message's own lines to make room for the picture.
        with_image = message_card(
            message, extra_body=[image, *extra_body], notice=notice, inputs=inputs, refresh=refresh, max_bytes=10**9
        )
        if card_size(with_image) <= max_bytes:
            return with_image
        note = text_block("(The chart is too large for a Teams message; see `govbot portfolio`.)", isSubtle=True)
        extra_body = [note, *extra_body]
    full = message.meta.get("full") if any(b.action == FULL_PROPOSAL for b in message.buttons) else None
    if isinstance(full, dict):
        return _with_full_view(message, full, extra_body, notice, inputs, refresh, min(max_bytes, SHOW_CARD_MAX_BYTES))
    head = [text_block(message.text, weight="Bolder", size="Medium")]
    if notice:
        head.append(text_block(notice, color="Accent", weight="Bolder"))
    tail = [*extra_body, *inputs]
    actions = [execute(b.action, b.label, _button_data(b), b.style) for b in message.buttons]
    units = _units(message)

    def build(keep: int) -> dict[str, Any]:
        body = head + _body(units[:keep])
        dropped = sum(1 for u in units[keep:] if not (isinstance(u, dict) and u.get("type") == "_break"))
        if dropped:
            body.append(text_block(f"… and {dropped} more (see `status` or the portfolio export)", isSubtle=True))
        return new_card(body + tail, actions, fallback_text=message.text, refresh=refresh)

    card = build(len(units))
    if card_size(card) <= max_bytes:
        return card
    lo, hi = 0, len(units)  # largest `keep` that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if card_size(build(mid)) <= max_bytes:
            lo = mid
        else:
            hi = mid - 1
    return build(lo)


def _with_full_view(
    message: Message,
    full: dict[str, Any],
    extra_body: Iterable[dict[str, Any]],
    notice: str | None,
    inputs: Iterable[dict[str, Any]],
    refresh: dict[str, Any] | None,
    max_bytes: int,
) -> dict[str, Any]:
    """The card with its "Full proposal" button as an Action.ShowCard that unfolds the
    whole proposal in place (no round trip, works in every client); the unfolded card
    gets the room the card leaves under `max_bytes`."""
    others = tuple(b for b in message.buttons if b.action != FULL_PROPOSAL)
    trimmed = Message(
        message.kind,
        message.text,
        message.sections,
        others,
        message.image_png,
        {k: v for k, v in message.meta.items() if k != "full"},
    )
    extra_body, inputs = list(extra_body), list(inputs)
    card = message_card(
        trimmed, extra_body=extra_body, notice=notice, inputs=inputs, refresh=refresh, max_bytes=max_bytes // 2
    )
    room = max_bytes - card_size(card) - 200  # the ShowCard wrapper
    inner = message_card(Message.from_json(full), max_bytes=max(room, 2_000))
    inner.pop("$schema", None)
    inner.pop("fallbackText", None)
    show = {"type": "Action.ShowCard", "title": "Full proposal", "card": inner}
    card["actions"] = [*card.get("actions", []), show]
    return card


def has_decision_buttons(message: Message) -> bool:
    return any(b.action in DECISION_VERBS for b in message.buttons)


def approval_card(
    message: Message,
    *,
    request_id: int | str | None = None,
    refresh_users: Sequence[str] = (),
    notice: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    override: bool = False,
) -> dict[str, Any]:
    """An approval message: the comment input goes with the buttons, and `refresh` lets
    each listed user (approvers and governance) fetch the view that is right for them."""
    errors = errors or {}
    values = values or {}
    inputs: list[dict[str, Any]] = []
    if has_decision_buttons(message):
        inputs.append(
            _text_input(
                COMMENT_ID,
                "Comment (required to reject or request changes)",
                values.get(COMMENT_ID),
                errors.get(COMMENT_ID),
                multiline=True,
            )
        )
        if override or OVERRIDE_ID in errors:
            inputs.append(
                _text_input(
                    OVERRIDE_ID,
                    "Override reason (governance deciding for the routed approver)",
                    values.get(OVERRIDE_ID),
                    errors.get(OVERRIDE_ID),
                    multiline=True,
                )
            )
    refresh = None
    rid = request_id if request_id is not None else message.meta.get("request_id")
    if rid is not None and refresh_users:
        users = list(dict.fromkeys(u for u in refresh_users if u))[:60]  # Teams honours at most 60
        refresh = {
            "type": "Refresh",
            "userIds": users,
            "action": {
                "type": "Action.Execute",
                "verb": APPROVAL_REFRESH,
                "title": "Refresh",
                "data": {"request_id": _int_or_str(str(rid))},
            },
        }
    extra = [
        text_block(f"⚠ {msg}", color="Attention") for key, msg in errors.items() if key not in (COMMENT_ID, OVERRIDE_ID)
    ]
    return message_card(message, notice=notice, extra_body=extra, inputs=inputs, refresh=refresh)


def notice_card(text: str, *, detail: str | None = None, attention: bool = False) -> dict[str, Any]:
    body = [text_block(text, weight="Bolder", color="Attention" if attention else "Default")]
    if detail:
        body.append(text_block(detail))
    return new_card(body, fallback_text=text)


# --------------------------------------------------------------------------- interview forms


def _text_input(
    key: str,
    label: str,
    value: Any,
    error: str | None,
    *,
    multiline: bool = False,
    placeholder: str | None = None,
    required: bool = False,
    max_length: int | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "Input.Text", "id": key, "label": _clip(label, 300)}
    if multiline:
        element["isMultiline"] = True
    if value not in (None, ""):
        element["value"] = _clip(str(value), 4000)
    if placeholder:
        element["placeholder"] = _clip(placeholder, 300)
    if required:
        element["isRequired"] = True
    if max_length:
        element["maxLength"] = max_length
    if error:
        element["errorMessage"] = _clip(error, 500)
    return element


def question_input(question: Question, value: Any, error: str | None) -> list[dict[str, Any]]:
    """The card elements for one interview question; the input's id is the proposal key,
    choice values are the enum codes, yes/no is a true/false choice set."""
    key, kind, label = question.key, question.kind, question.label or question.prompt or question.key
    elements: list[dict[str, Any]] = []
    if question.prompt and question.prompt != label:
        elements.append(text_block(question.prompt, spacing="Medium"))
    if question.help:
        elements.append(text_block(question.help, isSubtle=True, size="Small", spacing="None"))
    element: dict[str, Any]
    if kind in (questions.SINGLE, questions.MULTI, questions.YES_NO):
        many = kind == questions.MULTI
        element = {
            "type": "Input.ChoiceSet",
            "id": key,
            "label": _clip(label, 300),
            "choices": [{"title": _clip(c.label, 200), "value": c.value} for c in question.choices],
            "style": "compact" if kind == questions.SINGLE else "expanded",
        }
        if many:
            element["isMultiSelect"] = True
        current = _as_choice_value(value)
        if current:
            element["value"] = current
        if question.required:
            element["isRequired"] = True
        if error:
            element["errorMessage"] = _clip(error, 500)
    else:
        placeholder = question.placeholder or None
        if kind == questions.USER:
            placeholder = "Type 'me' for yourself, or the owner's Teams user id"
        element = _text_input(
            key,
            label,
            value,
            error,
            multiline=kind == questions.LONG_TEXT,
            placeholder=placeholder,
            required=question.required,
            max_length=question.max_len,
        )
    elements.append(element)
    explained = [f"• {c.label}: {c.help}" for c in question.choices if c.help]
    if explained:  # e.g. what each EU AI Act Annex III area covers
        elements.append(text_block("\n".join(explained), isSubtle=True, size="Small", spacing="Small"))
    if error:  # errorMessage shows only in clients that validate; say it in plain text too
        elements.append(text_block(f"⚠ {error}", color="Attention", size="Small", spacing="None"))
    return elements


def _as_choice_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(v) for v in value) or None
    return str(value) or None


def interview_card(
    *,
    title: str,
    questions: Sequence[Question],
    values: Mapping[str, Any],
    data: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    intro: str | None = None,
    step: str | None = None,
    submit_label: str = "Next",
) -> dict[str, Any]:
    """One page of the interview as a form. `data` (page, proposal_id, idempotency key)
    rides on every action so the next turn knows where it is."""
    errors = errors or {}
    body: list[dict[str, Any]] = [text_block(title, weight="Bolder", size="Medium")]
    if step:
        body.append(text_block(step, isSubtle=True, spacing="None"))
    if intro:
        body.append(text_block(intro))
    known = {q.key for q in questions}
    loose = [msg for key, msg in errors.items() if key not in known]
    if errors:
        body.append(
            text_block(
                "Please fix the answers marked below; everything you typed is kept.", color="Attention", weight="Bolder"
            )
        )
    body.extend(text_block(f"⚠ {msg}", color="Attention") for msg in loose)
    for question in questions:
        body.extend(question_input(question, values.get(question.key), errors.get(question.key)))
    actions = [
        execute(INTERVIEW_NEXT, submit_label, data, "primary"),
        execute(INTERVIEW_CANCEL, "Cancel", data, inputs=False),
    ]
    return new_card(body, actions, fallback_text=title)
