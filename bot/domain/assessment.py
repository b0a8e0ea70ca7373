"""Which regulatory questions `assess <id>` asks (DESIGN.md "Regulatory mapping").

A question is asked when three things hold: nobody answered it yet, the words did
not already settle it (a use area, practice or yes/no answer the text raised stays
raised: answers never lower it), and the EU AI Act tier depends on it — some answer
to it gives another tier than a different answer would, given everything already
known. Which keys the tier reads comes from the policy's tier rules, so a policy
with other rules asks other questions.

`choose` answers that for the stored answers plus those given so far (the console
asks one question at a time and chooses again after each answer, so "no use area"
drops the questions that only matter with one). `parse` checks what a form sent
for the chosen questions: clean values, or one error per key naming what is allowed;
a question that still decides the tier after the other answers were applied is
required.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from bot.domain import proposal
from bot.domain.classifier import detect
from bot.domain.errors import FieldError
from bot.domain.interview import parse_answer, regulatory_question
from bot.domain.policy import Facts, Policy
from bot.domain.questions import MULTI, Question, label_of
from bot.domain.regulatory import Raise, effective_answers, map_normalised

# The regulatory keys a tier can depend on, in the order they are asked: the use area
# first, since "none" makes the two after it irrelevant; `ai_act_role` changes the
# duties, never the tier, so it is not asked here.
TIER_KEYS: Final = (
    "use_area",
    "profiles_people",
    "narrow_procedural_task",
    "prohibited_practices",
    "interacts_with_people",
    "generates_content",
)


@dataclass(frozen=True)
class Assessment:
    """What `assess` asks: `questions` (empty: nothing left that changes the tier), the
    answers the words settled (`raised`, shown with their words), and the tier and
    basis as they stand."""

    questions: tuple[Question, ...]
    raised: tuple[Raise, ...]
    tier: str
    basis: tuple[str, ...]
    answered: bool  # `eu_ai_act.answered` of the stored answers plus those given

    def asked_keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions)


def choose(answers: Mapping[str, Any], policy: Policy, given: Mapping[str, Any] | None = None) -> Assessment:
    """The questions to ask for `answers` (a stored proposal) once `given` is applied."""
    merged = proposal.normalise({**answers, **(given or {})})
    found = detect(merged, policy)
    data = frozenset(merged.get("data") or ()) | found.data
    actions = frozenset(merged.get("actions") or ()) | found.actions
    effective, raises = effective_answers(merged, found.sources, policy)
    settled = {r.key for r in raises}
    open_keys = [k for k in TIER_KEYS if merged.get(k) is None and k not in settled]
    domains = [_domain(k, policy) for k in open_keys]
    tiers: dict[tuple[Any, ...], str] = {}
    for combo in itertools.product(*domains):
        trial = {**merged, **dict(zip(open_keys, combo, strict=True))}
        judged, _ = effective_answers(trial, found.sources, policy)
        tiers[combo] = tier_of(judged, data, actions, policy)
    defaults = tuple(d[0] for d in domains)
    asked = []
    for i, key in enumerate(open_keys):
        if _matters(tiers, i):
            question = regulatory_question(key, policy)
            # required when it decides the tier even with every other open answer at its default
            alone = {tiers[defaults[:i] + (v,) + defaults[i + 1 :]] for v in domains[i]}
            asked.append(replace(question, required=len(alone) > 1 and question.kind != MULTI))
    tier = tier_of(effective, data, actions, policy)
    return Assessment(
        tuple(asked),
        raises,
        tier,
        tuple(_basis(effective, data, actions, policy)),
        proposal.regulatory_answered(merged),
    )


def parse(
    assessment: Assessment, answers: Mapping[str, Any], policy: Policy, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check what a form sent for the questions of `assessment` (chosen for the stored
    `answers`): the clean answers and the errors, each naming its key and what is
    allowed. A multiple choice left empty means "none of these"; a question left blank
    is an error while the tier still depends on it once the other answers are in."""
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    for q in assessment.questions:
        value, problem = parse_answer(q, raw.get(q.key))
        if problem is not None:
            said = _without_key(q.key, problem)
            errors.append(FieldError(q.key, said if "allowed" in said else f"{said}; allowed: {allowed(q)}"))
        elif q.kind == MULTI:
            clean[q.key] = value or []
        elif value is not None:
            clean[q.key] = value
    if errors:
        return clean, errors
    still = choose(answers, policy, clean)
    for q in still.questions:
        if q.key in assessment.asked_keys():
            errors.append(FieldError(q.key, f"is needed to settle the EU AI Act tier; allowed: {allowed(q)}"))
    return clean, errors


def allowed(question: Question) -> str:
    """The values a question accepts, as codes: "true, false" or the enum codes."""
    return ", ".join(c.value for c in question.choices)


def describe_raise(r: Raise) -> str:
    """ "Use area: Employment (hiring, ...) — from description: 'ranks job applicants'"."""
    question = regulatory_question(r.key)
    value = "yes" if r.value is True else label_of(r.key, str(r.value))
    words = "; ".join(f"{field}: '{quoted}'" for field, quoted in r.words)
    return f"{question.label}: {value} — from {words}"


def tier_of(answers: Mapping[str, Any], data: frozenset[str], actions: frozenset[str], policy: Policy) -> str:
    """The EU AI Act tier of effective answers: the highest matching tier rule."""
    eu = policy.eu_ai_act
    rank = {t: i for i, t in enumerate(eu.tiers)}
    facts = Facts(answers, data, actions)
    tier = eu.tiers[0]
    for rule in eu.tier_rules:
        if rank[rule.tier] > rank[tier] and rule.when.holds(facts):
            tier = rule.tier
    return tier


def _basis(answers: Mapping[str, Any], data: frozenset[str], actions: frozenset[str], policy: Policy) -> list[str]:
    eu = map_normalised(answers, {"data": data, "actions": actions}, policy)["eu_ai_act"]
    return list(eu["basis"])


def _domain(key: str, policy: Policy) -> tuple[Any, ...]:
    """The answers a key can take, its default first ("none", false, no practice)."""
    if key == "use_area":
        return ("none", *(a for a in proposal.USE_AREA if a != "none"))
    if key == "prohibited_practices":
        return ((), *((p,) for p in proposal.PROHIBITED_PRACTICES))
    return (False, True)


def _matters(tiers: Mapping[tuple[Any, ...], str], i: int) -> bool:
    """True when two answers to the i-th open key give different tiers, all else equal."""
    seen: dict[tuple[Any, ...], str] = {}
    for combo, tier in tiers.items():
        rest = combo[:i] + combo[i + 1 :]
        if seen.setdefault(rest, tier) != tier:
            return True
    return False


def _without_key(key: str, problem: str) -> str:
    return problem.removeprefix(f"{key}: ")
