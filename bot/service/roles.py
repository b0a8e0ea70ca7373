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
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.domain.approval_rules import routed_to_governance
from bot.domain.errors import UsageError
from bot.domain.records import ApprovalRequestRow
from bot.domain.roles import DIRECTORY_ROLES, OPERATOR, PER_DEPARTMENT, clean_user, parse_roles_file, validate_role
from bot.messages import compose
from bot.messages.message import Message
from bot.ports import Clock, UnitOfWork
from bot.service import people
from bot.service.refusals import refuse
from bot.settings import Settings

logger = logging.getLogger(__name__)

ROLES_FILE_HASH_KEY = "roles_file.sha256"


def governance_members(uow: UnitOfWork, settings: Settings | None = None) -> list[str]:
    """Governance: the directory's holders only. GOVBOT_GOVERNANCE seeds an empty
    directory (`bootstrap`) and grants nothing after that, so `settings` is not read."""
    return list(uow.roles.holders("governance", ""))


def is_governance(uow: UnitOfWork, user_id: str, settings: Settings | None = None) -> bool:
    """Governance may edit the directory, override stop conditions and post digests.
    The command-line operator counts as governance; chat users can never be named
    like it (`govbot chat --as cli` is refused)."""
    return user_id == OPERATOR or user_id in governance_members(uow, settings)


def holders(uow: UnitOfWork, role: str, department: str | None = None) -> list[str]:
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


def directory(uow: UnitOfWork) -> dict[str, Any]:
    """The whole directory as {"security": [...], "department_lead": {"Finance": [...]}}."""
    out: dict[str, Any] = {role: ({} if role in PER_DEPARTMENT else []) for role in DIRECTORY_ROLES}
    for a in uow.roles.all():
        if a.role in PER_DEPARTMENT:
            out.setdefault(a.role, {}).setdefault(a.department, []).append(a.user_id)
        elif a.role in out:
            out[a.role].append(a.user_id)
    return out


def roles_message(uow: UnitOfWork, settings: Settings, viewer: str | None = None) -> Message:
    """The directory; governance (or the command line, `viewer` None) is told how to change it."""
    with uow:
        entries = directory(uow)
        can_edit = viewer is None or is_governance(uow, viewer, settings)
    return compose.roles_message(entries, can_edit)


Follow = Callable[[UnitOfWork, Settings, str, str, list[str], str, datetime], list[int]]


def set_role(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    role: str,
    department: str,
    users: list[str],
    follow: Follow | None = None,
) -> Message:
    """Governance only (Refused otherwise). Replaces the holders of (role,
    department); an empty list clears it. Raises UsageError for a bad role,
    department or user. `follow` (`bot.service.reroute.reroute`) makes the role's
    pending requests follow the change in the same unit of work; returns their ids."""
    try:
        role, department = validate_role(role, department)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    now = clock.now()
    rerouted: list[int] = []
    with uow:
        clean = people.resolve_users(uow, users)
        if not is_governance(uow, actor, settings):
            refused = "only governance may change the role directory"
        elif role == "governance" and not clean:
            refused = "the governance role cannot be left empty; name at least one member"
        else:
            refused = None
            before = holders(uow, role, department) if department else list(uow.roles.holders(role, ""))
            uow.roles.set(role, department, clean, actor, now)
            uow.audit.add(
                None,
                actor,
                "roles.set",
                {"role": role, "department": department, "before": before, "after": clean},
                now,
            )
            if follow is not None:
                rerouted = follow(uow, settings, role, department, before, actor, now)
            uow.commit()
    if refused:
        raise refuse(uow, clock, actor, None, "roles.refused", refused, role=role, department=department)
    where = f" for {department}" if department else ""
    who = ", ".join(compose.mention(u) for u in clean) or "nobody (routed to governance)"
    moved = f" {len(rerouted)} pending request(s) re-routed." if rerouted else ""
    return compose.notice("roles_set", f"{role}{where} is now held by {who}.{moved}")


# --------------------------------------------------------------------------- bootstrap


def bootstrap(uow: UnitOfWork, governance_ids: Iterable[str], roles_file: Path | None, now: datetime) -> list[str]:
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
        if uow.keyvalues.get(ROLES_FILE_HASH_KEY) == digest:
            entries = {}
    for (role, dept), users in entries.items():
        before = list(uow.roles.holders(role, dept))
        uow.roles.set(role, dept, users, "roles-file", now)
        uow.audit.add(
            None, "roles-file", "roles.set", {"role": role, "department": dept, "before": before, "after": users}, now
        )
        done.append(f"{role}{'/' + dept if dept else ''}")
    if digest is not None and entries:
        uow.keyvalues.put(ROLES_FILE_HASH_KEY, digest)
    ids = [u for u in (clean_user(g) for g in governance_ids) if u]
    if ids and not governance_members(uow):  # directory only
        uow.roles.set("governance", "", ids, "GOVBOT_GOVERNANCE", now)
        uow.audit.add(
            None,
            "GOVBOT_GOVERNANCE",
            "roles.set",
            {"role": "governance", "department": "", "before": [], "after": ids},
            now,
        )
        done.append("governance from GOVBOT_GOVERNANCE")
    if done:
        logger.info("role directory bootstrap: %s", ", ".join(done))
    return done


def request_holders(uow: UnitOfWork, settings: Settings, request: ApprovalRequestRow) -> list[str]:
    """Everyone who may decide the request as a holder of the role it is routed to,
    the routed approver first while they still hold it: governance members for what
    went to governance, the role's current holders (per department for department
    leads), or the owner alone. Authority follows the directory at decision time."""
    if request.role == "owner" and not routed_to_governance(request):
        return [request.approver]
    current = role_holders(uow, request)
    first = [request.approver] if request.approver in current else []
    return list(dict.fromkeys([*first, *current]))


def role_holders(uow: UnitOfWork, request: ApprovalRequestRow) -> list[str]:
    """The directory's current holders of the role `request` is routed to."""
    if routed_to_governance(request):
        return governance_members(uow)
    if request.role in PER_DEPARTMENT:
        return holders(uow, request.role, request.department) if request.department else []
    return holders(uow, request.role)


def whoami(uow: UnitOfWork, settings: Settings, actor: str) -> Message:
    """Who the actor is to govbot: name, user id (for GOVBOT_GOVERNANCE and the roles
    file) and the roles they hold."""
    with uow:
        held = sorted({a.role + (f" ({a.department})" if a.department else "") for a in uow.roles.roles_of(actor)})
        if actor in governance_members(uow, settings) and "governance" not in held:
            held.append("governance")
    return compose.whoami_message(actor, held)
