"""Submitting and resubmitting proposals, and the status record (for `Govbot`).

A submission is validated, classified and stored in one unit of work together with
its approval requests, audit events and outbox messages. A resubmission after
"changes requested" is re-classified: a changed risk level re-opens every approval;
otherwise earlier approvals stand, the requests that asked for changes re-open and
only newly routed roles are added.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from typing import Any

from bot.domain import approval_rules
from bot.domain.approval_rules import NoGovernance, Route, current, route_key
from bot.domain.errors import Conflict, NotFound, Refused, UsageError
from bot.domain.proposal import validate_proposal
from bot.domain.records import ProposalRow
from bot.domain.similarity import TextVector
from bot.messages import compose
from bot.service import approvals, decisions, notify, sprawl
from bot.service.results import Submitted

logger = logging.getLogger(__name__)

IDEMPOTENCY_PREFIX = "idempotency:submit:"


def _classify(core: Any, answers: dict[str, Any]) -> dict[str, Any]:
    from bot.domain.classifier import classify

    return classify(answers, core.policy)


def _eu_tier(result: dict[str, Any]) -> str | None:
    return ((result.get("regulatory") or {}).get("eu_ai_act") or {}).get("tier")


def _apply(row: ProposalRow, answers: dict[str, Any], result: dict[str, Any]) -> None:
    row.title = answers["title"]
    row.department = answers.get("department")
    row.owner = answers.get("owner")
    row.capacity = answers.get("capacity")
    row.answers = answers
    row.risk_level = result["risk_level"]
    row.eu_tier = _eu_tier(result)
    row.vendor = answers.get("vendor")
    row.model = answers.get("model")


def submit(
    core: Any, actor: str, channel: str, answers: dict[str, Any], proposal_id: int | None, idempotency_key: str | None
) -> Submitted:
    """See `Govbot.submit`."""
    clean = validate_proposal(answers)
    key = idempotency_name(actor, idempotency_key) if idempotency_key else None
    if key:
        with core.uow() as uow:
            done = uow.settings.get(key)
        if done:
            return _replay(core, json.loads(done))
    result = _classify(core, clean)
    vector = sprawl.describe(core, clean)  # an embeddings call, if any, before the transaction
    try:
        if proposal_id is not None:
            return _resubmit(core, actor, proposal_id, clean, result, key, vector)
        return _first(core, actor, channel, clean, result, key, vector)
    except NoGovernance as exc:
        raise core._refuse(actor, proposal_id, "proposal.refused", str(exc)) from None
    except Conflict:
        if key:
            with core.uow() as uow:
                done = uow.settings.get(key)
            if done:
                return _replay(core, json.loads(done))
        raise


def idempotency_name(actor: str, idempotency_key: str) -> str:
    """The settings key recording a submission (a hash: ids and keys can be long)."""
    digest = hashlib.sha256(f"{actor}\n{idempotency_key}".encode()).hexdigest()[:40]
    return IDEMPOTENCY_PREFIX + digest


def _claim(core: Any, uow: Any, key: str | None, now: Any, *, unrecorded: bool = False) -> None:
    """Guard against the same submission running twice at once: the (job, period)
    row is unique, so a concurrent twin waits and then finds it taken. `unrecorded`:
    the caller has just seen, in this unit of work, that the key is not recorded."""
    if key is None:
        return
    if (not unrecorded and uow.settings.get(key)) or not uow.jobs.claim(
        "submit", key.removeprefix(IDEMPOTENCY_PREFIX), core.instance, now
    ):
        raise Conflict("this submission is already recorded")


def _done(uow: Any, key: str | None, proposal_id: int, revision: int, now: Any) -> None:
    if key is None:
        return
    uow.settings.put(key, json.dumps({"proposal_id": proposal_id, "revision": revision}))
    uow.jobs.finish(
        "submit", key.removeprefix(IDEMPOTENCY_PREFIX), "done", {"proposal_id": proposal_id, "revision": revision}, now
    )


def _first(
    core: Any,
    actor: str,
    channel: str,
    answers: dict[str, Any],
    result: dict[str, Any],
    key: str | None,
    vector: TextVector | None = None,
) -> Submitted:
    with core.uow() as uow:
        submitted = _first_in(core, uow, actor, channel, answers, result, key, core.clock.now(), vector=vector)
        uow.commit()
    _log_first(submitted, actor)
    return submitted


def _log_first(submitted: Submitted, actor: str) -> None:
    risk, count = submitted.classification["risk_level"], len(submitted.approval_request_ids)
    logger.info("proposal %s submitted by %s: %s risk, %s request(s)", submitted.proposal_id, actor, risk, count)


def _first_in(
    core: Any,
    uow: Any,
    actor: str,
    channel: str,
    answers: dict[str, Any],
    result: dict[str, Any],
    key: str | None,
    now: Any,
    *,
    unrecorded: bool = False,
    vector: TextVector | None = None,
) -> Submitted:
    """Store, route and queue a first submission inside `uow` (the caller commits)."""
    settings = core.settings
    _claim(core, uow, key, now, unrecorded=unrecorded)
    row = ProposalRow(
        id=0,
        title=answers["title"],
        requester=actor,
        channel=channel,
        department=None,
        owner=None,
        stage="in_review",
        risk_level="low",
        capacity=None,
        autonomy=answers.get("autonomy"),
        eu_tier=None,
        revision=1,
        answers=answers,
        created_at=now,
        updated_at=now,
        stage_changed_at=now,
    )
    _apply(row, answers, result)
    row = uow.proposals.add(row, author=actor)
    uow.classifications.add(row.id, row.revision, result, now)
    uow.stop_conditions.set_open(row.id, result.get("stop_conditions") or [], now)
    similar = sprawl.record(core, uow, row, vector or sprawl.describe(core, answers), now, first=True)
    routes = approvals.plan_routes(uow, settings, result.get("approver_roles") or [], answers)
    routes += sprawl.handoff_routes(uow, settings, answers, routes)
    requests = approvals.open_requests(uow, row, routes, round=row.revision, now=now, owner_first=settings.owner_first)
    uow.audit.add(
        row.id,
        actor,
        "proposal.submitted",
        {
            "revision": row.revision,
            "channel": channel,
            "risk_level": row.risk_level,
            "stop_conditions": result.get("stop_conditions") or [],
            "approver_roles": result.get("approver_roles"),
            "similar": sprawl.audit_detail(similar),
        },
        now,
    )
    _audit_requested(uow, row, actor, requests, now)
    listed = sprawl.shown(core, similar)
    message = compose.classification_message(row, result, requests, similar=listed)
    notify.send(
        uow,
        settings,
        row,
        actor,
        message,
        now,
        ref_key=f"classification:{row.id}",
        dedupe_key=f"classification:{row.id}:{row.revision}",
    )
    for r in requests:
        if approval_rules.released(r, requests):
            card = compose.approval_request_card(row, r, result, similar=listed)
            notify.queue_request(uow, settings, row, r, result, now, card=card)
    uow.drafts.delete(channel, actor)
    _done(uow, key, row.id, row.revision, now)
    return Submitted(row.id, row.revision, result, message, [r.id for r in requests])


def _replay(core: Any, done: dict[str, Any]) -> Submitted:
    with core.uow() as uow:
        return _replay_in(uow, done)


def _replay_in(uow: Any, done: dict[str, Any]) -> Submitted:
    """The first result of a recorded submission, read in `uow`, as a duplicate."""
    pid, revision = int(done["proposal_id"]), int(done["revision"])
    row = uow.proposals.get(pid)
    found = uow.classifications.latest(pid)
    result = found.result if found else {}
    requests = [r for r in uow.approvals.for_proposal(pid) if r.round == revision and r.kind == "proposal"]
    similar = uow.similarity.linked(pid)
    message = compose.classification_message(row, result, requests, resubmitted=revision > 1, similar=similar[:3])
    return Submitted(pid, revision, result, message, [r.id for r in requests], duplicate=True)


def _resubmit(
    core: Any,
    actor: str,
    proposal_id: int,
    answers: dict[str, Any],
    result: dict[str, Any],
    key: str | None,
    vector: TextVector,
) -> Submitted:
    settings = core.settings
    now = core.clock.now()
    problem = None
    with core.uow() as uow:
        _claim(core, uow, key, now)
        try:
            row = uow.proposals.get(proposal_id, for_update=True)
        except NotFound:
            raise UsageError(f"id: there is no proposal {proposal_id}") from None
        problem = core._edit_problem(actor, row)
        if problem is None:
            before_risk = row.risk_level
            revision = uow.proposals.add_revision(row.id, answers, actor, now)
            _apply(row, answers, result)
            row.revision = revision
            row.updated_at = now
            uow.proposals.update(row)
            uow.classifications.add(row.id, revision, result, now)
            uow.stop_conditions.set_open(row.id, result.get("stop_conditions") or [], now)
            similar = sprawl.record(core, uow, row, vector, now)
            listed = sprawl.shown(core, similar)
            routes = approvals.plan_routes(uow, settings, result.get("approver_roles") or [], answers)
            routes += sprawl.handoff_routes(uow, settings, answers, routes)
            existing = current(uow.approvals.for_proposal(row.id))
            plan = _reconcile(existing, routes, risk_changed=before_risk != row.risk_level)
            superseded = approvals.supersede(
                uow, settings, row, plan["supersede"], f"#{row.id} was resubmitted as revision {revision}", now
            )
            opened = approvals.open_requests(
                uow, row, plan["open"], round=revision, now=now, owner_first=settings.owner_first
            )
            uow.audit.add(
                row.id,
                actor,
                "proposal.resubmitted",
                {
                    "revision": revision,
                    "risk_before": before_risk,
                    "risk_after": row.risk_level,
                    "stop_conditions": result.get("stop_conditions") or [],
                    "reopened_all": before_risk != row.risk_level,
                    "superseded": superseded,
                    "opened": [r.id for r in opened],
                    "kept": [r.id for r in plan["keep"]],
                    "similar": sprawl.audit_detail(similar),
                },
                now,
            )
            _audit_requested(uow, row, actor, opened, now)
            approvals.move(uow, row, "in_review", actor, now, revision=revision)
            live = current(uow.approvals.for_proposal(row.id))
            message = compose.classification_message(row, result, live, resubmitted=True, similar=listed)
            notify.send(
                uow,
                settings,
                row,
                row.requester,
                message,
                now,
                ref_key=f"classification:{row.id}",
                dedupe_key=f"classification:{row.id}:{revision}",
            )
            for r in live:
                if r.status != "pending" or not approval_rules.released(r, live):
                    continue
                card = compose.approval_request_card(row, r, result, similar=listed)
                if r in opened:
                    notify.queue_request(uow, settings, row, r, result, now, card=card)
                else:  # a kept request: show the approver the new revision
                    notify.update_card(uow, settings, row, r, card, now, f"rev{revision}")
            decisions.complete_if_done(uow, settings, row, live, actor, now)
            uow.drafts.delete(row.channel, actor)
            _done(uow, key, row.id, revision, now)
            uow.commit()
    if problem:
        raise core._refuse(actor, proposal_id, "proposal.edit_refused", problem)
    logger.info("proposal %s resubmitted by %s as revision %s", row.id, actor, revision)
    return Submitted(row.id, revision, result, message, [r.id for r in live if r.kind == "proposal"])


def _audit_requested(uow: Any, row: ProposalRow, actor: str, requests: list[Any], now: Any) -> None:
    """One `approval.requested` audit event per opened request."""
    for r in requests:
        detail = {
            "request_id": r.id,
            "role": r.role,
            "department": r.department,
            "approver": r.approver,
            "note": r.note,
            "sequence": r.sequence,
        }
        uow.audit.add(row.id, actor, "approval.requested", detail, now)


def _reconcile(existing: list[Any], routes: list[Route], risk_changed: bool) -> dict[str, list[Any]]:
    """Which live requests to keep or supersede, and which routes to open."""
    if risk_changed:
        return {"keep": [], "supersede": list(existing), "open": list(routes)}
    by_key = {route_key(r.role, r.department, r.approver): r for r in existing}
    keep, drop, opening = [], [], []
    for route in routes:
        found = by_key.pop(route_key(route.role, route.department, route.approver), None)
        if found is None:
            opening.append(route)
        elif found.status in ("approved", "pending"):
            keep.append(found)
        else:  # changes_requested (or rejected): ask the same role again
            drop.append(found)
            opening.append(replace(route))
    drop.extend(r for r in by_key.values() if r.status != "approved")  # roles no longer routed
    keep.extend(r for r in by_key.values() if r.status == "approved")
    return {"keep": keep, "supersede": drop, "open": opening}


# --------------------------------------------------------------------------- status


__all__ = ["Refused", "submit"]
