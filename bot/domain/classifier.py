"""The rule-based classifier (DESIGN.md "Classification").

`classify(answers, policy)` turns a normalised proposal into the `govbot classify` JSON:
risk level with reasons, stop conditions, readiness, approver roles, rollout plan, the
effective data and actions, and the regulatory mapping. Every rule comes from the policy.

Text signals: the free-text fields only ever ADD data classes and actions (user text
never lowers a risk level). A lexicon rule fires on a verb of the action followed by its
object ("issues the refund", "pushes the fix to prod"), a passive ("refunds are issued"),
a standalone verb ("deploys") or a raw phrase. A noun alone does not fire ("classifies
billing disputes", "summarises deployment logs", "reads the refund policy"). A match is
dropped when a negation stands within a few words before it in the same clause ("does
not issue refunds", "never deploys"). Where wording is ambiguous the lexicons prefer a
false positive (one approver too many) to a missed high-risk action.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain import proposal
from bot.domain.duties import ceiling_for, past_ceiling
from bot.domain.policy import Facts, Policy, TextSignals
from bot.domain.regulatory import effective_answers, map_normalised

_WORD = re.compile(r"[\w'’-]+")
_TOKEN = re.compile(r"\w+")
_CLAUSE_END = re.compile(r"[.;:!?,()\[\]\x00\n]")
_QUOTE_MAX = 80


# --------------------------------------------------------------------------- detection

Sources = Mapping[tuple[str, str], tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Detection:
    """What the free text describes: codes with the (field, words) that triggered them.

    `sources` is keyed by (kind, code): ("actions", "change_billing"), ("use_area",
    "employment"), ("profiles_people", "true")."""

    data: frozenset[str]
    actions: frozenset[str]
    sources: Sources

    def found(self, kind: str) -> frozenset[str]:
        """The codes found of one kind ("use_area" -> {"employment"})."""
        return frozenset(c for k, c in self.sources if k == kind)


def detect(answers: Mapping[str, Any], policy: Policy) -> Detection:
    """Find what the free-text fields plainly describe: data classes, actions and
    regulatory answers (use area, prohibited practices, yes/no answers set to true)."""
    sig = policy.signals
    fields: list[str] = []
    texts: list[str] = []
    for name in sig.fields:
        value = answers.get(name)
        if isinstance(value, str) and value.strip():
            fields.append(name)
            texts.append(value)
    if not texts:
        return Detection(frozenset(), frozenset(), {})
    lowered = [t.lower() for t in texts]
    lower = "\x00".join(lowered)  # NUL never occurs in answers, and no pattern crosses it
    # Quote the original words unless lower-casing changed a length ("İ" -> "i̇").
    same = all(len(a) == len(b) for a, b in zip(texts, lowered, strict=True))
    quote_from = "\x00".join(texts) if same else lower
    starts = []
    pos = 0
    for t in lowered:
        starts.append(pos)
        pos += len(t) + 1
    # Where may each pattern start? Look every word up in the anchor index once.
    words, prefixes, anchor_re = sig.index
    candidates: dict[tuple[int, bool], list[int]] = defaultdict(list)
    for hit in anchor_re.finditer(lower):
        at = hit.start()
        token = _TOKEN.match(lower, at)
        word = token.group(0) if token else ""
        keys = words.get(word)
        if keys is not None:
            for key in keys:
                candidates[key].append(at)
        for anchor, key in prefixes.get(word[:3], ()):
            if word.startswith(anchor):
                candidates[key].append(at)
    # Today's process is what people do now and the AI would take over: a person doing
    # it there ("engineers push to prod") is still the action the proposal is about.
    today = frozenset(i for i, name in enumerate(fields) if name == _TODAY)
    found: dict[tuple[str, str], dict[int, str]] = {}
    detectors = sig.detectors
    # only the detectors a word may start, and those that must search the whole text
    for i in sorted({i for i, _ in candidates}.union(sig.unanchored)):
        det = detectors[i]
        hits: dict[int, str] = {}
        for rx, verbish in ((det.verb_re, True), (det.other_re, False)):
            if rx is None:
                continue
            anchored = det.verb_anchors if verbish else det.other_anchors
            if anchored is None:
                _search(rx, lower, verbish, sig, det.context, starts, hits, quote_from, today)
            elif (i, verbish) in candidates:
                positions = dict.fromkeys(candidates[(i, verbish)])
                _match_at(rx, lower, positions, verbish, sig, det.context, starts, hits, quote_from, today)
        if hits:
            # several rules (contexts) may find the same thing: the first words per field
            kept = found.setdefault((det.kind, det.code), {})
            for f, quote in hits.items():
                kept.setdefault(f, quote)
    sources = {key: tuple((fields[f], hits[f]) for f in sorted(hits)) for key, hits in found.items()}
    data = frozenset(c for k, c in sources if k == "data")
    actions = frozenset(c for k, c in sources if k == "actions")
    return Detection(data, actions, sources)


def _match_at(
    rx: re.Pattern[str],
    text: str,
    positions: Iterable[int],
    verbish: bool,
    sig: TextSignals,
    context: tuple[re.Pattern[str], ...],
    starts: list[int],
    hits: dict[int, str],
    quote_from: str,
    today: frozenset[int],
) -> None:
    for at in positions:
        m = rx.match(text, at)
        if m is None:
            continue
        field_index = _field_of(starts, at)
        if field_index not in hits:
            people = verbish and field_index not in today
            quote = _accepted(text, at, m.end(), verbish, sig, context, quote_from, people)
            if quote is not None:
                hits[field_index] = quote


def _search(
    rx: re.Pattern[str],
    text: str,
    verbish: bool,
    sig: TextSignals,
    context: tuple[re.Pattern[str], ...],
    starts: list[int],
    hits: dict[int, str],
    quote_from: str,
    today: frozenset[int],
) -> None:
    """Record the first accepted match of each field (its index into `starts`)."""
    pos = 0
    n = len(text)
    while pos < n:
        m = rx.search(text, pos)
        if m is None:
            return
        field_index = _field_of(starts, m.start())
        if field_index in hits:
            pos = starts[field_index + 1] if field_index + 1 < len(starts) else n
            continue
        people = verbish and field_index not in today
        quote = _accepted(text, m.start(), m.end(), verbish, sig, context, quote_from, people)
        if quote is not None:
            hits[field_index] = quote
            pos = starts[field_index + 1] if field_index + 1 < len(starts) else n
        else:
            pos = m.start() + 1


def _field_of(starts: list[int], offset: int) -> int:
    i = len(starts) - 1
    while starts[i] > offset:
        i -= 1
    return i


_POSSESSIVE = ("'s", "’s", "s'", "s’")
_TODAY = "current_process"
_SENTENCE_END = re.compile(r"[.!?](?=\s|\x00|$)|[;\n\x00]")
_SENTENCE_MAX = 240  # characters looked at either side of a match for its sentence


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence around text[start:end] (at most _SENTENCE_MAX either side)."""
    lo = max(0, start - _SENTENCE_MAX)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    first = ends[-1] if ends else lo
    after = _SENTENCE_END.search(text, end, min(len(text), end + _SENTENCE_MAX))
    return first, after.start() if after else min(len(text), end + _SENTENCE_MAX)


