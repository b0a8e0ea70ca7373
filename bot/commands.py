"""The chat command parser, shared by Slack, Teams and the console.

`parse(text)` turns what follows the slash command (or what was typed to the bot)
into a `Command`; malformed arguments raise `UsageError` whose message names the
argument and what is allowed. An unknown subcommand parses as `help`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain import STOP_CONDITIONS
from bot.roles import DIRECTORY_ROLES, PER_DEPARTMENT, clean_user, is_mention
from bot.service import UsageError

LIFECYCLE = ("pause", "resume", "retire", "promote")
DECISIONS = {
    "approve": "approve",
    "reject": "reject",
    "changes": "request_changes",
    "request_changes": "request_changes",
    "request-changes": "request_changes",
}
ALIASES = {"?": "help", "list": "mine", "my": "mine", "show": "status", "home": "mine"}
MAX_ID = 2**31 - 1
CLEAR_WORDS = ("none", "-", "nobody")


@dataclass(frozen=True)
class Command:
    name: str
    args: dict[str, Any] = field(default_factory=dict)


def _split_first(text: str) -> tuple[str, str]:
    parts = text.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


def parse_id(token: str, what: str = "id") -> int:
    """A proposal or request id: `12` or `#12`."""
    raw = token.strip().lstrip("#")
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise UsageError(f"{what}: {token!r} is not a number; give the number shown as #N, e.g. `status 12`")
    return int(raw)


def _need(rest: str, usage: str, what: str) -> tuple[str, str]:
    first, more = _split_first(rest)
    if not first:
        raise UsageError(f"{what} is missing. Usage: {usage}")
    return first, more


def parse(text: str) -> Command:
    """Parse one command line (without the slash command itself)."""
    text = (text or "").replace("\u00a0", " ").strip()
    word, rest = _split_first(text)
    name = word.lower()
    name = ALIASES.get(name, name)
    if name in ("", "help"):
        return Command("help")
    if name == "propose":
        return Command("propose", {"text": rest})
    if name in ("mine", "portfolio"):
        return Command(name)
    if name == "promote":  # governance may promote without a check-in, with a written reason
        token, reason = _need(rest, "promote <id> [reason]", "id")
        return Command(name, {"proposal_id": parse_id(token), **({"reason": reason} if reason else {})})
    if name in ("status", "edit", "autonomy") or name in LIFECYCLE:
        token, extra = _need(rest, f"{name} <id>", "id")
        if extra:
            raise UsageError(f"{name}: expected only a proposal id, got extra text {extra!r}. Usage: {name} <id>")
        return Command(name, {"proposal_id": parse_id(token)})
    if name in DECISIONS:
        return _decision(name, rest)
    if name == "roles":
        return _roles(rest)
    if name == "digest":
        if rest and rest.lower() != "here":
            raise UsageError(f"digest: unknown option {rest!r}; allowed: `digest` or `digest here`")
        return Command("digest", {"here": bool(rest)})
    if name == "override":
        return _override(rest)
    if name == "delegate":
        return _delegate(rest)
    if name == "checkin":
        token, more = _need(rest, "checkin <id> <value> [note]", "id")
        value, note = _need(more, "checkin <id> <value> [note]", "value")
        return Command("checkin", {"proposal_id": parse_id(token), "value": value, "note": note or None})
    return Command("help", {"unknown": word[:40]})


def _decision(word: str, rest: str) -> Command:
    decision = DECISIONS[word.lower()]
    usage = f"{word} <request id>" + (" [comment]" if decision == "approve" else " <comment>")
    token, comment = _need(rest, usage, "request id")
    if decision != "approve" and not comment:
        raise UsageError(f"comment: say why. Usage: {usage}")
    return Command(
        "decide", {"request_id": parse_id(token, "request id"), "decision": decision, "comment": comment or None}
    )


def _override(rest: str) -> Command:
    usage = "override <id> <code> <reason...>"
    token, more = _need(rest, usage, "id")
    code, reason = _need(more, usage, "code")
    if code not in STOP_CONDITIONS:
        raise UsageError(f"code: unknown stop condition {code!r}; allowed: {', '.join(STOP_CONDITIONS)}")
    if not reason:
        raise UsageError(f"reason: governance overrides need a written reason. Usage: {usage}")
    return Command("override", {"proposal_id": parse_id(token), "code": code, "reason": reason})


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _delegate(rest: str) -> Command:
    usage = "delegate <user> <until YYYY-MM-DD>"
    parts = rest.split()
    if parts and parts[-1] and len(parts) >= 2 and parts[-2].lower() == "until":
        parts.pop(-2)
    if len(parts) != 2:
        raise UsageError(f"delegate: expected a user and a date. Usage: {usage}")
    user = clean_user(parts[0])
    if user is None:
        raise UsageError(f"user: {parts[0]!r} is not a user; mention them, e.g. @U123. Usage: {usage}")
    if not _DATE.match(parts[1]):
        raise UsageError(f"until: {parts[1]!r} is not a date like 2026-12-31. Usage: {usage}")
    try:
        until = date.fromisoformat(parts[1])
    except ValueError:
        raise UsageError(f"until: {parts[1]!r} is not a real date. Usage: {usage}") from None
    return Command("delegate", {"delegate_id": user, "until": until})


def _roles(rest: str) -> Command:
    sub, more = _split_first(rest)
    if sub.lower() in ("", "list"):
        return Command("roles")
    if sub.lower() != "set":
        raise UsageError(
            f"roles: unknown option {sub!r}; allowed: `roles` or `roles set <role> [department] <user>...`"
        )
    usage = "roles set <role> [department] <user>..."
    try:
        tokens = shlex.split(more)
    except ValueError:
        tokens = more.split()
    if not tokens:
        raise UsageError(f"role is missing; allowed: {', '.join(DIRECTORY_ROLES)}. Usage: {usage}")
    role = tokens[0].lower()
    if role not in DIRECTORY_ROLES:
        raise UsageError(f"role: unknown role {tokens[0]!r}; allowed: {', '.join(DIRECTORY_ROLES)}")
    rest_tokens = tokens[1:]
    department = ""
    if role in PER_DEPARTMENT:
        if not rest_tokens:
            raise UsageError(f"department is missing: {role} is held per department. Usage: {usage}")
        first_mention = next((i for i, t in enumerate(rest_tokens) if is_mention(t) or t.lower() in CLEAR_WORDS), None)
        if first_mention is None:  # no mention syntax: "<department> <user>..."
            first_mention = 1
        if first_mention == 0:
            raise UsageError(f"department is missing before the users: {role} is held per department. Usage: {usage}")
        department = " ".join(rest_tokens[:first_mention])
        rest_tokens = rest_tokens[first_mention:]
    if not rest_tokens:
        raise UsageError(f"users are missing (or `none` to clear). Usage: {usage}")
    if len(rest_tokens) == 1 and rest_tokens[0].lower() in CLEAR_WORDS:
        return Command("roles_set", {"role": role, "department": department, "users": []})
    users = []
    for token in rest_tokens:
        user = clean_user(token)
        if user is None:
            raise UsageError(f"user: {token!r} is not a user; mention them, e.g. @U123")
        if user not in users:
            users.append(user)
    return Command("roles_set", {"role": role, "department": department, "users": users})
