"""Marking user-written text inside the strings the core composes.

A neutral message mixes what the core wrote (headings, `<@U123>` mentions of the people
it means to reach) with what people typed (titles, descriptions, comments, reasons).
`user_text()` wraps user-written text in two private-use characters; renderers escape
everything between them, so a title like `[click](https://evil.example)` or `<!here>`
is shown as typed and never becomes a link, a mention or emphasis. Text outside the
marks is the core's and keeps its markup. Plain-text outputs drop the marks (`plain`).

`user_text()` removes any copy of the marks from the text it wraps, so typed text cannot
close its own span; a span left open by clipping counts as user-written to the end.
"""

from __future__ import annotations

USER_OPEN = "\ue000"
USER_CLOSE = "\ue001"


def user_text(text: object) -> str:
    """`text` marked as user-written (empty text stays empty)."""
    raw = plain(str(text)) if text is not None else ""
    return f"{USER_OPEN}{raw}{USER_CLOSE}" if raw else ""


def plain(text: str) -> str:
    """`text` without the marks (console, logs, exports)."""
    # str.replace, not translate: translate with a table walks every character in Python
    if USER_OPEN not in text and USER_CLOSE not in text:
        return text
    return text.replace(USER_OPEN, "").replace(USER_CLOSE, "")


def spans(text: str) -> list[tuple[str, bool]]:
    """`text` cut into (piece, is_user) runs. A span whose closing mark was cut off
    (a clipped line) runs to the end: unclosed means user-written, never the reverse."""
    out: list[tuple[str, bool]] = []
    pos = 0
    while pos < len(text):
        start = text.find(USER_OPEN, pos)
        if start < 0:
            out.append((plain(text[pos:]), False))
            break
        if start > pos:
            out.append((plain(text[pos:start]), False))
        end = text.find(USER_CLOSE, start + 1)
        stop = len(text) if end < 0 else end
        out.append((plain(text[start + 1 : stop]), True))
        pos = stop + 1
    return [(piece, is_user) for piece, is_user in out if piece]


# --------------------------------------------------------------------------- NUL characters

NUL = "\x00"


def refuse_nul(value: str | None, field: str) -> None:
    """UsageError naming `field` when typed text holds a NUL character, which no
    database column can store (PostgreSQL refuses it in text and JSON alike)."""
    if value and NUL in value:
        from bot.domain.errors import UsageError

        raise UsageError(f"{field}: contains a NUL character (\\x00), which cannot be stored; remove it and try again")


def strip_nul(value: object) -> object:
    """`value` (str, list or dict, nested) without NUL characters."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    return value