def _accepted(
    text: str,
    start: int,
    end: int,
    verbish: bool,
    sig: TextSignals,
    context: tuple[re.Pattern[str], ...],
    quote_from: str,
    people: bool = False,
) -> str | None:
    """The words to quote for a match at text[start:end], or None when the match does
    not count: a noun, a negated verb, a person's action (when `people`: a verb whose
    subject is a person), or a missing context."""
    before = text[max(0, start - 80) : start]
    ends = [m.end() for m in _CLAUSE_END.finditer(before)]
    clause = before[ends[-1] :] if ends else before
    words = _WORD.findall(clause)
    if verbish and words:
        prev = words[-1]
        if prev in sig.noun_markers or prev in sig.reading_forms or prev.endswith(_POSSESSIVE):
            return None  # "the refund", "reviews charges", "last week's closed tickets": a noun
        if prev in sig.noun_prepositions:
            token = _WORD.match(text, start)
            if token is None or not token.group(0).endswith("ing"):
                return None  # "questions about refunds", but "capable of issuing" stays
    window: list[str] = []
    count = 0
    for w in reversed(words):
        if w in sig.clause_words or count >= sig.negation_window:
            break
        window.append(w)
        # "never deploys code or changes permissions": a negation carries over or/nor
        count = 0 if w in ("or", "nor") else count + 1
    for w in window:
        if w in sig.negations or w.endswith(("n't", "n’t")):
            return None
    if sig.negation_phrases and window:
        tail = " " + " ".join(reversed(window)) + " "
        if any(f" {p} " in tail for p in sig.negation_phrases):
            return None
    if not people and not context:
        return _quote(quote_from, start, end)
    lo, hi = _sentence(text, start, end)
    if people and sig.human_subject is not None and sig.human_subject.search(text[lo:start]):
        return None  # "drafts posts that the team edits and publishes": a person publishes
    quote = _quote(quote_from, start, end)
    for pattern in context:
        near = pattern.search(text, lo, hi)
        if near is None:
            return None
        if near.start() >= end or near.end() <= start:  # words outside the match: quote them too
            quote += " … " + _quote(quote_from, near.start(), near.end())
    return quote


