"""`assess <id>` (DESIGN.md "Regulatory mapping"): the owner answers the regulatory
questions that decide a proposal's EU AI Act tier and were neither answered nor
settled by its words (`bot.domain.assessment` chooses them).

The answers go into a new revision, the proposal is re-classified with them (the
words' raises stay: an answer never lowers them), and the change is audited with the
tier and risk before and after. A changed risk level reopens every approval, as an
edited reassessment does; roles the new verdict needs that were never asked are
asked, as a policy apply does (`bot.service.reopen`). Bad input raises
`ProposalInvalid` naming each key and what it allows, and writes nothing.

Who answers: the owner, who is accountable for the workflow; governance only for a
proposal without an owner (an imported inventory row). Anyone else is refused, and
the refusal is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.domain import assessment
from bot.domain.errors import NotFound, ProposalInvalid, UsageError
from bot.domain.policy import Policy
from bot.domain.policy_diff import NOT_LIVE, tier_of, verdict_change
from bot.domain.records import ProposalRow
from bot.messages import assess as messages
from bot.messages import compose
from bot.messages.message import Message
from bot.ports import Clock, UnitOfWork
from bot.service import notify
from bot.service.refusals import refuse
from bot.service.reopen import ASK_IN, ask_missing_roles, reopen_all, stored_verdict
from bot.service.results import AssessForm
from bot.service.roles import is_governance
from bot.service.submit import classify_answers
from bot.settings import Settings

logger = logging.getLogger(__name__)

REFUSED = "assess.refused"
ASSESSED = "regulatory.assessed"


def form(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    settings: Settings,
    actor: str,
    proposal_id: int,
    given: Mapping[str, Any] | None = None,
) -> AssessForm:
    """The questions to ask `actor` about `proposal_id` once `given` (answers collected
    so far, e.g. by the console one at a time) is applied. Refused (audited) for
    anyone but the owner; UsageError for an unknown or closed proposal."""
    with uow:
        row = _get(uow, proposal_id)
        problem = _problem(uow, settings, actor, row)
    if problem is not None:
        raise refuse(uow, clock, actor, row.id, REFUSED, problem)
    chosen = assessment.choose(row.answers, policy, given)
    return _as_form(row, chosen)


def nothing_message(form: AssessForm) -> Message:
    """What to say when `form` asks nothing."""
    return messages.nothing_to_ask(form.proposal_id, form.title, form.tier, form.basis, form.answered)


def intro_message(form: AssessForm) -> Message:
    """What to show above the questions of `form`."""
    return messages.form_intro(form.proposal_id, form.title, form.tier, form.basis, form.settled, len(form.questions))


def record(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    settings: Settings,
    actor: str,
    proposal_id: int,
    raw: Mapping[str, Any],
) -> Message:
    """Store the answers `raw` ({proposal key: value as a form sends it}) to the
    questions that apply now, re-classify, reopen approvals when the verdict needs it,
    audit, and return what changed."""
    now = clock.now()
    with uow:
        row = _get(uow, proposal_id, for_update=True)
        problem = _problem(uow, settings, actor, row)
        if problem is None:
            chosen = assessment.choose(row.answers, policy)
            if not chosen.questions:  # answered meanwhile (another form, another channel)
                return nothing_message(_as_form(row, chosen))
            clean, errors = assessment.parse(chosen, row.answers, policy, raw)
            if errors:
                raise ProposalInvalid(errors)  # nothing written: the unit of work rolls back
            message = _store(uow, settings, policy, actor, row, clean, now)
            uow.commit()
    if problem is not None:  # audited in a unit of work of its own
        raise refuse(uow, clock, actor, proposal_id, REFUSED, problem)
    logger.info("proposal %s: regulatory answers stored by %s", proposal_id, actor)
    return message


def _store(
    uow: UnitOfWork,
    settings: Settings,
    policy: Policy,
    actor: str,
    row: ProposalRow,
    clean: dict[str, Any],
    now: Any,
) -> Message:
    answers = {**row.answers, **clean}
    result = classify_answers(policy, answers)
    entry = verdict_change(stored_verdict(row, uow.classifications.latest(row.id)), result)
    tier_before, risk_before, stage_before = row.eu_tier, row.risk_level, row.stage
    revision = uow.proposals.add_revision(row.id, answers, actor, now)
    row.answers, row.revision, row.updated_at = answers, revision, now
    row.risk_level, row.eu_tier = result["risk_level"], tier_of(result)
    uow.proposals.update(row)
    uow.classifications.add(row.id, revision, result, now)
    uow.stop_conditions.set_open(row.id, result.get("stop_conditions") or [], now)
    opened, note = [], None
    if entry is not None and stage_before in ASK_IN:
        if risk_before != row.risk_level:
            why = "changed risk with its regulatory answers"
            opened = reopen_all(uow, settings, row, result, actor, now, why=why, round=revision, revision=revision)
        elif entry["approver_roles_added"]:
            why = "its regulatory answers need approval by {roles}"
            opened, note = ask_missing_roles(
                uow,
                settings,
                row,
                result,
                actor,
                now,
                why=why,
                request_detail={"revision": revision},
                revision=revision,
            )
    uow.audit.add(
        row.id,
        actor,
        ASSESSED,
        {
            "answers": clean,
            "revision": revision,
            "tier_before": tier_before,
            "tier_after": row.eu_tier,
            "risk_before": risk_before,
            "risk_after": row.risk_level,
            "approval_requests_opened": [r.id for r in opened],
            "stage_before": stage_before,
            "stage": row.stage,
        },
        now,
    )
    eu = (result.get("regulatory") or {}).get("eu_ai_act") or {}
    message = messages.assessed(
        row.id,
        row.title,
        (tier_before, row.eu_tier),
        (risk_before, row.risk_level),
        list(eu.get("basis") or ()),
        [(r.role, r.department) for r in opened],
        (stage_before, row.stage),
        note,
    )
    if row.requester and row.requester != actor:  # the requester hears of it too
        notify.send(uow, settings, row, row.requester, message, now, dedupe_key=f"assessed:{row.id}:{revision}")
    return message


def _get(uow: UnitOfWork, proposal_id: int, *, for_update: bool = False) -> ProposalRow:
    try:
        row = uow.proposals.get(proposal_id, for_update=for_update)
    except NotFound:
        raise UsageError(f"id: there is no proposal {proposal_id}; see `mine` for yours") from None
    if row.stage in NOT_LIVE:
        raise UsageError(f"id: #{proposal_id} is {row.stage}; only live proposals are assessed")
    return row


def _problem(uow: UnitOfWork, settings: Settings, actor: str, row: ProposalRow) -> str | None:
    """Why `actor` may not answer for `row` (None when they may)."""
    if row.owner:
        if actor == row.owner:
            return None
        return (
            f"only the owner of #{row.id} ({compose.mention(row.owner)}) answers its regulatory questions: "
            "they are accountable for what the workflow does"
        )
    if is_governance(uow, actor, settings):
        return None
    return f"#{row.id} has no owner, so only governance may answer its regulatory questions"


def _as_form(row: ProposalRow, chosen: assessment.Assessment) -> AssessForm:
    return AssessForm(
        row.id,
        row.title,
        chosen.questions,
        tuple(assessment.describe_raise(r) for r in chosen.raised),
        chosen.tier,
        chosen.basis,
        chosen.answered,
    )
