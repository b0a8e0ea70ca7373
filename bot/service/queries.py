"""Read-only views of the store: a proposal's status, check-in flags."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.domain import duties
from bot.domain.errors import Refused
from bot.domain.gates import production_gate
from bot.domain.policy_diff import NOT_LIVE
from bot.domain.proposal import regulatory_answered
from bot.domain.records import as_utc
from bot.messages import compose, proposal_view
from bot.messages.message import ASSESS_OPEN, Button, Message
from bot.ports import UnitOfWork
from bot.service.export import approval_record, checkin_record, incident_record, stop_record
from bot.service.gates import gate_input, gate_json, last_override, value_standing
from bot.service.roles import is_governance, request_holders
from bot.service.rounds import since_last
from bot.settings import Settings


def checkin_flag(uow: UnitOfWork, proposal_id: int) -> dict[str, Any] | None:
    """The standing "no check-in for two periods" flag of a proposal, for status and the
    portfolio: the latest `checkin.flagged` audit detail with no check-in after it."""
    flag = None
    for event in uow.audit.for_proposal(proposal_id):
        if event.action == "checkin.flagged":
            flag = event
    if flag is None:
        return None
    latest = uow.checkins.latest(proposal_id)
    if latest is not None and as_utc(latest.created_at) >= as_utc(flag.created_at):
        return None
    return {"flagged_at": as_utc(flag.created_at).isoformat(), **flag.detail}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status_message(
    uow: UnitOfWork,
    settings: Settings,
    proposal_id: int,
    viewer: str | None = None,
    *,
    now: datetime | None = None,
    min_pilot_days: int = 0,
) -> Message:
    """`status <id>`: everything known about one proposal (NotFound for an unknown id)
    for the operator (`viewer` None) and for those `may_see_details`; a summary without
    comments, decisions or trail for anyone else."""
    data = status_data(uow, proposal_id, now=now, min_pilot_days=min_pilot_days)
    if viewer is not None and not may_see_details(uow, settings, proposal_id, viewer):
        return compose.status_summary(data)
    message = compose.status_message(data, settings.timezone)
    return _with_assess_button(message, data["proposal"], viewer)


def _with_assess_button(message: Message, proposal: dict[str, Any], viewer: str | None) -> Message:
    """The owner of a live proposal whose regulatory questions nobody answered gets the
    button that asks them (`assess <id>`)."""
    if viewer is None or viewer != proposal.get("owner") or proposal.get("stage") in NOT_LIVE:
        return message
    if regulatory_answered(proposal.get("answers") or {}):
        return message
    button = Button(ASSESS_OPEN, "Answer regulatory questions", str(proposal["id"]))
    return replace(message, buttons=(*message.buttons, button))


def may_see_details(uow: UnitOfWork, settings: Settings, proposal_id: int, viewer: str) -> bool:
    """Whether `viewer` may read a proposal's comments, decisions and audit trail: its
    requester and owner, everyone asked to approve it (the routed approvers, the holders
    of the roles it is routed to, whoever decided), and governance."""
    with uow:
        row = uow.proposals.get(proposal_id)
        if viewer in (row.requester, row.owner):
            return True
        requests = uow.approvals.for_proposal(proposal_id)
        if any(viewer == r.approver for r in requests):
            return True
        if any(viewer in (d.actor, d.on_behalf_of) for d in uow.decisions.for_proposal(proposal_id)):
            return True
        if is_governance(uow, viewer, settings):
            return True
        live = [r for r in requests if r.status != "superseded"]
        return any(viewer in request_holders(uow, settings, r) for r in live)


def ceiling_record(risk_level: str, asked: Any, result: dict[str, Any] | None) -> dict[str, Any]:
    """`autonomy_ceiling` in `status --json`: the highest autonomy the policy lets a
    workflow of its risk level run at, what the proposal asked for, and whether it
    runs capped."""
    stamped = (result or {}).get("autonomy_ceiling")
    level = stamped if isinstance(stamped, str) else duties.ceiling_for(risk_level, duties.DEFAULT_AUTONOMY_CEILING)
    asked = asked if isinstance(asked, str) else None
    return {"level": level, "asked": asked, "capped": asked is not None and duties.past_ceiling(asked, level)}


def status_data(
    uow: UnitOfWork, proposal_id: int, *, now: datetime | None = None, min_pilot_days: int = 0
) -> dict[str, Any]:
    """`govbot status ID --json`: proposal, classification, stop conditions,
    approvals, decisions, check-ins, incidents, value against target, the production
    gate, audit trail, undelivered outbox rows, JSON-ready. Raises NotFound for an
    unknown id. `now` and `min_pilot_days` (the policy's) judge the pilot time of the gate."""
    with uow:
        p = uow.proposals.get(proposal_id)
        gate_now = now if now is not None else as_utc(p.stage_changed_at)
        unmet = production_gate(gate_input(uow, p, gate_now, min_pilot_days)) if p.stage == "pilot" else []
        latest = uow.classifications.latest(proposal_id)
        stops = uow.stop_conditions.for_proposal(proposal_id)
        requests = uow.approvals.for_proposal(proposal_id)
        every = uow.decisions.for_proposal(proposal_id)  # oldest first: the latest per request wins below
        decided = {d.request_id: d for d in every}
        checkins = uow.checkins.for_proposal(proposal_id)
        audit = uow.audit.for_proposal(proposal_id)
        undelivered = uow.outbox.pending_for_proposal(proposal_id)
        revisions = uow.proposals.revisions(proposal_id)
        flag = checkin_flag(uow, proposal_id)  # "no check-in for two periods" (bot.service.jobs)
        similar = uow.similarity.linked(proposal_id)  # near-duplicates in other departments, still live
        downstream = uow.handoffs.for_proposal(proposal_id)
        changes = since_last(uow, p)  # from the previous revision to this one
        incidents = uow.incidents.for_proposal(proposal_id)
    return {
        "proposal": {
            "id": p.id,
            "title": p.title,
            "requester": p.requester,
            "channel": p.channel,
            "department": p.department,
            "owner": p.owner,
            "stage": p.stage,
            "risk_level": p.risk_level,
            "capacity": p.capacity,
            "autonomy": p.autonomy,
            "eu_tier": p.eu_tier,
            "vendor": p.vendor,
            "model": p.model,
            "downstream": downstream,
            "revision": p.revision,
            "answers": p.answers,
            "created_at": _iso(p.created_at),
            "updated_at": _iso(p.updated_at),
            "stage_changed_at": _iso(p.stage_changed_at),
        },
        # the stamp keys are always there (null on a verdict stored before policy versions)
        "classification": {"policy_version": None, "policy_hash": None, **latest.result} if latest else None,
        "classification_revision": latest.revision if latest else None,
        # what the last resubmission changed: answers and verdict, old -> new (null before one)
        "changes": proposal_view.changes_to_json(changes) if changes is not None else None,
        "revisions": [
            {"revision": r.revision, "author": r.author, "created_at": _iso(r.created_at)} for r in revisions
        ],
        "stop_conditions": [stop_record(s, _iso) for s in stops],
        "approvals": [
            approval_record(
                r, decided.get(r.id), _iso, sequence=True, decisions=[d for d in every if d.request_id == r.id]
            )
            for r in requests
        ],
        "checkins": [checkin_record(c, _iso) for c in checkins],
        "value": value_standing(p, checkins),
        "production_gate": {"unmet": gate_json(unmet), "override": last_override(audit)},
        "checkin_flag": flag,
        "incidents": [incident_record(i, _iso) for i in incidents],
        "autonomy": p.autonomy,
        "autonomy_ceiling": ceiling_record(p.risk_level, p.answers.get("autonomy"), latest.result if latest else None),
        "similar": [x.to_json() for x in similar],
        "similar_reasons": {str(x.id): x.reason for x in similar},
        "undelivered": [
            {
                "id": o.id,
                "channel": o.channel,
                "recipient": o.recipient,
                "kind": o.kind,
                "status": o.status,
                "attempts": o.attempts,
                "last_error": o.last_error,
                "next_attempt_at": _iso(o.next_attempt_at),
            }
            for o in undelivered
        ],
        "audit": [
            {"actor": e.actor, "action": e.action, "detail": e.detail, "created_at": _iso(e.created_at)} for e in audit
        ],
    }


def proposal_message(uow: UnitOfWork, settings: Settings, proposal_id: int, viewer: str | None = None) -> Message:
    """`proposal <id>` (and the "Full proposal" button): every answer, the verdict and
    what the last resubmission changed, for those who `may_see_details` (Refused for
    anyone else; NotFound for an unknown id)."""
    if viewer is not None and not may_see_details(uow, settings, proposal_id, viewer):
        raise Refused(
            f"#{proposal_id}: the whole proposal is shown to its requester, its owner, the people asked to "
            f"approve it and governance; `status {proposal_id}` shows where it stands"
        )
    with uow:
        row = uow.proposals.get(proposal_id)
        latest = uow.classifications.latest(proposal_id)
        changes = since_last(uow, row)
    result = latest.result if latest else None
    return proposal_view.full_proposal_message(proposal_view.proposal_facts(row), result, changes)
