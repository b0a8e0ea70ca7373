"""Separation of duties, quorum and the autonomy ceiling (DESIGN.md "Gates: what the
verdict enforces"). Pure rules: the service layer feeds them the facts it read.

- On one proposal a person decides at most one approval request, and the requester
  decides none except the `owner` request when they are the owner. For an autonomy
  step the person who asked for it decides none of its requests.
- Requests that fell back to governance are decided together with the governance
  request: one governance decision counts once, recorded for each role it stands in for.
- A role's request needs `quorum` approvals by distinct holders; one reject still rejects.
- The policy caps the autonomy a workflow runs at by risk level.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from bot.domain.proposal import AUTONOMY

DEFAULT_AUTONOMY_CEILING: Mapping[str, str] = MappingProxyType(
    {"high": "human_approves", "medium": "human_monitors", "low": "autonomous"}
)

WAITING_NO_ELIGIBLE = "no_eligible_holder"  # `approval_requests.waiting`: every holder is excluded

_PERSON = {
    "owner": "workflow owner",
    "department_lead": "department lead",
    "security": "security approver",
    "finance": "finance approver",
    "legal": "legal approver",
    "engineering": "engineering approver",
    "governance": "governance member",
}


def role_person(role: str) -> str:
    """What one holder of `role` is called in a sentence ("department lead")."""
    return _PERSON.get(role, f"{role} approver")


@dataclass(frozen=True)
class Seat:
    """One approval request as separation of duties sees it."""

    id: int
    role: str
    kind: str  # proposal | autonomy
    governance: bool  # routed to governance (the role itself, or the fallback for a missing one)


def excluded(actor: str, seat: Seat, *, requester: str | None, owner: str | None) -> str | None:
    """Why `actor` may never decide `seat` (None when they may). On a proposal the
    requester decides nothing but the owner request when they are the owner, and the
    owner decides nothing but the owner request (one person, at most one request);
    nobody decides the autonomy step they asked for. Pass `owner` None for autonomy steps."""
    if not actor:
        return None
    owner_seat = seat.role == "owner" and not seat.governance
    who = (
        "the workflow owner" if owner_seat else "another " + role_person("governance" if seat.governance else seat.role)
    )
    if seat.kind == "autonomy":
        if actor == requester:
            return f"you asked for this autonomy step, so {who} decides; nobody approves their own autonomy step"
        return None
    if owner_seat:
        return "you requested this proposal, so the workflow owner decides" if actor == requester != owner else None
    if actor == requester:
        if seat.governance:
            return f"you requested this proposal and governance never decides its own proposal, so {who} decides"
        return f"you requested this proposal, so {who} decides"
    if actor == owner:
        return f"you own this proposal and decide its owner request; one person decides at most one, so {who} decides"
    return None


def refusal(
    actor: str,
    seat: Seat,
    *,
    requester: str | None,
    owner: str | None,
    decided: Sequence[Seat],
) -> str | None:
    """Why separation of duties refuses `actor` deciding `seat` (None when it does not).
    `decided`: the requests of the same round (or autonomy step) that `actor` already
    decided, outside the group being decided now."""
    static = excluded(actor, seat, requester=requester, owner=owner)
    if static is not None:
        return static
    if decided:
        owner_seat = seat.role == "owner" and not seat.governance
        who = (
            "the workflow owner"
            if owner_seat
            else "another " + role_person("governance" if seat.governance else seat.role)
        )
        done = decided[0]
        label = "governance" if done.governance else done.role.replace("_", " ")
        return (
            f"you already decided the {label} request on this proposal and one person decides at most one, "
            f"so {who} decides"
        )
    return None


def routing_excluded(role: str, *, requester: str | None, owner: str | None) -> frozenset[str]:
    """Who routing skips for a role's request before anyone decided: the requester
    (unless it is the owner request), and the owner for every other role (the owner
    decides the owner request, and one person decides at most one)."""
    if role == "owner":
        return frozenset()
    return frozenset(u for u in (requester, owner) if u)


def pick(holders: Iterable[str], excluded: Collection[str]) -> str | None:
    """The first holder who may decide (None when every one is excluded)."""
    return next((h for h in holders if h and h not in excluded), None)


def group(seat: Seat, pending: Sequence[Seat]) -> list[Seat]:
    """The requests one decision on `seat` decides: what was routed to governance is
    decided together (one governance decision for each role it stands in for);
    anything else is decided alone. `pending` are the live pending requests of the
    same round (or autonomy step), `seat` among them."""
    if not seat.governance:
        return [seat]
    together = [s for s in pending if s.governance and s.kind == seat.kind and s.id != seat.id]
    return [seat, *together]


# --------------------------------------------------------------------------- quorum


def quorum_met(approvals: int, quorum: int) -> bool:
    """A role's request is approved once `quorum` distinct holders approved it."""
    return approvals >= max(quorum, 1)


def quorum_line(role: str, approvals: int, quorum: int) -> str:
    """ "1 of 2 governance approvals" (None-worthy when the quorum is one)."""
    return f"{approvals} of {quorum} {role} approvals"


# --------------------------------------------------------------------------- autonomy


def rank(level: str | None) -> int:
    """Position along draft_only -> human_approves -> human_monitors -> autonomous."""
    return AUTONOMY.index(level) if level in AUTONOMY else 0


def ceiling_for(risk_level: str, ceilings: Mapping[str, str]) -> str:
    """The highest autonomy a workflow of this risk level may run at."""
    return ceilings.get(risk_level) or DEFAULT_AUTONOMY_CEILING.get(risk_level) or AUTONOMY[1]


def capped(asked: str | None, ceiling: str) -> str:
    """The autonomy a workflow runs at: what it asked for, at most the ceiling."""
    level = asked if asked in AUTONOMY else AUTONOMY[0]
    return level if rank(level) <= rank(ceiling) else ceiling


def past_ceiling(level: str, ceiling: str) -> bool:
    """An autonomy level above the ceiling (a step there needs governance)."""
    return rank(level) > rank(ceiling)


CONTRADICTORY_AUTONOMY = ("human_monitors", "autonomous")


def review_contradicts_autonomy(review: str | None, autonomy: str | None) -> bool:
    """A person checks every output, yet the workflow acts on its own: both cannot hold."""
    return review == "every_output" and autonomy in CONTRADICTORY_AUTONOMY


def autonomy_step_roles(*, asker_is_owner: bool, risk_level: str, past: bool) -> list[str]:
    """Who approves an autonomy step: never the one who asked. The owner's request goes
    to the department lead (and governance when risk is high or the step passes the
    ceiling); a step asked by someone else also needs the owner."""
    roles = [] if asker_is_owner else ["owner"]
    roles.append("department_lead")
    if risk_level == "high" or past:
        roles.append("governance")
    return roles
