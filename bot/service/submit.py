"""Submitting and resubmitting proposals (for `Govbot.submit`).

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
from datetime import datetime
from typing import Any

from bot.domain import approval_rules, duties
from bot.domain.approval_rules import NoGovernance, Route, current, route_key
from bot.domain.classifier import classify
from bot.domain.errors import Conflict, NotFound, UsageError
from bot.domain.events import Event, RequestReleased, RequestRevised, RequestSuperseded
from bot.domain.policy import Policy
from bot.domain.proposal import validate_proposal
from bot.domain.records import ApprovalRequestRow, ProposalRow
from bot.domain.similarity import SimilarityRules, TextVector
from bot.messages import compose
from bot.ports import Clock, PolicySource, SimilarityMatcher, UnitOfWork
from bot.service import approvals, decisions, notify, reassess, sprawl
from bot.service.policy import stamped
from bot.service.publish import publish
from bot.service.refusals import refuse
from bot.service.results import InterviewStart, Submitted
from bot.settings import Settings

logger = logging.getLogger(__name__)

IDEMPOTENCY_PREFIX = "idempotency:submit:"


def classify_answers(policy: Policy, answers: dict[str, Any]) -> dict[str, Any]:
    """The `govbot classify` verdict of validated answers under `policy`, stamped with
    the policy's version and content hash (`policy_version`, `policy_hash`)."""
    return stamped(classify(answers, policy), policy)


def _eu_tier(result: dict[str, Any]) -> str | None:
    return ((result.get("regulatory") or {}).get("eu_ai_act") or {}).get("tier")


def running_autonomy(answers: dict[str, Any], result: dict[str, Any]) -> str | None:
    """The autonomy a new workflow runs at: what it asked for, capped at the ceiling
    its verdict carries (DESIGN.md "Gates": accepted and shown capped)."""
    asked = answers.get("autonomy")
    ceiling = result.get("autonomy_ceiling")
    if asked is None or not isinstance(ceiling, str):
        return asked if isinstance(asked, str) else None
    return duties.capped(asked, ceiling)


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
    uow: UnitOfWork,
    clock: Clock,
    policy: PolicySource,
    settings: Settings,
    actor: str,
    channel: str,
    answers: dict[str, Any],
    proposal_id: int | None,
    idempotency_key: str | None,
    *,
    instance: str,
    matcher: SimilarityMatcher,
) -> Submitted:
    """See `Govbot.submit`. `instance` names this process in the idempotency claim;
    `matcher` describes the proposal for finding its near-duplicates."""
    clean = validate_proposal(answers)
    key = idempotency_name(actor, idempotency_key) if idempotency_key else None
    if key:
        with uow:
            done = uow.keyvalues.get(key)
        if done:
            return _replay(uow, json.loads(done))
    current_policy = policy.current()
    result = classify_answers(current_policy, clean)
    rules = current_policy.similarity
    vector = sprawl.describe(matcher, rules, clean)  # an embeddings call, if any, before the transaction
    if proposal_id is not None and reassess.editing(uow, actor, proposal_id):
        return reassess.resubmit(
            uow,
            clock,
            settings,
            actor,
            proposal_id,
            clean,
            result,
            claim=lambda u, now: _claim(u, key, now, instance),
            done=lambda u, pid, revision, now: _done(u, key, pid, revision, now),
        )
    try:
        if proposal_id is not None:
            return _resubmit(uow, clock, settings, actor, proposal_id, clean, result, key, instance, vector, rules)
        return _first(uow, clock, settings, actor, channel, clean, result, key, instance, vector, rules)
    except NoGovernance as exc:
        raise refuse(uow, clock, actor, proposal_id, "proposal.refused", str(exc)) from None
    except Conflict:
        if key:
            with uow:
                done = uow.keyvalues.get(key)
            if done:
                return _replay(uow, json.loads(done))
        raise


