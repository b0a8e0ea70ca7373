"""People by name: what the platforms say users are called, and who a typed name means.

The channels tell the core a user's display name whenever they learn it (Slack
`users.info`, Teams `from.name` and mention entities); `remember` keeps the latest,
cleaned, in the `people` table. Messages leave the core with names attached
(`named`), so every channel shows "Carla Díaz" where a command does not need the id.
`resolve_user` turns what a person typed for a user — a mention, an id, or a name
govbot has seen — into the id, and refuses anything else with a hint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain.errors import UsageError
from bot.domain.people import MENTION, clean_name, is_platform_id, mentioned_ids, name_key, with_names
from bot.domain.records import Person
from bot.messages.message import Message, Section
from bot.ports import UnitOfWork

logger = logging.getLogger(__name__)

NOT_A_USER_HINT = (
    "mention them (type @ and pick the person, so the chat turns it into a link) or give their "
    "user id (Slack U…, Teams 29:…; `whoami` shows yours)"
)


def remember(uow: UnitOfWork, platform: str, user_id: str, raw_name: object, now: datetime) -> bool:
    """Store `user_id`'s display name if it is new or changed; True when written
    (the caller commits). A name that cleans to nothing is ignored."""
    name = clean_name(raw_name)
    if not user_id or name is None:
        return False
    known = uow.people.get(user_id)
    if known is not None and known.name == name and known.platform == platform:
        return False
    uow.people.put(Person(user_id, platform, name, now))
    logger.info("%s user %s: display name %s", platform, user_id, "updated" if known else "learnt")
    return True


def _texts(message: Message) -> list[str]:
    out = [message.text]
    for s in message.sections:
        out += [s.title or "", s.text]
        out += [part for field in s.fields for part in field]
    return out


def mentions_in(message: Message) -> list[str]:
    """The user ids `message` mentions."""
    return mentioned_ids(_texts(message))


def named(uow: UnitOfWork, message: Message) -> Message:
    """`message` with every mention written `<@ID|Name>` for the people whose name is
    known (one query)."""
    ids = mentions_in(message)
    names = uow.people.names(ids) if ids else {}
    return with_known_names(message, names)


def with_known_names(message: Message, names: dict[str, str]) -> Message:
    """`message` with the mentions of `names` written `<@ID|Name>`."""

    def fix(text: str) -> str:
        return with_names(text, names)

    sections = tuple(
        Section(
            fix(s.title) if s.title else s.title,
            fix(s.text),
            tuple((fix(label), fix(value)) for label, value in s.fields),
        )
        for s in message.sections
    )
    return replace(message, text=fix(message.text), sections=sections)


def resolve_user(uow: UnitOfWork, token: str) -> str:
    """The user id a typed token means: a mention (`<@U123>`, `<@U123|carla>`), an id
    (`U123`, `@U123`, `29:…`), or the name of someone govbot knows (`@carla`, matched
    on the whole name, else on the first name, ignoring case and punctuation).

    Raises UsageError naming the token when it is nobody, or when a name fits several
    people (listing them with their ids)."""
    raw = token.strip().rstrip(",")
    match = MENTION.fullmatch(raw)
    if match:
        return match.group(1)
    bare = raw[1:] if raw.startswith("@") else raw
    if is_platform_id(bare):
        return bare
    key = name_key(bare)
    found = uow.people.find(key) if key else []
    if len(found) == 1:
        return found[0].user_id
    if found:
        listing = ", ".join(f"{p.name} ({p.user_id})" for p in found[:5])
        raise UsageError(f"user: {raw!r} fits several people: {listing}; give the id of the one you mean")
    raise UsageError(f"user: {raw!r} is not a user govbot knows; {NOT_A_USER_HINT}")


def resolve_users(uow: UnitOfWork, tokens: Sequence[str]) -> list[str]:
    """`resolve_user` for each token, without repeats, in order."""
    out: list[str] = []
    for token in tokens:
        uid = resolve_user(uow, token)
        if uid not in out:
            out.append(uid)
    return out
