"""Text-signal lexicon compilation: the policy's `[text_signals]` rules become
`Detector`s (verb forms, object forms, trie regexes) and an anchor index, once per
policy load (`bot.domain.policy_file` calls `build_detectors` and `build_index`).
Matching them against proposal text is `bot.domain.classifier.detect`.

A rule's `kind` is what it finds: a data class or action (`data`, `actions`), a
regulatory answer (`use_area`, `prohibited_practices`: the code is the value) or a
yes/no regulatory answer the words set to true (`profiles_people`,
`interacts_with_people`, `generates_content`: no code). A rule with `context` fires
only when each of its context patterns also occurs in the same sentence ("emotions"
with ["voice|face|camera", "employees|pupils"] is emotion recognition at work).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

_TOKEN = re.compile(r"\w+")
_PRONOUNS = frozenset({"it", "them", "they", "this", "that"})
_LITERAL = re.compile(r"[\w&' -]+")

# What a rule may find, and the codes each kind allows (None: a yes/no answer, no code).
FLAG_KINDS = ("profiles_people", "interacts_with_people", "generates_content")
FLAG_CODE = "true"  # the code of a yes/no finding
KINDS = ("actions", "data", "use_area", "prohibited_practices", *FLAG_KINDS)


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
    context: tuple[re.Pattern[str], ...] = ()  # each must also occur in the sentence of a match
    phrase_words: frozenset[str] = frozenset()  # anchors of phrases: word prefixes ("invoic")


@cache
def _forms_by_lemma() -> Mapping[str, tuple[str, ...]]:
    """Every English word form of simplemma's dictionary (its data ships in the
    package), grouped by lemma: "give" -> gave, given, gives, giving. Built once per
    process (a fraction of a second), the first time a policy is compiled."""
    from simplemma.strategies.dictionaries import DEFAULT_DICTIONARY_FACTORY

    grouped: dict[str, list[str]] = defaultdict(list)
    for form, lemma in DEFAULT_DICTIONARY_FACTORY.get_dictionary("en").items():
        if form != lemma and _PLAIN_WORD.fullmatch(form):
            grouped[lemma].append(form)
    return {lemma: tuple(sorted(forms)) for lemma, forms in grouped.items()}


_PLAIN_WORD = re.compile(r"[a-z][a-z-]*")


def lemma_forms(lemma: str) -> tuple[str, ...]:
    """The forms the lemmatiser knows for a word, the word first ("take" -> take, taken,
    takes, taking, took); only the word itself when it knows none."""
    return (lemma, *_forms_by_lemma().get(lemma, ()))


@cache
def inflect_verb(spec: str) -> tuple[str, ...]:
    """All forms of a verb: "issue" -> issue, issues, issued, issuing; irregular forms
    come from the lemmatiser ("give" -> gave, given). "give|gave|given" still lists
    forms explicitly; in "roll out" only the first word is inflected."""
    spec = spec.strip().lower()
    if "|" in spec:
        return tuple(dict.fromkeys(f.strip() for f in spec.split("|") if f.strip()))
    head, _, rest = spec.partition(" ")
    tail = f" {rest}" if rest else ""
    known = lemma_forms(head)
    cons_y = head.endswith("y") and len(head) > 1 and head[-2] not in "aeiou"
    if head.endswith(("s", "sh", "ch", "x", "z", "o")):
        third = head + "es"
    elif cons_y:
        third = head[:-1] + "ies"
    else:
        third = head + "s"
    stem = head[:-1] if head.endswith("e") and not head.endswith("ee") else head
    past, ing = (
        (head[:-1] + "ied", head + "ing") if cons_y else (head + ("d" if head.endswith("e") else "ed"), stem + "ing")
    )
    cvc = len(head) >= 3 and head[-1] not in "aeiouwxy" and head[-2] in "aeiou" and head[-3] not in "aeiou"
    doubled = [head + head[-1] + "ed", head + head[-1] + "ing"] if cvc else []
    if len(known) < 3:  # a verb the lemmatiser does not know ("dedupe"): the regular forms, both spellings
        forms = [head, third, past, ing, *doubled]
    else:  # it knows the forms, irregular ones too ("give" -> gave, given); add what it lacks
        forms = [*known]
        if not any(f.endswith("s") for f in known[1:]):
            forms.append(third)
        if not any(f.endswith("ing") for f in known[1:]):
            forms.append(doubled[1] if doubled else ing)
        if head.endswith("l") and doubled:
            forms += doubled  # British "cancelled" beside American "canceled"
    return tuple(dict.fromkeys(f + tail for f in forms))


@cache
def noun_forms(word: str) -> tuple[str, ...]:
    """A noun and its plurals: "policy" -> policies, "child" -> children (from the
    lemmatiser), "analysis" -> analyses; the last word of a phrase is inflected."""
    head, _, last = word.strip().lower().rpartition(" ")
    prefix = f"{head} " if head else ""
    plurals = [f for f in lemma_forms(last)[1:] if not f.endswith(("ed", "ing"))] if len(last) > 2 else []
    if last in _PRONOUNS:
        plurals = []
    return tuple(dict.fromkeys(prefix + f for f in (last, _plural(last), *plurals)))


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
    """ "late fee" -> late fee(s); earlier words may be plural or possessive ("customer's record")."""
    words = phrase.lower().split()
    variants = [""]
    for i, w in enumerate(words):
        options = list(noun_forms(w)) if i == len(words) - 1 else [w, w + "s", w + "'s", w + "’s", w + "s'"]
        variants = [f"{v} {o}".strip() for v in variants for o in options]
    return variants


_TERM = re.compile(r"\{([a-z][a-z_]*)\}")


def term_regex(words: Iterable[str]) -> str:
    """A named word list as one group of alternatives: each word in the singular and
    plural ("worker" -> worker|workers), longest first, a space matching any white space."""
    forms = sorted({f for w in words for f in noun_forms(w)}, key=lambda f: (-len(f), f))
    return "(?:" + "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in forms) + ")"


def expand_terms(
    rule: Mapping[str, Any], terms: Mapping[str, Sequence[str]], path: str
) -> tuple[dict[str, Any], list[str]]:
    """A rule with its `{name}` references to `[text_signals.terms]` filled in: in
    `phrases` and `context` a reference becomes the group of the term's words (singular
    and plural), in `objects` an entry "{name}" becomes the term's words. Returns the
    rule and the problems ("text_signals.rules[3].phrases[0]: unknown term {pepole}")."""
    problems: list[str] = []
    out = dict(rule)
    for part in ("phrases", "context"):
        values = rule.get(part)
        if not isinstance(values, list):
            continue
        filled = []
        for i, value in enumerate(values):
            if not isinstance(value, str):
                filled.append(value)
                continue
            for name in _TERM.findall(value):
                if name not in terms:
                    problems.append(f"{path}.{part}[{i}]: unknown term {{{name}}}; defined: {', '.join(sorted(terms))}")
            filled.append(
                _TERM.sub(lambda m: term_regex(terms[m.group(1)]) if m.group(1) in terms else m.group(0), value)
            )
        out[part] = filled
    objects = rule.get("objects")
    if isinstance(objects, list):
        expanded: list[Any] = []
        for i, value in enumerate(objects):
            m = _TERM.fullmatch(value) if isinstance(value, str) else None
            if m is None:
                expanded.append(value)
            elif m.group(1) in terms:
                expanded += list(terms[m.group(1)])
            else:
                problems.append(f"{path}.objects[{i}]: unknown term {value}; defined: {', '.join(sorted(terms))}")
        out["objects"] = expanded
    return out, problems


def trie_regex(words: Iterable[str]) -> str:
    """One alternation for many literal words, factored as a trie so `re` tries few
    branches per position. A space in a word matches any run of white space."""
    return _trie_regex(tuple(words))


@lru_cache(maxsize=8192)
def _trie_regex(words: tuple[str, ...]) -> str:
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


def _rule_parts(
    rule: Mapping[str, Any], words: Mapping[str, tuple[str, ...]], max_gap: int
) -> tuple[list[str], list[str]]:
    verb_parts: list[str] = []
    other_parts: list[str] = []
    head_words = [*words["noun_heads"], *(f for w in rule.get("noun_heads", ()) for f in noun_forms(w))]
    heads = rf"(?!\s+{trie_regex(head_words)}\b)" if head_words else ""
    gap_words = r"[\w'’%£$€-]+"  # "gives a 10% voucher", "issues a £20 credit"
    breakers = rf"(?!{trie_regex(words['gap_breakers'])}\b)" if words["gap_breakers"] else ""
    gap = rf"(?:\s+{breakers}{gap_words}){{0,{int(rule.get('max_gap', max_gap))}}}?"
    not_owner = r"(?![\x27’])"  # "ranks customers' tickets": the customers own the object
    if rule.get("standalone"):
        forms = [f for v in rule["standalone"] for f in inflect_verb(v)]
        verb_parts.append(rf"\b{trie_regex(forms)}\b{heads}")
    if rule.get("verbs") and rule.get("objects"):
        verb_forms = [inflect_verb(v) for v in rule["verbs"]]
        # a verb form directly before a compound head is a noun ("refund policy", "credit card")
        compounds = words.get("compound_heads", ())
        verbs = trie_regex(f for forms in verb_forms for f in forms) + (
            rf"\b(?!\s+{trie_regex(f for w in compounds for f in noun_forms(w))}\b)" if compounds else ""
        )
        objects = trie_regex(o for phrase in rule["objects"] for o in _object_forms(phrase))
        if rule.get("connectors"):
            conn = trie_regex(c.lower() for c in rule["connectors"])
            verb_parts.append(rf"\b{verbs}{gap}\s+{conn}(?:\s+{gap_words}){{0,2}}?\s+{objects}\b{not_owner}{heads}")
        else:
            # "approves or rejects access requests": two verbs of one tense share an object,
            # but not a pronoun ("matches payments to open invoices and posts them")
            second = r"(?:\s*,?\s+(?:and|or|and/or)\s+[\w-]+(?:s|ed|ing)\b(?!\s+(?:it|them|this|that|these|those)\b))?"
            verb_parts.append(rf"\b{verbs}{second}{gap}\s+{objects}\b{not_owner}{heads}")
            if rule.get("passive", True):
                participles = [f for forms in verb_forms for f in forms if f not in _third_person_and_ing(forms)]
                aux = trie_regex(words["passive_auxiliaries"])
                # "refunds are issued", "refund requests under 30 pounds are approved"
                passive_gap = rf"(?:\s+{breakers}{gap_words}){{0,{int(rule.get('max_gap', max_gap)) + 1}}}?"
                other_parts.append(rf"\b{objects}{passive_gap}\s+{aux}\s+(?:\w+ly\s+)?{trie_regex(participles)}\b")
    other_parts += [f"(?:{p})" for p in rule.get("phrases", ())]
    return verb_parts, other_parts


def build_detectors(
    rules: Sequence[Mapping[str, Any]],
    paths: Sequence[str],
    words: Mapping[str, tuple[str, ...]],
    max_gap: int,
    terms: Mapping[str, Sequence[str]] | None = None,
) -> tuple[tuple[Detector, ...], list[str]]:
    """Compile the text-signal rules of a policy: one Detector per finding (kind and
    code) and context; rules without context that find the same thing share one.

    Returns the detectors and a list of problems ("text_signals.rules[3].phrases: ...").
    The same lexicon is compiled once per process (a policy that only changes other
    sections, or is parsed again, reuses the compiled detectors)."""
    key = json.dumps([list(rules), list(paths), dict(words), max_gap, dict(terms or {})], sort_keys=True, default=str)
    detectors, problems = _build_cached(key)
    return detectors, list(problems)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    """A detector's pattern, compiled once per process: a policy that differs in a few
    rules (a custom policy, a candidate checked or compared) recompiles only those."""
    return re.compile(pattern)


@lru_cache(maxsize=8)
def _build_cached(key: str) -> tuple[tuple[Detector, ...], tuple[str, ...]]:
    rules, paths, words, max_gap, terms = json.loads(key)
    detectors, problems = _build(rules, paths, {k: tuple(v) for k, v in words.items()}, max_gap, terms)
    return detectors, tuple(problems)


def _build(
    rules: Sequence[Mapping[str, Any]],
    paths: Sequence[str],
    words: Mapping[str, tuple[str, ...]],
    max_gap: int,
    terms: Mapping[str, Sequence[str]],
) -> tuple[tuple[Detector, ...], list[str]]:
    problems: list[str] = []
    grouped: dict[tuple[str, str, tuple[str, ...]], tuple[list[str], list[str]]] = {}
    anchors: dict[tuple[str, str, tuple[str, ...]], tuple[set[str], set[str] | None]] = {}
    object_words: dict[tuple[str, str, tuple[str, ...]], set[str]] = defaultdict(set)
    phrase_words: dict[tuple[str, str, tuple[str, ...]], set[str]] = defaultdict(set)
    for raw_rule, path in zip(rules, paths, strict=True):
        rule, term_problems = expand_terms(raw_rule, terms, path)
        problems += term_problems
        bad = bool(term_problems)
        for part in ("phrases", "context"):
            for i, phrase in enumerate(rule.get(part) or ()):
                try:
                    _compiled(phrase)
                except (re.error, TypeError) as exc:
                    problems.append(f"{path}.{part}[{i}]: invalid regular expression: {exc}")
                    bad = True
        try:
            verb_parts, other_parts = _rule_parts(rule, words, max_gap)
        except (TypeError, AttributeError, ValueError):
            continue  # shape problems are reported by the policy parser
        if bad:
            continue
        kind = str(rule.get("kind"))
        code = FLAG_CODE if kind in FLAG_KINDS else str(rule.get("code"))
        key = (kind, code, tuple(rule.get("context") or ()))
        v, o = grouped.setdefault(key, ([], []))
        v += verb_parts
        o += other_parts
        va, oa = anchors.setdefault(key, (set(), set()))
        va.update(
            _first_word(f) for spec in (*rule.get("verbs", ()), *rule.get("standalone", ())) for f in inflect_verb(spec)
        )
        if oa is not None and rule.get("verbs") and rule.get("objects") and not rule.get("connectors"):
            # passives start at the object; "it is ..." and "them" are never tried
            first = {
                w for phrase in rule["objects"] for o in _object_forms(phrase) if (w := _first_word(o)) not in _PRONOUNS
            }
            oa.update(first)
            object_words[key] |= first
        for phrase in rule.get("phrases") or ():
            found = phrase_anchors(phrase)
            if found is None or oa is None:
                oa = None
            else:
                oa.update(found)
                phrase_words[key] |= found
        anchors[key] = (va, oa)
    if problems:
        return (), problems
    detectors = []
    for (kind, code, context), (v, o) in grouped.items():
        verb_anchors, other_anchors = anchors[(kind, code, context)]
        detectors.append(
            Detector(
                kind,
                code,
                _compiled("|".join(v)) if v else None,
                _compiled("|".join(o)) if o else None,
                frozenset(verb_anchors),
                None if other_anchors is None else frozenset(other_anchors),
                frozenset(object_words[(kind, code, context)]),
                tuple(re.compile(c) for c in context),
                frozenset(phrase_words[(kind, code, context)]),
            )
        )
    return tuple(detectors), problems


def human_subject_regex(subjects: Sequence[str], auxiliaries: Sequence[str]) -> re.Pattern[str] | None:
    """A regex for the end of the text before a verb when a person is its subject:
    "... that the marketing team edits and |publishes", "for editors to |publish",
    "we then |post". The classifier drops such a match: a person does it, not the AI."""
    if not subjects:
        return None
    subject = trie_regex(w.lower() for w in subjects)
    aux = rf"(?:(?:{trie_regex(w.lower() for w in auxiliaries)})\s+)?" if auxiliaries else ""
    det = r"(?:(?:the|our|a|an|their|your|its|each|every|one|some|two|any)\s+)?"
    mods = r"(?:[\w-]+\s+){0,2}?"
    first_verb = r"(?:[\w-]+(?:\s+(?:it|them|this|these|that))?\s*(?:,|\band\b|\bor\b)\s*)?"
    who = r"(?:\s*,?\s+who)?"  # "our founders, who rewrite them and |post them"
    return re.compile(rf"\b{det}{mods}(?:{subject}){who}\s+{aux}{first_verb}$")


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
            if alt[j + 1 : j + 2] in ("?", "*", "{"):
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
        if word and alt[len(word) : len(word) + 1] in ("?", "*", "{"):
            word = word[:-1]
        word = _first_word(word) if word else ""
        if not word:
            return None
        out.add(word)
    return out or None


Index = tuple[
    dict[str, tuple[tuple[int, bool], ...]], dict[str, tuple[tuple[str, tuple[int, bool]], ...]], re.Pattern[str]
]


def build_index(detectors: Sequence[Detector]) -> Index:
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
            if anchor not in det.object_words or anchor in det.phrase_words:
                prefixes[anchor[:3]].append((anchor, (i, False)))
    anchors = list(words) + [a for v in prefixes.values() for a, _ in v]
    anchor_re = re.compile(rf"\b(?:{trie_regex(anchors)})" if anchors else r"(?!x)x")
    return (
        {k: tuple(dict.fromkeys(v)) for k, v in words.items()},
        {k: tuple(dict.fromkeys(v)) for k, v in prefixes.items()},
        anchor_re,
    )
