"""Render neutral `bot.messages.Message`s as Block Kit, built with `slack_sdk.models`.

Every block goes through the model classes, whose `to_dict()` validates Slack's
limits; on top of that this module keeps to the message limits Slack enforces at
send time (50 blocks per message, 100 per view, 3000 characters per text, 10 fields
per section) by truncating and saying so, never by dropping silently.
"""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.messages.message import Button, Message, spans
from bot.messages.message import plain as unmarked

TEXT_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
BUTTON_LABEL_MAX = 75
BUTTON_VALUE_MAX = 2000
FIELDS_PER_SECTION = 10
BUTTONS_PER_BLOCK = 25
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
FALLBACK_TEXT_MAX = 3000

# Mentions the core writes on purpose (users and channels) stay live; everything else
# that looks like Slack markup (<!channel>, <http://..|..>) is escaped so user-written
# text cannot ping a whole channel or disguise a link. Text the core marked as
# user-written (`bot.messages.message.user_text`) keeps no mention at all, and every
# mrkdwn object is `verbatim`, so Slack does not turn bare URLs, #channel names or
# @here written in it into links or pings either.
_KEEP = re.compile(r"<[@#][UWC][A-Z0-9]+(?:\|[^<>]{0,80})?>")
_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)")


def escape(text: str) -> str:
    """Escape &, < and > for mrkdwn: the core's own user and channel mentions stay; in
    user-written spans nothing is kept. A user mention loses its name (`<@U1|Ana>` →
    `<@U1>`): Slack shows the person's current name itself, and no name (user text)
    ever reaches mrkdwn."""
    out: list[str] = []
    for piece, is_user in spans(text):
        out.append(_escape_plain(piece) if is_user else _escape_core(piece))
    return "".join(out)


def _escape_core(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _KEEP.finditer(text):
        out.append(_escape_plain(text[pos : m.start()]))
        token = m.group(0)
        out.append(token.split("|", 1)[0].rstrip(">") + ">" if token.startswith("<@") else token)
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)


_NAMED = re.compile(r"<@([^<>|]+)(?:\|([^<>]*))?>")


def plain(text: str) -> str:
    """Text for plain_text objects (headers), where Slack resolves no mention:
    `<@U1|Ana>` → `@Ana`, `<@U1>` → `@U1`; the marks of user-written text dropped."""
    return _NAMED.sub(lambda m: "@" + (m.group(2) or m.group(1)), unmarked(text))


def _defang(text: str) -> str:
    """A user-written URL in notification text, broken so no client links it."""
    return _URL.sub(lambda m: m.group(0).replace("://", ":\u200b//").replace(".", "\u200b."), text)


def mrkdwn(text: str) -> MarkdownTextObject:
    """A mrkdwn text object that Slack does not auto-link (`verbatim`)."""
    return MarkdownTextObject(text=text, verbatim=True)


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fallback_text(message: Message) -> str:
    """The notification text of a message (shown in notifications and by old clients);
    URLs in user-written spans are broken up, since this text cannot be `verbatim`."""
    text = message.text or message.kind
    out = [_defang(_escape_plain(p)) if is_user else _escape_core(p) for p, is_user in spans(text)]
    return clip("".join(out), FALLBACK_TEXT_MAX)


def _field_text(label: str, value: str) -> str:
    return clip(f"*{escape(label)}*\n{escape(value)}" if label else escape(value), FIELD_MAX)


def button(b: Button) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(plain(b.label), BUTTON_LABEL_MAX), emoji=True),
        action_id=b.action,
        value=clip(b.value, BUTTON_VALUE_MAX),
        style=b.style if b.style in ("primary", "danger") else None,
    )


def button_blocks(buttons: tuple[Button, ...] | list[Button], prefix: str = "buttons") -> list[Block]:
    """Actions blocks for the buttons. An action id may appear once per block, so a
    message with several approval requests (App Home) gets one block per request."""
    groups: list[list[Button]] = []
    for b in buttons:
        if not groups or len(groups[-1]) >= BUTTONS_PER_BLOCK or any(x.action == b.action for x in groups[-1]):
            groups.append([])
        groups[-1].append(b)
    return [
        ActionsBlock(block_id=f"{prefix}.{i}", elements=[button(b) for b in group]) for i, group in enumerate(groups)
    ]


def _text_chunks(text: str) -> list[str]:
    """Split long text on line breaks into pieces of at most TEXT_MAX characters."""
    chunks: list[str] = []
    current = ""
    for line in escape(text).split("\n"):
        while len(line) > TEXT_MAX:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:TEXT_MAX])
            line = line[TEXT_MAX:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > TEXT_MAX:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return chunks


def message_blocks(message: Message, *, max_blocks: int = MESSAGE_BLOCKS_MAX) -> list[Block]:
    """The Block Kit blocks for a neutral message, within `max_blocks`."""
    blocks: list[Block] = []
    if message.text:
        blocks.append(SectionBlock(text=mrkdwn(clip(f"*{escape(message.text)}*", TEXT_MAX))))
    for section in message.sections:
        if blocks and section.title:
            blocks.append(DividerBlock())
        if section.title:
            blocks.append(HeaderBlock(text=PlainTextObject(text=clip(plain(section.title), HEADER_MAX), emoji=True)))
        for chunk in _text_chunks(section.text):
            blocks.append(SectionBlock(text=mrkdwn(chunk)))
        fields = [mrkdwn(_field_text(label, value)) for label, value in section.fields]
        for i in range(0, len(fields), FIELDS_PER_SECTION):
            blocks.append(SectionBlock(fields=fields[i : i + FIELDS_PER_SECTION]))
    actions = button_blocks(message.buttons)
    room = max_blocks - len(actions)
    if len(blocks) > room:
        hidden = len(blocks) - (room - 1)
        blocks = blocks[: room - 1]
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"… {hidden} more block(s) not shown; see `status` or the CLI for everything."
                    )
                ]
            )
        )
    return blocks + actions


def render(message: Message, *, max_blocks: int = MESSAGE_BLOCKS_MAX) -> dict[str, Any]:
    """`{"text": ..., "blocks": [...]}` ready for chat.postMessage / chat.update / respond."""
    return {
        "text": fallback_text(message),
        "blocks": [b.to_dict() for b in message_blocks(message, max_blocks=max_blocks)],
    }


def home_view(message: Message) -> dict[str, Any]:
    """The App Home tab for `core.home(user)`."""
    from slack_sdk.models.views import View

    view = View(type="home", blocks=message_blocks(message, max_blocks=VIEW_BLOCKS_MAX))
    return view.to_dict()


MODAL_TITLE_MAX = 24


def proposal_modal(message: Message) -> dict[str, Any]:
    """A read-only modal with a whole message (the "Full proposal" button): up to 100
    blocks, where a message holds 50."""
    from slack_sdk.models.views import View

    title = clip(plain(message.text.split(":", 1)[0]) or "Proposal", MODAL_TITLE_MAX)
    view = View(
        type="modal",
        callback_id="proposal.full",
        title=PlainTextObject(text=title),
        close=PlainTextObject(text="Close"),
        blocks=message_blocks(message, max_blocks=VIEW_BLOCKS_MAX),
    )
    return view.to_dict()