def _quote(text: str, start: int, end: int) -> str:
    words = " ".join(text[start:end].split())
    return words if len(words) <= _QUOTE_MAX else words[: _QUOTE_MAX - 1] + "…"


# --------------------------------------------------------------------------- classification


def classify(answers: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """Classify a proposal (normalised by `bot.domain.proposal.validate_proposal`, or a
    plain mapping of answers).

    Returns exactly the `govbot classify` JSON of DESIGN.md plus `regulatory`; every
    list is sorted. Text-detected items appear in `reasons` with their field and words;
    regulatory answers the words raised appear in the EU AI Act basis with theirs."""
    answers = proposal.normalise(dict(answers))
    found = detect(answers, policy)
    data = frozenset(answers.get("data") or ()) | found.data
    actions = frozenset(answers.get("actions") or ()) | found.actions
    effective = {"data": sorted(data), "actions": sorted(actions)}
    judged, raises = effective_answers(answers, found.sources, policy)
    regulatory = map_normalised(judged, effective, policy, raises, proposal.regulatory_answered(answers))
    facts = Facts(judged, data, actions, found.sources, tier=regulatory["eu_ai_act"]["tier"])

    rank = {level: i for i, level in enumerate(policy.risk_levels)}
    by_level: dict[str, list[str]] = defaultdict(list)
    for rule in policy.risk_rules:
        if rule.when.holds(facts):
            by_level[rule.level] += rule.when.reasons(facts)
    level = max([policy.default_risk, *by_level], key=rank.__getitem__)
    reasons = set(by_level.get(level) or [policy.default_risk_reason])
    declared = {"data": set(answers.get("data") or ()), "actions": set(answers.get("actions") or ())}
    reasons.update(
        facts.item(kind, code) for kind, code in found.sources if kind in declared and code not in declared[kind]
    )
    facts.risk = level

    stops = sorted({r.code for r in policy.stop_rules if r.when.holds(facts)})
    facts.stops = tuple(stops)
    passed = [c.check for c in policy.readiness_checks if all(facts.present(k) for k in c.present)]
    missing = sorted({c.check for c in policy.readiness_checks} - set(passed))
    score, most = len(passed), len(policy.readiness_checks)
    held = [r for r in policy.approver_rules if r.when.holds(facts)]
    roles = sorted({r.role for r in held})
    quorum = {role: max(r.quorum for r in held if r.role == role) for role in roles}
    verdict: dict[str, Any] = {
        "risk_level": level,
        "reasons": sorted(reasons),
        "stop_conditions": stops,
        "readiness": {"score": score, "max": most, "missing": missing, "ready_to_scale": score == most and not stops},
        "approver_roles": roles,
        "rollout": _rollout(answers, facts, roles, policy),
        "effective": effective,
        "regulatory": regulatory,
    }
    above_one = {role: n for role, n in quorum.items() if n > 1}
    if above_one:  # only when the policy asks for more than one approval for a routed role
        verdict["approver_quorum"] = above_one
    return verdict


def _rollout(answers: Mapping[str, Any], facts: Facts, roles: list[str], policy: Policy) -> dict[str, str]:
    ro = policy.rollout
    level = facts.risk or policy.default_risk
    values = {
        "roles": ", ".join(roles),
        "autonomy": answers.get("autonomy") or "not given",
        "review": answers.get("review") or "not given",
        "exception_path": answers.get("exception_path") or ro.missing_exception_path,
    }
    items = [ro.must_stay_human_actions[a] for a in sorted(facts.actions) if a in ro.must_stay_human_actions]
    items += [ro.must_stay_human_data[d] for d in sorted(facts.data) if d in ro.must_stay_human_data]
    if facts.tier is not None and facts.tier in ro.must_stay_human_tiers:
        items.append(ro.must_stay_human_tiers[facts.tier])
    human = (
        ro.must_stay_human_prefix.format(**values) + "; ".join(items) + "."
        if items
        else ro.must_stay_human_default.format(**values)
    )
    ceiling = ceiling_for(level, policy.autonomy_ceiling)
    asked = answers.get("autonomy")
    limit = f" Autonomy ceiling at {level} risk: {ceiling}."
    if isinstance(asked, str) and past_ceiling(asked, ceiling):
        limit += f" Asked for {asked}; it runs capped at {ceiling}, and a step past the ceiling needs governance."
    return {
        "risk_level": level,
        "owner": answers.get("owner") or ro.missing_owner,
        "approval_checkpoint": ro.approval_checkpoint[level].format(**values) + limit,
        "logging_requirement": ro.logging_requirement[level].format(**values),
        "rollback_path": answers.get("rollback_path") or ro.missing_rollback_path,
        "success_metric": answers.get("value_metric") or ro.missing_value_metric,
        "must_stay_human": human,
    }
