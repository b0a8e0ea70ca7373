"""The role directory: who holds each approver role (DESIGN.md, Actors).

`department_lead` is held per department; `security`, `finance`, `legal`,
`engineering` and `governance` are company-wide (department ""). The `owner` role is
not in the directory: each proposal names its own owner.

The directory starts from `GOVBOT_GOVERNANCE` (so a new install has someone who may
edit it) and, optionally, a roles file (JSON or TOML) read at start-up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.domain import ROLES

logger = logging.getLogger(__name__)

DIRECTORY_ROLES = tuple(r for r in ROLES if r != "owner")
PER_DEPARTMENT = ("department_lead",)
ROLES_FILE_HASH_KEY = "roles_file.sha256"

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


def governance_members(uow: Any, settings: Any = None) -> list[str]:
    """Governance: the directory's holders, then GOVBOT_GOVERNANCE (without duplicates)."""
    members = list(uow.roles.holders("governance", ""))
    for user in settings.governance_ids() if settings is not None else ():
        if user not in members:
            members.append(user)
    return members


# Actors that are not chat users: the operator at the terminal (`govbot roles set`,
# `govbot digest --post`), who has the database in hand anyway, and the scheduler.
OPERATOR = "cli"
SYSTEM = "govbot"
RESERVED_ACTORS = (OPERATOR, SYSTEM)


def is_governance(uow: Any, user_id: str, settings: Any = None) -> bool:
    """Governance may edit the directory, override stop conditions and post digests.
    The command-line operator counts as governance; chat users can never be named
    like it (`govbot chat --as cli` is refused)."""
    return user_id == OPERATOR or user_id in governance_members(uow, settings)


def holders(uow: Any, role: str, department: str | None = None) -> list[str]:
    """Holders of a role; department matching ignores case and surrounding spaces."""
    if role not in PER_DEPARTMENT:
        return list(uow.roles.holders(role, ""))
    dept = (department or "").strip()
    if not dept:
        return []
    exact = list(uow.roles.holders(role, dept))
    if exact:
        return exact
    wanted = dept.casefold()
    return [a.user_id for a in uow.roles.all() if a.role == role and a.department.strip().casefold() == wanted]


def directory(uow: Any) -> dict[str, Any]:
    """The whole directory as {"security": [...], "department_lead": {"Finance": [...]}}."""
    out: dict[str, Any] = {role: ({} if role in PER_DEPARTMENT else []) for role in DIRECTORY_ROLES}
    for a in uow.roles.all():
        if a.role in PER_DEPARTMENT:
            out.setdefault(a.role, {}).setdefault(a.department, []).append(a.user_id)
        elif a.role in out:
            out[a.role].append(a.user_id)
    return out


# --------------------------------------------------------------------------- bootstrap


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


def bootstrap(uow: Any, governance_ids: Iterable[str], roles_file: Path | None, now: datetime) -> list[str]:
    """Seed the directory; returns what was done (for the log). Caller commits.

    Governance from the environment is assigned only while nobody holds it. The roles
    file is applied when its content changed since it was last applied, so edits made
    from chat survive a restart with the same file."""
    done: list[str] = []
    entries: dict[tuple[str, str], list[str]] = {}
    digest = None
    if roles_file is not None:
        entries = parse_roles_file(Path(roles_file))
        digest = hashlib.sha256(json.dumps(sorted(entries.items()), sort_keys=True).encode()).hexdigest()
        if uow.settings.get(ROLES_FILE_HASH_KEY) == digest:
            entries = {}
    for (role, dept), users in entries.items():
        uow.roles.set(role, dept, users, "roles-file", now)
        done.append(f"{role}{'/' + dept if dept else ''}")
    if digest is not None and entries:
        uow.settings.put(ROLES_FILE_HASH_KEY, digest)
    ids = [u for u in (clean_user(g) for g in governance_ids) if u]
    if ids and not governance_members(uow):  # directory only
        uow.roles.set("governance", "", ids, "GOVBOT_GOVERNANCE", now)
        done.append("governance from GOVBOT_GOVERNANCE")
    if done:
        logger.info("role directory bootstrap: %s", ", ".join(done))
    return done
