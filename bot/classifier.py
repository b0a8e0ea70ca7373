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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import domain
from bot.policy import Facts, Policy
from bot.regulatory import map_normalised

_WORD = re.compile(r"[\w'’-]+")
_TOKEN = re.compile(r"\w+")
_PRONOUNS = frozenset({"it", "them", "they", "this", "that"})
_LITERAL = re.compile(r"[\w&' -]+")
_CLAUSE_END = re.compile(r"[.;:!?,()\[\]\x00\n]")
_QUOTE_MAX = 80


# --------------------------------------------------------------------------- lexicon compilation


@dataclass(frozen=True)
class Detector:
    """The compiled patterns of one data class or action.

    `verb_re` matches start at a verb (checked for noun use and negation); `other_re`
    holds passives and raw phrases (checked for negation only). Each pattern is tried
    only where a word starts with one of its anchors (None: search the whole text)."""

    kind: str
    code: str
    verb_re: re.Pattern[str] | None
    other_re: re.Pattern[str] | None
    verb_anchors: frozenset[str] = frozenset()
    other_anchors: frozenset[str] | None = frozenset()
    object_words: frozenset[str] = frozenset()  # anchors that are whole words (passive objects)


def inflect_verb(spec: str) -> tuple[str, ...]:
    """All forms of a verb: "issue" -> issue, issues, issued, issuing. "give|gave|given"
    lists irregular forms explicitly; in "roll out" only the first word is inflected."""
    spec = spec.strip().lower()
    if "|" in spec:
        return tuple(dict.fromkeys(f.strip() for f in spec.split("|") if f.strip()))
    head, _, rest = spec.partition(" ")
    tail = f" {rest}" if rest else ""
    forms = [head]
    cons_y = head.endswith("y") and len(head) > 1 and head[-2] not in "aeiou"
    if head.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.append(head + "es")
    elif cons_y:
        forms.append(head[:-1] + "ies")
    else:
        forms.append(head + "s")
    if head.endswith("e"):
        forms += [head + "d", head[:-1] + "ing" if not head.endswith("ee") else head + "ing"]
    elif cons_y:
        forms += [head[:-1] + "ied", head + "ing"]
    else:
        forms += [head + "ed", head + "ing"]
        if len(head) >= 3 and head[-1] not in "aeiouwxy" and head[-2] in "aeiou" and head[-3] not in "aeiou":
            forms += [head + head[-1] + "ed", head + head[-1] + "ing"]  # ship -> shipped, set -> setting
    return tuple(dict.fromkeys(f + tail for f in forms))


def _third_person_and_ing(forms: Sequence[str]) -> set[str]:
    base = forms[0].split(" ")[0]
    return {f for f in forms[1:] if f.split(" ")[0].endswith("ing") or f.split(" ")[0] in (base + "s", base + "es")}


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _object_forms(phrase: str) -> list[str]:
    """"late fee" -> late fee(s); earlier words may be plural or possessive ("customer's record")."""
    words = phrase.lower().split()
    variants = [""]
    for i, w in enumerate(words):
        options = [w, _plural(w)] if i == len(words) - 1 else [w, w + "s", w + "'s", w + "’s", w + "s'"]
        variants = [f"{v} {o}".strip() for v in variants for o in options]
    return variants


