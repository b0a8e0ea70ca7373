"""People's names and how chat text names people: pure rules, no I/O.

Messages mention people as `<@ID>`; once a display name is known it rides along as
`<@ID|Name>` and each channel shows the name its own way. A display name is user text
(a Slack profile, a Teams account name), so it is cleaned before it is stored or shown:
no control characters and none of the characters any channel reads as markup, so a name
can never become a link, a ping, bold text or a broken mention.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

NAME_MAX = 80
MENTION = re.compile(r"<@([^<>|\s]+)(?:\|[^<>]*)?>")
# Platform user ids (DESIGN.md, Command line): Slack U…/W… (capitals, digits, `_`; the
# console's U_NAME too) and Teams 29:…
_PLATFORM_ID = re.compile(r"^(?:[UW][A-Z0-9_]+|29:\S+)$")
_MARKUP = set("<>|&*_~`[]\\#")  # read as markup by Slack mrkdwn, Teams Markdown or our mention syntax


def clean_name(raw: object) -> str | None:
    """A display name safe to show on every channel, or None when nothing is left.

    Control and format characters go, markup characters become spaces, runs of
    spaces collapse, and the name is cut to NAME_MAX characters."""
    if not isinstance(raw, str):
        return None
    kept = []
    for ch in raw:
        if ch in _MARKUP or unicodedata.category(ch)[0] == "C":
            kept.append(" ")
        else:
            kept.append(ch)
    name = " ".join("".join(kept).split())
    if len(name) > NAME_MAX:
        name = name[: NAME_MAX - 1].rstrip() + "…"
    return name or None


def name_key(name: str) -> str:
    """How a typed name is matched: case, accents, spaces and punctuation do not count
    (`@sam.jones`, `@Sam_Jones` and "Sam Jones" are the same key)."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def first_name_key(name: str) -> str:
    """The key of a name's first word ("Carla Díaz" → "carla")."""
    words = name.split()
    return name_key(words[0]) if words else ""


def is_platform_id(token: str) -> bool:
    """True for a platform user id (Slack `U…`/`W…`, the console's `U_NAME`, Teams `29:…`)."""
    return bool(_PLATFORM_ID.match(token))


def mentioned_ids(texts: Iterable[str]) -> list[str]:
    """The user ids mentioned as `<@ID>` or `<@ID|name>` in `texts`, each once, in order."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in MENTION.finditer(text or ""):
            seen.setdefault(match.group(1))
    return list(seen)


def with_names(text: str, names: dict[str, str]) -> str:
    """`text` with every mention of a known person written `<@ID|Name>`, and of anyone
    else as `<@ID>` (a name that did not come from `names` is dropped). Idempotent."""
    if not text or "<@" not in text:
        return text

    def name(match: re.Match[str]) -> str:
        uid = match.group(1)
        shown = clean_name(names.get(uid))
        return f"<@{uid}|{shown}>" if shown else f"<@{uid}>"

    return MENTION.sub(name, text)
