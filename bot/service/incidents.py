"""Incidents after go-live (DESIGN.md "After go-live" -> "Incidents"): `incident <id>
<low|medium|high> <what happened>` and `resolve <incident id> <what was done>`.

Anyone may report; a `high` incident on a running workflow (pilot or production,
`bot.domain.incidents.PAUSES`) pauses it in the same unit of work as the incident, its
audit events and the messages to the owner and governance (`bot.service.publish`). The
owner or governance resolves an incident; anyone else is refused and the attempt
audited. While incidents are open, `resume` and `promote` are refused
(`bot.service.lifecycle`), naming them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.domain.errors import NotFound, UsageError
from bot.domain.events import Event, IncidentReported, IncidentResolved
from bot.domain.incidents import PAUSES, IncidentRow, check_severity, check_text, open_ids
from bot.domain.lifecycle_rules import REPEAT_WINDOW, proposal_label
from bot.domain.records import as_utc
from bot.messages.message import Message, Section, user_text
from bot.ports import Clock, UnitOfWork
from bot.service.lifecycle import load_proposal, move_stage, refuse
from bot.service.publish import publish
from bot.service.roles import is_governance
from bot.settings import Settings

logger = logging.getLogger(__name__)


def open_incident_count(uow: UnitOfWork, proposal_id: int) -> int:
    """How many incidents of the proposal are open, inside the caller's unit of work
    (the production gate asks)."""
    return uow.incidents.open_count(proposal_id)


def report(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    proposal_id: int,
    severity: object,
    text: object,
    *,
    source: str | None = None,
) -> Message:
    """Record an incident on a proposal (anyone may). A high one on a pilot or
    production workflow pauses it; the owner (and, for a high one, governance) is told.
    `source` says where it was reported (a Slack permalink, "teams message"), audited.
    The same report by the same person within a few minutes counts once (a retried
    submission). Raises UsageError naming the field for bad input, nothing written."""
    level = check_severity(severity)
    what = check_text(text, "what happened", "what happened")
    source = (source or "").strip()[:500] or None
    now = clock.now()
    with uow:
        try:
            row = load_proposal(uow, proposal_id)
        except NotFound:
            raise UsageError(f"id: there is no proposal {proposal_id}; see `mine` or `portfolio`") from None
        earlier = uow.incidents.for_proposal(row.id)
        repeat = next((i for i in reversed(earlier) if _same(i, actor, level, what, now)), None)
        if repeat is not None:
            return _reported(row.id, proposal_label(row), repeat, None, duplicate=True)
        incident = uow.incidents.add(IncidentRow(0, row.id, level, "open", what, actor, now))
        detail: dict[str, Any] = {"incident_id": incident.id, "severity": level, "text": what}
        if source:
            detail["source"] = source
        uow.audit.add(row.id, actor, "incident.reported", detail, now)
        paused_from = None
        if level == "high" and row.stage in PAUSES:
            paused_from = move_stage(uow, row, "paused", now)
            uow.audit.add(
                row.id,
                actor,
                "stage.paused",
                {"from": paused_from, "to": "paused", "via": "incident", "incident_id": incident.id},
                now,
            )
        events: list[Event] = [IncidentReported(incident, actor, paused_from)]
        publish(uow, settings, row, events, now)
        uow.commit()
    logger.info(
        "proposal %s: %s incident %s reported by %s (paused: %s)", row.id, level, incident.id, actor, bool(paused_from)
    )
    return _reported(row.id, proposal_label(row), incident, paused_from)


def _same(i: IncidentRow, actor: str, severity: str, text: str, now: datetime) -> bool:
    return (i.reported_by, i.severity, i.text) == (actor, severity, text) and now - as_utc(
        i.created_at
    ) <= REPEAT_WINDOW


def _reported(
    proposal_id: int, label: str, incident: IncidentRow, paused_from: str | None, *, duplicate: bool = False
) -> Message:
    head = "already recorded" if duplicate else "recorded"
    text = f"Incident {incident.id} ({incident.severity}) {head} on {label}."
    if paused_from:
        text += f" It was in {paused_from}; govbot paused it. The owner and governance are told."
    elif not duplicate:
        text += " The owner is told." if incident.severity != "high" else " The owner and governance are told."
    return Message(
        kind="incident",
        text=text,
        sections=(Section("What happened", user_text(incident.text)),),
        meta={"proposal_id": proposal_id, "incident_id": incident.id, "paused": bool(paused_from)},
    )


def resolve(uow: UnitOfWork, clock: Clock, settings: Settings, actor: str, incident_id: int, text: object) -> Message:
    """The owner or governance closes an incident with what was done. Anyone else is
    refused (audited). UsageError for an unknown id or a blank resolution."""
    done = check_text(text, "what was done", "what was done")
    now = clock.now()
    problem: tuple[str, str] | None = None
    proposal_id: int | None = None
    with uow:
        try:
            incident = uow.incidents.get(incident_id, for_update=True)
        except NotFound:
            raise UsageError(f"incident id: there is no incident {incident_id}; see `status <proposal id>`") from None
        proposal_id = incident.proposal_id
        row = load_proposal(uow, incident.proposal_id)
        if actor != row.owner and not is_governance(uow, actor, settings):
            problem = (
                "not_owner",
                f"Only the workflow owner or governance may resolve incident {incident.id} on {proposal_label(row)}.",
            )
        elif incident.status != "open":
            problem = (
                "already_resolved",
                f"Incident {incident.id} was already resolved by <@{incident.resolved_by}>: "
                f"{user_text(incident.resolution)}",
            )
        else:
            done_row = uow.incidents.resolve(incident.id, done, actor, now)
            uow.audit.add(
                row.id,
                actor,
                "incident.resolved",
                {"incident_id": incident.id, "severity": incident.severity, "resolution": done},
                now,
            )
            still = tuple(open_ids(uow.incidents.for_proposal(row.id)))
            publish(uow, settings, row, [IncidentResolved(done_row, actor, still)], now)
            uow.commit()
    if problem is not None:
        raise refuse(uow, clock, actor, proposal_id, f"resolve incident {incident_id}", problem[1], code=problem[0])
    text_out = f"Incident {incident.id} on {proposal_label(row)} is resolved."
    if still:
        text_out += " Still open: " + ", ".join(f"incident {n}" for n in still) + "."
    elif row.stage == "paused":
        text_out += f" No incident is open any more: `resume {row.id}` when it is safe to run again."
    logger.info("incident %s on proposal %s resolved by %s", incident.id, row.id, actor)
    return Message(
        kind="incident",
        text=text_out,
        sections=(Section("What was done", user_text(done)),),
        meta={"proposal_id": row.id, "incident_id": incident.id},
    )