def trie_regex(words: Iterable[str]) -> str:
    """One alternation for many literal words, factored as a trie so `re` tries few
    branches per position. A space in a word matches any run of white space."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict[str, Any]) -> str:
        keys = sorted(k for k in node if k)
        if not keys:
            return ""
        alts = [(r"\s+" if k == " " else re.escape(k)) + emit(node[k]) for k in keys]
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


def _rule_parts(rule: Mapping[str, Any], words: Mapping[str, tuple[str, ...]], max_gap: int) -> tuple[list[str], list[str]]:
    verb_parts: list[str] = []
    other_parts: list[str] = []
    heads = rf"(?!\s+{trie_regex(words['noun_heads'])}\b)" if words["noun_heads"] else ""
    gap_words = r"[\w'’-]+"
    breakers = rf"(?!{trie_regex(words['gap_breakers'])}\b)" if words["gap_breakers"] else ""
    gap = rf"(?:\s+{breakers}{gap_words}){{0,{int(rule.get('max_gap', max_gap))}}}?"
    if rule.get("standalone"):
        forms = [f for v in rule["standalone"] for f in inflect_verb(v)]
        verb_parts.append(rf"\b{trie_regex(forms)}\b{heads}")
    if rule.get("verbs") and rule.get("objects"):
        verb_forms = [inflect_verb(v) for v in rule["verbs"]]
        verbs = trie_regex(f for forms in verb_forms for f in forms)
        objects = trie_regex(o for phrase in rule["objects"] for o in _object_forms(phrase))
        if rule.get("connectors"):
            conn = trie_regex(c.lower() for c in rule["connectors"])
            verb_parts.append(rf"\b{verbs}{gap}\s+{conn}(?:\s+{gap_words}){{0,2}}?\s+{objects}\b{heads}")
        else:
            verb_parts.append(rf"\b{verbs}{gap}\s+{objects}\b{heads}")
            if rule.get("passive", True):
                participles = [f for forms in verb_forms for f in forms if f not in _third_person_and_ing(forms)]
                aux = trie_regex(words["passive_auxiliaries"])
                other_parts.append(rf"\b{objects}\s+{aux}\s+(?:\w+ly\s+)?{trie_regex(participles)}\b")
    other_parts += [f"(?:{p})" for p in rule.get("phrases", ())]
    return verb_parts, other_parts


def build_detectors(rules: Sequence[Mapping[str, Any]], paths: Sequence[str], words: Mapping[str, tuple[str, ...]],
                    max_gap: int) -> tuple[tuple[Detector, ...], list[str]]:
    """Compile the text-signal rules of a policy: one Detector per data class or action.

    Returns the detectors and a list of problems ("text_signals.rules[3].phrases: ...")."""
    problems: list[str] = []
    grouped: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    anchors: dict[tuple[str, str], tuple[set[str], set[str] | None]] = {}
    object_words: dict[tuple[str, str], set[str]] = defaultdict(set)
    for rule, path in zip(rules, paths, strict=True):
        bad = False
        for i, phrase in enumerate(rule.get("phrases") or ()):
            try:
                re.compile(phrase)
            except (re.error, TypeError) as exc:
                problems.append(f"{path}.phrases[{i}]: invalid regular expression: {exc}")
                bad = True
        try:
            verb_parts, other_parts = _rule_parts(rule, words, max_gap)
        except (TypeError, AttributeError, ValueError):
            continue  # shape problems are reported by the policy parser
        if bad:
            continue
        key = (str(rule.get("kind")), str(rule.get("code")))
        v, o = grouped.setdefault(key, ([], []))
        v += verb_parts
        o += other_parts
        va, oa = anchors.setdefault(key, (set(), set()))
        va.update(_first_word(f) for spec in (*rule.get("verbs", ()), *rule.get("standalone", ()))
                  for f in inflect_verb(spec))
        if oa is not None and rule.get("verbs") and rule.get("objects") and not rule.get("connectors"):
            # passives start at the object; "it is ..." and "them" are never tried
            first = {w for phrase in rule["objects"] for o in _object_forms(phrase)
                     if (w := _first_word(o)) not in _PRONOUNS}
            oa.update(first)
            object_words[key] |= first
        for phrase in rule.get("phrases") or ():
            found = phrase_anchors(phrase)
            if found is None or oa is None:
                oa = None
            else:
                oa.update(found)
        anchors[key] = (va, oa)
    if problems:
        return (), problems
    detectors = []
    for (kind, code), (v, o) in grouped.items():
        verb_anchors, other_anchors = anchors[(kind, code)]
        detectors.append(Detector(
            kind, code, re.compile("|".join(v)) if v else None, re.compile("|".join(o)) if o else None,
            frozenset(verb_anchors), None if other_anchors is None else frozenset(other_anchors),
            frozenset(object_words[(kind, code)])))
    return tuple(detectors), problems


def _first_word(form: str) -> str:
    m = _TOKEN.match(form)
    return m.group(0) if m else form


def _split_top(pattern: str) -> list[str] | None:
    """Split a regex at its top-level `|`; None if the brackets do not balance."""
    parts, depth, cls, i, last = [], 0, False, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return None
        elif c == "|" and depth == 0:
            parts.append(pattern[last:i])
            last = i + 1
        i += 1
    parts.append(pattern[last:])
    return parts if depth == 0 else None


def phrase_anchors(pattern: str, bounded: bool = False) -> set[str] | None:
    """The words a phrase regex can start with ("\\binvoic(?:e|es)" -> {"invoic"}), or None
    when that cannot be told (the phrase is then searched for in the whole text)."""
    out: set[str] = set()
    for alt in _split_top(pattern) or [""]:
        if alt.startswith("\\b"):
            alt = alt[2:]
        elif not bounded:
            return None  # without \b a phrase may start inside a word: search everywhere
        if alt.startswith("(?:"):
            depth, j = 0, 0
            while j < len(alt):
                depth += (alt[j] == "(") - (alt[j] == ")")
                if depth == 0:
                    break
                j += 2 if alt[j] == "\\" else 1
            if alt[j + 1:j + 2] in ("?", "*", "{"):
                return None
            inner = _split_top(alt[3:j])
            if not inner:
                return None
            for sub in inner:
                found = phrase_anchors(sub, bounded=True)
                if not found:
                    return None
                out |= found
            continue
        run = _LITERAL.match(alt)
        word = run.group(0) if run else ""
        if word and alt[len(word):len(word) + 1] in ("?", "*", "{"):
            word = word[:-1]
        word = _first_word(word) if word else ""
        if not word:
            return None
        out.add(word)
    return out or None


# --------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class Detection:
    """What the free text describes: codes with the (field, words) that triggered them."""

    data: frozenset[str]
    actions: frozenset[str]
    sources: Mapping[tuple[str, str], tuple[tuple[str, str], ...]]


def detect(answers: Mapping[str, Any], policy: Policy) -> Detection:
    """Find the data classes and actions the free-text fields plainly describe."""
    sig = policy.signals
    fields: list[str] = []
    texts: list[str] = []
    for key in sig.fields:
        value = answers.get(key)
        if isinstance(value, str) and value.strip():
            fields.append(key)
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
    sources: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    for i, det in enumerate(sig.detectors):
        hits: dict[int, tuple[int, int]] = {}
        for rx, verbish in ((det.verb_re, True), (det.other_re, False)):
            if rx is None:
                continue
            anchored = det.verb_anchors if verbish else det.other_anchors
            if anchored is None:
                _search(rx, lower, verbish, sig, starts, hits)
            elif (i, verbish) in candidates:
                _match_at(rx, lower, dict.fromkeys(candidates[(i, verbish)]), verbish, sig, starts, hits)
        if hits:
            sources[(det.kind, det.code)] = tuple(
                (fields[f], _quote(quote_from, *hits[f])) for f in sorted(hits))
    data = frozenset(c for k, c in sources if k == "data")
    actions = frozenset(c for k, c in sources if k == "actions")
    return Detection(data, actions, sources)


def build_index(detectors: Sequence[Detector]) -> tuple[dict[str, tuple[tuple[int, bool], ...]],
                                                        dict[str, tuple[tuple[str, tuple[int, bool]], ...]],
                                                        re.Pattern[str]]:
    """The anchor index: whole words (verbs, objects) -> [(detector, verbish)]; the first
    three letters of phrase anchors (which may be word prefixes such as "invoic") ->
    [(anchor, (detector, verbish))]; and one regex finding the words that start with any
    anchor, so only those words are looked up."""
    words: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    prefixes: dict[str, list[tuple[str, tuple[int, bool]]]] = defaultdict(list)
    for i, det in enumerate(detectors):
        for anchor in sorted(det.verb_anchors):
            words[anchor].append((i, True))
        for anchor in sorted(det.other_anchors or ()):
            if anchor in det.object_words:
                words[anchor].append((i, False))
            else:
                prefixes[anchor[:3]].append((anchor, (i, False)))
    anchors = list(words) + [a for v in prefixes.values() for a, _ in v]
    anchor_re = re.compile(rf"\b(?:{trie_regex(anchors)})" if anchors else r"(?!x)x")
    return ({k: tuple(dict.fromkeys(v)) for k, v in words.items()},
            {k: tuple(dict.fromkeys(v)) for k, v in prefixes.items()}, anchor_re)


def _match_at(rx: re.Pattern[str], text: str, positions: Iterable[int], verbish: bool, sig: Any, starts: list[int],
              hits: dict[int, tuple[int, int]]) -> None:
    for at in positions:
        m = rx.match(text, at)
        if m is None:
            continue
        field_index = _field_of(starts, at)
        if field_index not in hits and _accepted(text, at, verbish, sig):
            hits[field_index] = (at, m.end())


def _search(rx: re.Pattern[str], text: str, verbish: bool, sig: Any, starts: list[int],
            hits: dict[int, tuple[int, int]]) -> None:
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
        if _accepted(text, m.start(), verbish, sig):
            hits[field_index] = (m.start(), m.end())
            pos = starts[field_index + 1] if field_index + 1 < len(starts) else n
        else:
            pos = m.start() + 1


def _field_of(starts: list[int], offset: int) -> int:
    i = len(starts) - 1
    while starts[i] > offset:
        i -= 1
    return i


_POSSESSIVE = ("'s", "’s", "s'", "s’")


def _accepted(text: str, start: int, verbish: bool, sig: Any) -> bool:
    before = text[max(0, start - 80):start]
    ends = [m.end() for m in _CLAUSE_END.finditer(before)]
    clause = before[ends[-1]:] if ends else before
    words = _WORD.findall(clause)
    if verbish and words:
        prev = words[-1]
        if prev in sig.noun_markers or prev in sig.reading_forms or prev.endswith(_POSSESSIVE):
            return False  # "the refund", "reviews charges", "last week's closed tickets": a noun
        if prev in sig.noun_prepositions:
            token = _WORD.match(text, start)
            if token is None or not token.group(0).endswith("ing"):
                return False  # "questions about refunds", but "capable of issuing" stays
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
            return False
    if sig.negation_phrases and window:
        tail = " " + " ".join(reversed(window)) + " "
        if any(f" {p} " in tail for p in sig.negation_phrases):
            return False
    return True


def _quote(text: str, start: int, end: int) -> str:
    words = " ".join(text[start:end].split())
    return words if len(words) <= _QUOTE_MAX else words[: _QUOTE_MAX - 1] + "…"


# --------------------------------------------------------------------------- classification


def classify(answers: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """Classify a proposal normalised by `bot.domain.validate_proposal`.

    Returns exactly the `govbot classify` JSON of DESIGN.md plus `regulatory`; every
    list is sorted. Text-detected items appear in `reasons` with their field and words."""
    answers = domain.normalise(dict(answers))
    found = detect(answers, policy)
    data = frozenset(answers.get("data") or ()) | found.data
    actions = frozenset(answers.get("actions") or ()) | found.actions
    effective = {"data": sorted(data), "actions": sorted(actions)}
    regulatory = map_normalised(answers, effective, policy)
    facts = Facts(answers, data, actions, found.sources, tier=regulatory["eu_ai_act"]["tier"])

    rank = {level: i for i, level in enumerate(policy.risk_levels)}
    by_level: dict[str, list[str]] = defaultdict(list)
    for rule in policy.risk_rules:
        if rule.when.holds(facts):
            by_level[rule.level] += rule.when.reasons(facts)
    level = max([policy.default_risk, *by_level], key=rank.__getitem__)
    reasons = set(by_level.get(level) or [policy.default_risk_reason])
    declared = {"data": set(answers.get("data") or ()), "actions": set(answers.get("actions") or ())}
    reasons.update(facts.item(kind, code) for kind, code in found.sources if code not in declared[kind])
    facts.risk = level

    stops = sorted({r.code for r in policy.stop_rules if r.when.holds(facts)})
    facts.stops = tuple(stops)
    passed = [c.check for c in policy.readiness_checks if all(facts.present(k) for k in c.present)]
    missing = sorted({c.check for c in policy.readiness_checks} - set(passed))
    score, most = len(passed), len(policy.readiness_checks)
    roles = sorted({r.role for r in policy.approver_rules if r.when.holds(facts)})
    return {
        "risk_level": level,
        "reasons": sorted(reasons),
        "stop_conditions": stops,
        "readiness": {"score": score, "max": most, "missing": missing, "ready_to_scale": score == most and not stops},
        "approver_roles": roles,
        "rollout": _rollout(answers, facts, roles, policy),
        "effective": effective,
        "regulatory": regulatory,
    }


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
    human = (ro.must_stay_human_prefix.format(**values) + "; ".join(items) + "." if items
             else ro.must_stay_human_default.format(**values))
    return {
        "risk_level": level,
        "owner": answers.get("owner") or ro.missing_owner,
        "approval_checkpoint": ro.approval_checkpoint[level].format(**values),
        "logging_requirement": ro.logging_requirement[level].format(**values),
        "rollback_path": answers.get("rollback_path") or ro.missing_rollback_path,
        "success_metric": answers.get("value_metric") or ro.missing_value_metric,
        "must_stay_human": human,
    }
