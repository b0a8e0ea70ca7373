"""Checks every channel runs on what arrives before it reaches Bolt, botbuilder or the core.

Hostile or broken input must be refused with a clear 4xx and one log line, never a 500
with a traceback: a timestamp header that is not a small number, a body that is not
UTF-8, JSON nested deeper than any real payload, an id that cannot be a row.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.domain.errors import UsageError

MAX_ID = 2**31 - 1  # ids are INTEGER columns
MAX_DEPTH = 48  # Slack and Teams payloads nest about a dozen levels
_ID = re.compile(r"#?([0-9]{1,10})")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class Malformed(ValueError):
    """A request body that cannot be what the platform sends; the message says why."""


def parse_id(value: Any, name: str) -> int:
    """A record id from a button value or card data: a whole number 1..MAX_ID given as
    an int or ASCII digits (`#12` allowed). Anything else raises UsageError naming `name`."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _ID.fullmatch(str(value).strip()) if isinstance(value, str) else None
        number = int(match.group(1)) if match else 0
    if not 0 < number <= MAX_ID:
        shown = str(value)[:40] if value is not None else "nothing"
        raise UsageError(f"{name}: {shown!r} is not an id; ids are whole numbers from 1 to {MAX_ID}")
    return number


def timestamp_ok(value: str | None) -> bool:
    """Whether a signature timestamp header is a plain number of seconds."""
    return value is not None and _TIMESTAMP.fullmatch(value) is not None


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether parsed JSON nests more than `limit` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def load_json(text: str | bytes, what: str = "body") -> Any:
    """`json.loads` that raises Malformed (never RecursionError) and refuses deep nesting."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise Malformed(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise Malformed(f"{what} is not valid JSON") from None
    if too_deep(data):
        raise Malformed(f"{what} nests deeper than {MAX_DEPTH} levels")
    return data
