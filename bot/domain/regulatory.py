"""Regulatory mapping (DESIGN.md "Regulatory mapping"): EU AI Act tier, basis and
duties; NIST AI RMF evidence per function; ISO/IEC 42001 Annex A controls.

All rules, texts and mappings come from the policy file; this module only evaluates
them. The tier is the highest of the matching tier rules (minimal < limited < high <
prohibited); every matching rule contributes its basis, so a high-risk chatbot lists
both its Annex III basis and its Art. 50 transparency basis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.domain import proposal
from bot.domain.policy import EvidenceItem, Facts, Policy


def map_regulatory(
    answers: Mapping[str, Any], effective: Mapping[str, Iterable[str]], policy: Policy
) -> dict[str, Any]:
    """Map a proposal with its effective data/actions to the EU AI Act, NIST AI RMF and
    ISO/IEC 42001 views. Returns the `regulatory` JSON of `govbot classify`.

    Unanswered optional keys take their defaults first (`use_area` none, the yes/no
    questions false, role deployer), exactly as `bot.domain.proposal.validate_proposal` does."""
    return map_normalised(proposal.normalise(dict(answers)), effective, policy)


def map_normalised(
    answers: Mapping[str, Any], effective: Mapping[str, Iterable[str]], policy: Policy
) -> dict[str, Any]:
    """`map_regulatory` for answers already normalised by `bot.domain` (the classifier's path)."""
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
    tier = eu.tiers[0]
    basis: set[str] = set()
    for rule in eu.tier_rules:
        if rule.when.holds(facts):
            basis.add(rule.basis.format(**values))
            if rank[rule.tier] > rank[tier]:
                tier = rule.tier
    facts.tier = tier
    duties = sorted({d.text for d in eu.duties if d.when.holds(facts)})
    return {
        "eu_ai_act": {
            "tier": tier,
            "basis": sorted(basis or {eu.default_basis}),
            "duties": duties,
            "role": answers.get("ai_act_role") or "deployer",
        },
        "nist_ai_rmf": {fn: _evidence(items, facts) for fn, items in policy.nist_ai_rmf.items()},
        "iso_42001": _evidence(policy.iso_42001, facts),
    }


def _evidence(items: Iterable[EvidenceItem], facts: Facts) -> dict[str, list[str]]:
    evidenced: list[str] = []
    missing: list[str] = []
    for item in items:
        (evidenced if item.when.holds(facts) else missing).append(item.code)
    # Plain string order, like every list of the classify JSON ("A.10" sorts before "A.3").
    return {"evidenced": sorted(evidenced), "missing": sorted(missing)}