def edit_problem(actor: str, row: ProposalRow) -> str | None:
    """Why `actor` may not edit `row` now (None when they may): only the requester or
    the owner, and only after changes were requested."""
    if actor not in (row.requester, row.owner):
        return f"only the requester ({compose.mention(row.requester)}) or the owner may edit #{row.id}"
    if row.stage != "changes_requested":
        return f"#{row.id} is {row.stage}; a proposal can be edited only after changes were requested"
    return None


def edit_seed(uow: UnitOfWork, clock: Clock, actor: str, proposal_id: int) -> InterviewStart:
    """See `Govbot.edit_seed`."""
    with uow:
        try:
            row = uow.proposals.get(proposal_id)
        except NotFound:
            raise UsageError(f"id: there is no proposal {proposal_id}; see `mine` for yours") from None
    problem = edit_problem(actor, row)
    if problem and reassess.editing(uow, actor, row.id):
        problem = None  # a running workflow's answers, edited in its review
    if problem:
        raise refuse(uow, clock, actor, row.id, "proposal.edit_refused", problem)
    return InterviewStart(seed=dict(row.answers), proposal_id=row.id, resumed=False)


def idempotency_name(actor: str, idempotency_key: str) -> str:
    """The key-value key recording a submission (a hash: ids and keys can be long)."""
    digest = hashlib.sha256(f"{actor}\n{idempotency_key}".encode()).hexdigest()[:40]
    return IDEMPOTENCY_PREFIX + digest


def _claim(uow: UnitOfWork, key: str | None, now: datetime, instance: str, *, unrecorded: bool = False) -> None:
    """Guard against the same submission running twice at once: the (job, period)
    row is unique, so a concurrent twin waits and then finds it taken. `unrecorded`:
    the caller has just seen, in this unit of work, that the key is not recorded."""
    if key is None:
        return
    if (not unrecorded and uow.keyvalues.get(key)) or not uow.jobs.claim(
        "submit", key.removeprefix(IDEMPOTENCY_PREFIX), instance, now
    ):
        raise Conflict("this submission is already recorded")


def _done(uow: UnitOfWork, key: str | None, proposal_id: int, revision: int, now: datetime) -> None:
    if key is None:
        return
    uow.keyvalues.put(key, json.dumps({"proposal_id": proposal_id, "revision": revision}))
    uow.jobs.finish(
        "submit", key.removeprefix(IDEMPOTENCY_PREFIX), "done", {"proposal_id": proposal_id, "revision": revision}, now
    )


def _first(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    channel: str,
    answers: dict[str, Any],
    result: dict[str, Any],
    key: str | None,
    instance: str,
    vector: TextVector,
    rules: SimilarityRules,
) -> Submitted:
    with uow:
        submitted = first_in(
            uow, settings, actor, channel, answers, result, key, clock.now(), instance, vector=vector, rules=rules
        )
        uow.commit()
    log_first(submitted, actor)
    return submitted


def log_first(submitted: Submitted, actor: str) -> None:
    """Log a first submission (after its commit)."""
    risk, count = submitted.classification["risk_level"], len(submitted.approval_request_ids)
    logger.info("proposal %s submitted by %s: %s risk, %s request(s)", submitted.proposal_id, actor, risk, count)


def first_in(
    uow: UnitOfWork,
    settings: Settings,
    actor: str,
    channel: str,
    answers: dict[str, Any],
    result: dict[str, Any],
    key: str | None,
    now: datetime,
    instance: str,
    *,
    vector: TextVector,
    rules: SimilarityRules,
    unrecorded: bool = False,
) -> Submitted:
    """Store, route and queue a first submission inside the open `uow` (the caller
    commits). `key` is its idempotency name (or None); `unrecorded`: the caller has
    just seen, in this unit of work, that the key is not recorded; `vector` (from
    `sprawl.describe`) finds its near-duplicates under `rules`."""
    _claim(uow, key, now, instance, unrecorded=unrecorded)
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
        autonomy=running_autonomy(answers, result),
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
    similar = sprawl.record(uow, rules, row, vector, now, first=True)
    routes = approvals.plan_routes(uow, settings, result.get("approver_roles") or [], answers)
    routes += sprawl.handoff_routes(uow, settings, answers, routes)
    routes = approvals.separate(
        uow, routes, requester=actor, owner=answers.get("owner"), quorum=result.get("approver_quorum")
    )
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
    message = compose.classification_message(row, result, requests, similar=sprawl.shown(rules, similar))
    notify.send_classification(uow, settings, row, actor, message, now)
    released = [RequestReleased(r) for r in requests if approval_rules.released(r, requests)]
    publish(uow, settings, row, released, now, classification=result)
    uow.drafts.delete(channel, actor)
    _done(uow, key, row.id, row.revision, now)
    return Submitted(row.id, row.revision, result, message, [r.id for r in requests])


