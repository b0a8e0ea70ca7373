"""Render neutral `bot.messages.Message`s as terminal text.

On a terminal the text gets colour and is wrapped to the window; piped (or with
`NO_COLOR` set) it is plain text with the same layout, so transcripts and tests read
the same. Buttons become the console command that does the same thing
(`approve 12`), since a terminal has nothing to click.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from typing import Any, TextIO

from bot.messages.message import (
    APPROVE,
    ASSESS_OPEN,
    CHECKIN_OPEN,
    DIGEST_POST,
    DIGEST_REGENERATE,
    EDIT_PROPOSAL,
    FULL_PROPOSAL,
    POLICY_APPLY,
    REASSESSMENT_EDIT,
    REJECT,
    REQUEST_CHANGES,
    Button,
    Message,
    plain,
)

RESET = "\x1b[0m"
BOLD = "1"
DIM = "2"
RED = "31"
GREEN = "32"
YELLOW = "33"
BLUE = "34"
CYAN = "36"

_MENTION = re.compile(r"<@([^>|]+)(?:\|([^>]*))?>")
_LEVEL = re.compile(r"\b(HIGH|high|PROHIBITED|prohibited|MEDIUM|medium|LIMITED|limited|LOW|low|MINIMAL|minimal)\b")
_LEVEL_COLOUR = {"high": RED, "prohibited": RED, "medium": YELLOW, "limited": YELLOW, "low": GREEN, "minimal": GREEN}
_BUTTON_COMMAND = {
    APPROVE: "approve {v}",
    REJECT: "reject {v} <comment>",
    REQUEST_CHANGES: "changes {v} <comment>",
    EDIT_PROPOSAL: "edit {v}",
    FULL_PROPOSAL: "proposal {v}",
    ASSESS_OPEN: "assess {v}",
    CHECKIN_OPEN: "checkin {v} <value>",
    DIGEST_POST: "digest post {v}",
    DIGEST_REGENERATE: "digest regenerate {v}",
    POLICY_APPLY: "policy apply {v}",
    REASSESSMENT_EDIT: "edit {v}",
}


def use_color(stream: TextIO | Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed stream
        return False


def terminal_width(stream: TextIO | Any) -> int | None:
    """The window width on a terminal (at most 100 columns), None when piped."""
    if not _isatty(stream):
        return None
    return max(40, min(shutil.get_terminal_size((80, 24)).columns, 100))


def _isatty(stream: Any) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (ValueError, OSError):
        return False


def style(text: str, *codes: str, color: bool) -> str:
    """Wrap `text` in ANSI codes when colour is on."""
    if not color or not codes or not text:
        return text
    return f"\x1b[{';'.join(codes)}m{text}{RESET}"


def plain_mentions(text: str) -> str:
    """`<@U123|Ana Ruiz>` becomes the name, `Ana Ruiz`; `<@U123>` (no name known) `@U123`;
    the marks of user-written text are dropped (a terminal shows no markup)."""
    return _MENTION.sub(lambda m: m.group(2) or "@" + m.group(1), plain(text))


def _levels(text: str, color: bool) -> str:
    if not color:
        return text
    return _LEVEL.sub(lambda m: style(m.group(1), BOLD, _LEVEL_COLOUR[m.group(1).lower()], color=True), text)


def _wrap(line: str, width: int | None, indent: str) -> list[str]:
    if width is None or len(indent) + len(line) <= width:
        return [indent + line]
    bullet = re.match(r"^(\s*(?:[-*•]|\d+[.)])\s+)", line)
    hang = " " * len(bullet.group(1)) if bullet else ""
    return textwrap.wrap(
        line,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent + hang,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def button_command(button: Button) -> str:
    """The console command that does what the button does."""
    template = _BUTTON_COMMAND.get(button.action)
    return template.format(v=button.value) if template else button.value


def render_message(message: Message, *, color: bool = False, width: int | None = None) -> str:
    """The message as text: headline, sections (title, text, aligned facts), then the
    commands that stand in for its buttons."""
    out: list[str] = []
    headline = plain_mentions(message.text).splitlines() or [""]
    out.extend(style(part, BOLD, CYAN, color=color) for part in _wrap(headline[0], width, ""))
    for line in headline[1:]:
        out.extend(_levels(part, color) for part in _wrap(line, width, ""))
    for section in message.sections:
        block: list[str] = []
        if section.title:
            block.append(_levels(style(plain_mentions(section.title), BOLD, color=color), color))
        indent = "  " if section.title else ""
        for line in plain_mentions(section.text).splitlines():
            block.extend(_levels(part, color) for part in _wrap(line.rstrip(), width, indent))
        if section.fields:
            pad = min(max(len(plain_mentions(label)) for label, _ in section.fields), 28)
            for label, value in section.fields:
                name = plain_mentions(label)
                head = f"{indent}{name + ':':<{pad + 1}} "
                if len(name) > pad:  # a long label gets a line of its own, the value below it
                    block.append(style(head.rstrip(), DIM, color=color))
                    head = " " * (len(indent) + pad + 2)
                lines = plain_mentions(str(value)).splitlines() or [""]
                first, rest = lines[0], lines[1:]
                wrapped = (
                    _wrap(first, width, "")
                    if width is None
                    else textwrap.wrap(first, width=max(width - len(head), 20), break_long_words=False) or [""]
                )
                block.append(
                    style(head, DIM, color=color) + _levels(wrapped[0], color)
                    if head.strip()
                    else head + _levels(wrapped[0], color)
                )
                block.extend(" " * len(head) + _levels(w, color) for w in wrapped[1:])
                block.extend(" " * len(head) + _levels(r, color) for r in rest)
        if block:
            out.append("")
            out.extend(block)
    if message.image_png:
        out.append("")
        out.append(
            style(f"(a {message.image_png.replace('_', ' ')} image is attached in Slack and Teams)", DIM, color=color)
        )
    if message.buttons:
        out.append("")
        for b in message.buttons:
            colour = {"primary": GREEN, "danger": RED}.get(b.style or "", BLUE)
            out.append(f"  {style('[' + b.label + ']', BOLD, colour, color=color)}  type: {button_command(b)}")
    return "\n".join(out)


def render_error(text: str, *, color: bool = False) -> str:
    """One line for something that went wrong or was refused."""
    return style(text, BOLD, RED, color=color)


def render_note(text: str, *, color: bool = False) -> str:
    """A quiet line (hints, help under a question)."""
    return style(text, DIM, color=color)
