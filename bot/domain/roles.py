"""The role directory's pure rules: role names, user ids and mentions, the roles file."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from bot.domain.proposal import ROLES

DIRECTORY_ROLES = tuple(r for r in ROLES if r != "owner")


PER_DEPARTMENT = ("department_lead",)


_MENTION = re.compile(r"^<@([^>|]+)(?:\|[^>]*)?>$")


_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,199}$")


class RolesFileError(ValueError):
    """The roles file is unreadable or has a bad entry; the message names it."""


def clean_user(token: str) -> str | None:
    """A user id from a chat token: `<@U123|name>`, `<@U123>`, `@U123` or `U123`.

    Returns None when the token is not a plausible user id."""
    token = token.strip().rstrip(",")
    match = _MENTION.match(token)
    if match:
        token = match.group(1)
    elif token.startswith("@"):
        token = token[1:]
    return token if _USER_ID.match(token) else None


def is_mention(token: str) -> bool:
    """True for tokens written as mentions (`<@U1>`, `@U1`), not bare words."""
    token = token.strip()
    return bool(_MENTION.match(token)) or (token.startswith("@") and len(token) > 1)


def validate_role(role: str, department: str) -> tuple[str, str]:
    """Check a (role, department) pair for the directory; returns it normalised."""
    role = (role or "").strip().lower()
    department = (department or "").strip()
    if role not in DIRECTORY_ROLES:
        raise ValueError(
            f"role: unknown role {role!r}; allowed: {', '.join(DIRECTORY_ROLES)}"
            + (" (the owner is named on each proposal)" if role == "owner" else "")
        )
    if role in PER_DEPARTMENT and not department:
        raise ValueError(f"department: {role} is held per department; name the department")
    if role not in PER_DEPARTMENT and department:
        raise ValueError(f"department: only department_lead is per department, not {role}")
    return role, department


# Actors that are not chat users: the operator at the terminal (`govbot roles set`,
# `govbot digest --post`), who has the database in hand anyway, and the scheduler.
OPERATOR = "cli"


SYSTEM = "govbot"


RESERVED_ACTORS = (OPERATOR, SYSTEM)


def parse_roles_file(path: Path) -> dict[tuple[str, str], list[str]]:
    """Read a JSON or TOML roles file into {(role, department): [user ids]}.

    Raises RolesFileError naming the file and the bad entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RolesFileError(f"GOVBOT_ROLES_FILE: cannot read {path}: {exc.strerror or exc}") from None
    data = _decode(path, text)
    if not isinstance(data, dict):
        raise RolesFileError(f'{path}: must be an object of role names, e.g. {{"security": ["U1"]}}')
    entries: dict[tuple[str, str], list[str]] = {}
    for role, value in data.items():
        if role not in DIRECTORY_ROLES:
            raise RolesFileError(f"{path}: {role}: unknown role; allowed: {', '.join(DIRECTORY_ROLES)}")
        if role in PER_DEPARTMENT:
            if not isinstance(value, dict):
                raise RolesFileError(
                    f'{path}: {role}: must map each department to user ids, e.g. {{"Finance": ["U2"]}}'
                )
            for dept, users in value.items():
                if not str(dept).strip():
                    raise RolesFileError(f"{path}: {role}: department names must not be blank")
                entries[(role, str(dept).strip())] = _users(path, f"{role}.{dept}", users)
        else:
            entries[(role, "")] = _users(path, role, value)
    return entries


def _decode(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RolesFileError(f"{path}: not valid TOML: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if path.suffix.lower() == ".json":
            raise RolesFileError(f"{path}: not valid JSON: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise RolesFileError(f"{path}: neither valid JSON nor valid TOML") from None


def _users(path: Path, where: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise RolesFileError(f"{path}: {where}: must be a list of user ids")
    users: list[str] = []
    for item in value:
        user = clean_user(item) if isinstance(item, str) else None
        if user is None:
            raise RolesFileError(f"{path}: {where}: {item!r} is not a user id")
        if user not in users:
            users.append(user)
    return users
