"""Regulatory mapping (DESIGN.md "Regulatory mapping"): EU AI Act tier, basis and
duties; NIST AI RMF evidence per function; ISO/IEC 42001 Annex A controls.

All rules, texts and mappings come from the policy file; this module only evaluates
them. The tier is the highest of the matching tier rules (minimal < limited < high <
prohibited); every matching rule contributes its basis, so a high-risk chatbot lists
both its Annex III basis and its Art. 50 transparency basis.

The words count too: `effective_answers` raises the declared regulatory answers by
what the free text plainly describes (a use area when none was declared, prohibited
practices, and the yes/no answers `profiles_people`, `interacts_with_people`,
`generates_content` set to true). It never lowers one: the words never set
`narrow_procedural_task`, never clear a practice and never change a declared area.
Each raise is named in the basis of the tier rules it makes hold, with its words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain import proposal
from bot.domain.lexicon import FLAG_KINDS
from bot.domain.policy import Condition, EvidenceItem, Facts, Policy

Sources = Mapping[tuple[str, str], tuple[tuple[str, str], ...]]
ALSO_FROM_THE_WORDS = "Also read from the words, without changing the tier: "


@dataclass(frozen=True)
class Raise:
    """One regulatory answer the words raised: the key, the value it now has and the
    (field, words) that raised it."""

    key: str
    value: str | bool
    words: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        """ "use_area employment from description: 'ranks job applicants'"."""
        shown = self.key if isinstance(self.value, bool) else f"{self.key} {self.value}"
        return f"{shown} from " + "; ".join(f"{field}: '{words}'" for field, words in self.words)


def answered(answers: Mapping[str, Any]) -> bool:
    """`eu_ai_act.answered`: any regulatory key was given (not left to its default)."""
    return proposal.regulatory_answered(dict(answers))


def effective_answers(
    answers: Mapping[str, Any], sources: Sources, policy: Policy
) -> tuple[dict[str, Any], tuple[Raise, ...]]:
    """The answers with every regulatory key at its effective value: the declared
    answer (or its default) raised by what the words found (`sources` of
    `bot.domain.classifier.detect`). Returns them and the raises, in a stable order."""
    eff = proposal.with_defaults(dict(answers))
    raises: list[Raise] = []
    found: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {}
    for (kind, code), words in sources.items():
        found.setdefault(kind, {})[code] = words
    areas = found.get("use_area", {})
    if eff.get("use_area") in (None, "none") and areas:
        # one area per proposal: the first in the policy's order among those found
        area = next(a for a in policy.eu_ai_act.areas if a in areas)
        eff["use_area"] = area
        raises.append(Raise("use_area", area, areas[area]))
    practices = found.get("prohibited_practices", {})
    declared = set(eff.get("prohibited_practices") or ())
    new = [p for p in policy.eu_ai_act.prohibited_practices if p in practices and p not in declared]
    if new:
        eff["prohibited_practices"] = sorted(declared | set(new))
        raises += [Raise("prohibited_practices", p, practices[p]) for p in new]
    for key in FLAG_KINDS:
        hit = found.get(key)
        if hit and eff.get(key) is not True:
            eff[key] = True
            raises.append(Raise(key, True, next(iter(hit.values()))))
    return eff, tuple(raises)


def map_regulatory(
    answers: Mapping[str, Any],
    effective: Mapping[str, Iterable[str]],
    policy: Policy,
    raises: Iterable[Raise] = (),
) -> dict[str, Any]:
    """Map a proposal with its effective data/actions to the EU AI Act, NIST AI RMF and
    ISO/IEC 42001 views. Returns the `regulatory` JSON of `govbot classify`.

    Unanswered optional keys take their defaults (`use_area` none, the yes/no questions
    false, role deployer); `answered` says whether any was given. `raises` are the
    answers the words raised (already applied to `answers` by `effective_answers`)."""
    normalised = proposal.normalise(dict(answers))
    return map_normalised(proposal.with_defaults(normalised), effective, policy, raises, answered(normalised))


def map_normalised(
    answers: Mapping[str, Any],
    effective: Mapping[str, Iterable[str]],
    policy: Policy,
    raises: Iterable[Raise] = (),
    given: bool = True,
) -> dict[str, Any]:
    """`map_regulatory` for answers with every regulatory key filled in (the
    classifier's path: `effective_answers`); `given` is `eu_ai_act.answered`."""
    facts = Facts(answers, frozenset(effective.get("data", ())), frozenset(effective.get("actions", ())))
    eu = policy.eu_ai_act
    rank = {tier: i for i, tier in enumerate(eu.tiers)}
    area = answers.get("use_area") or "none"
    info = eu.areas.get(area)
    practices = [
        eu.prohibited_practices[p] for p in answers.get("prohibited_practices") or () if p in eu.prohibited_practices
    ]
    values = {
        "area": area,
        "area_label": info.label if info else area,
        "area_point": (info.annex_iii_point if info else "") or "-",
        "practices": "; ".join(f"{p.article} {p.label.lower()}" for p in practices) or "none named",
    }
    raised = tuple(raises)
    tier = eu.tiers[0]
    basis: set[str] = set()
    named: set[str] = set()  # the raised keys some basis names
    for rule in eu.tier_rules:
        if rule.when.holds(facts):
            basis.add(rule.basis.format(**values) + _words(rule.when, raised))
            named |= condition_keys(rule.when)
            if rank[rule.tier] > rank[tier]:
                tier = rule.tier
    facts.tier = tier
    basis = basis or {eu.default_basis}
    unnamed = [r.describe() for r in raised if r.key not in named]
    if unnamed:  # a raise that changes no tier is still shown ("scores each customer", no use area)
        basis.add(ALSO_FROM_THE_WORDS + "; ".join(unnamed))
    duties = sorted({d.text for d in eu.duties if d.when.holds(facts)})
    return {
        "eu_ai_act": {
            "tier": tier,
            "basis": sorted(basis),
            "duties": duties,
            "role": answers.get("ai_act_role") or "deployer",
            "answered": given,
        },
        "nist_ai_rmf": {fn: _evidence(items, facts) for fn, items in policy.nist_ai_rmf.items()},
        "iso_42001": _evidence(policy.iso_42001, facts),
    }


def condition_keys(when: Condition) -> frozenset[str]:
    """The proposal keys a condition reads (`use_area_in` reads `use_area`)."""
    keys = {k for k, _ in when.equals} | {k for k, _ in when.field_in} | set(when.present) | set(when.blank)
    if when.use_area_in is not None:
        keys.add("use_area")
    return frozenset(keys)


def _words(when: Condition, raises: tuple[Raise, ...]) -> str:
    """ " (from the words: use_area employment from description: '...')" for the raises
    a rule reads, else ""."""
    if not raises:
        return ""
    keys = condition_keys(when)
    named = [r.describe() for r in raises if r.key in keys]
    return f" (from the words: {'; '.join(named)})" if named else ""


def _evidence(items: Iterable[EvidenceItem], facts: Facts) -> dict[str, list[str]]:
    evidenced: set[str] = set()
    missing: set[str] = set()
    for item in items:  # an item listed twice is evidenced when either condition holds
        (evidenced if item.when.holds(facts) else missing).add(item.code)
    missing -= evidenced
    # Plain string order, like every list of the classify JSON ("A.10" sorts before "A.3").
    return {"evidenced": sorted(evidenced), "missing": sorted(missing)}