def _replay(uow: UnitOfWork, done: dict[str, Any]) -> Submitted:
    with uow:
        return replay_in(uow, done)


def replay_in(uow: UnitOfWork, done: dict[str, Any]) -> Submitted:
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
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    proposal_id: int,
    answers: dict[str, Any],
    result: dict[str, Any],
    key: str | None,
    instance: str,
    vector: TextVector,
    rules: SimilarityRules,
) -> Submitted:
    now = clock.now()
    problem = None
    with uow:
        _claim(uow, key, now, instance)
        try:
            row = uow.proposals.get(proposal_id, for_update=True)
        except NotFound:
            raise UsageError(f"id: there is no proposal {proposal_id}") from None
        problem = edit_problem(actor, row)
        if problem is None:
            before_risk = row.risk_level
            revision = uow.proposals.add_revision(row.id, answers, actor, now)
            _apply(row, answers, result)
            row.revision = revision
            row.updated_at = now
            uow.proposals.update(row)
            uow.classifications.add(row.id, revision, result, now)
            uow.stop_conditions.set_open(row.id, result.get("stop_conditions") or [], now)
            similar = sprawl.record(uow, rules, row, vector, now)
            listed = sprawl.shown(rules, similar)
            routes = approvals.plan_routes(uow, settings, result.get("approver_roles") or [], answers)
            routes += sprawl.handoff_routes(uow, settings, answers, routes)
            routes = approvals.separate(
                uow, routes, requester=row.requester, owner=row.owner, quorum=result.get("approver_quorum")
            )
            existing = current(uow.approvals.for_proposal(row.id))
            plan = _reconcile(existing, routes, risk_changed=before_risk != row.risk_level)
            events: list[Event] = [
                *approvals.supersede(uow, plan["supersede"], f"#{row.id} was resubmitted as revision {revision}", now)
            ]
            superseded = [e.request.id for e in events if isinstance(e, RequestSuperseded)]
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
            events.append(approvals.move(uow, row, "in_review", actor, now, revision=revision))
            live = current(uow.approvals.for_proposal(row.id))
            message = compose.classification_message(row, result, live, resubmitted=True, similar=listed)
            notify.send_classification(uow, settings, row, row.requester, message, now)
            for r in live:
                if r.status == "pending" and approval_rules.released(r, live):
                    # a kept request shows the approver the new revision
                    events.append(RequestReleased(r) if r in opened else RequestRevised(r, revision))
            events += decisions.complete_if_done(uow, row, live, actor, now)
            publish(uow, settings, row, events, now, classification=result)
            uow.drafts.delete(row.channel, actor)
            _done(uow, key, row.id, revision, now)
            uow.commit()
    if problem:
        raise refuse(uow, clock, actor, proposal_id, "proposal.edit_refused", problem)
    logger.info("proposal %s resubmitted by %s as revision %s", row.id, actor, revision)
    return Submitted(row.id, revision, result, message, [r.id for r in live if r.kind == "proposal"])


def _audit_requested(
    uow: UnitOfWork, row: ProposalRow, actor: str, requests: list[ApprovalRequestRow], now: datetime
) -> None:
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


def _reconcile(existing: list[ApprovalRequestRow], routes: list[Route], risk_changed: bool) -> dict[str, list[Any]]:
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
