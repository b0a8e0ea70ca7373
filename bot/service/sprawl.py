"""Near-duplicates and hand-offs at submission (DESIGN.md "Sprawl, vendors and hand-offs").

A submitted proposal is compared with the live proposals of other departments; what
it resembles is stored with it (both directions), shown to the requester, on every
approval card, in `status` and the digest, and grouped into clusters in the portfolio.
Each `downstream` department's lead is routed as an approver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.approval_rules import ROUTED_TO_GOVERNANCE, Route
from bot.domain.policy import Policy
from bot.domain.records import ProposalRow
from bot.domain.similarity import Match, SimilarityRules, TextVector, same_department
from bot.messages import compose
from bot.messages.message import Message
from bot.ports import SimilarityMatcher, UnitOfWork
from bot.service.roles import governance_members, holders
from bot.settings import Settings

KEPT = 10  # near-duplicates stored per proposal


def describe(matcher: SimilarityMatcher, rules: SimilarityRules, answers: dict[str, Any]) -> TextVector:
    """The matcher's vector of a proposal (an embeddings call happens here, outside
    any transaction)."""
    return matcher.describe(answers["title"], answers.get("description"), rules)


def similar_notice(
    uow: UnitOfWork,
    matcher: SimilarityMatcher,
    policy: Policy,
    answers: dict[str, Any],
    proposal_id: int | None = None,
) -> Message | None:
    """See `Govbot.similar_notice`."""
    title = answers.get("title")
    if not isinstance(title, str) or not title.strip():
        return None
    rules = policy.similarity
    vector = describe(matcher, rules, {**answers, "title": title})
    with uow:
        found = uow.similarity.nearest(
            vector,
            title,
            answers.get("description"),
            department=answers.get("department"),
            rules=rules,
            exclude_id=proposal_id,
            limit=rules.shown,
        )
    return compose.similar_notice(found, title)


def known_names(uow: UnitOfWork) -> dict[str, list[str]]:
    """See `Govbot.known_names`."""
    with uow:
        return uow.handoffs.known_names()


def record(
    uow: UnitOfWork, rules: SimilarityRules, row: ProposalRow, vector: TextVector, now: datetime, *, first: bool = False
) -> list[Match]:
    """Find the live near-duplicates of `row` in other departments, store its vector,
    the pairs found and its downstream departments; returns the pairs, best first.
    `first`: a new proposal, with nothing stored yet to replace."""
    answers = row.answers or {}
    found = uow.similarity.nearest(
        vector,
        row.title,
        answers.get("description"),
        department=row.department,
        rules=rules,
        exclude_id=row.id,
        limit=KEPT,
    )
    uow.similarity.put(row.id, vector, now, replace=not first)
    uow.similarity.link(row.id, found, now, replace=not first)
    uow.handoffs.set(row.id, answers.get("downstream") or [], replace=not first)
    return found


def shown(rules: SimilarityRules, matches: Sequence[Match]) -> list[Match]:
    """The near-duplicates a message lists (the policy's `shown`)."""
    return list(matches[: rules.shown])


def audit_detail(matches: Sequence[Match]) -> list[dict[str, Any]]:
    return [{"id": x.id, "score": x.score} for x in matches]


def handoff_routes(
    uow: UnitOfWork, settings: Settings, answers: dict[str, Any], routes: Sequence[Route]
) -> list[Route]:
    """A `department_lead` route for each downstream department other than the
    proposal's own and those already routed; a department nobody leads goes to
    governance, with a note that names it."""
    own = answers.get("department")
    routed = {(r.department or "").casefold() for r in routes if r.role == "department_lead"}
    out: list[Route] = []
    gov: list[str] | None = None
    for dept in answers.get("downstream") or ():
        if same_department(own, dept) or dept.casefold() in routed:
            continue
        routed.add(dept.casefold())
        found = holders(uow, "department_lead", dept)
        if found:
            out.append(Route("department_lead", dept, found[0], f"{dept} receives its output"))
            continue
        gov = governance_members(uow, settings) if gov is None else gov
        if gov:
            why = f"{dept} receives its output, but no department_lead is assigned for {dept}"
            out.append(Route("department_lead", dept, gov[0], f"{why}; {ROUTED_TO_GOVERNANCE}"))
    return out
