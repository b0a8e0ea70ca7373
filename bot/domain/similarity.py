"""Near-duplicates by meaning (DESIGN.md "Sprawl, vendors and hand-offs"): the pure text part.

A proposal's title and description become a small weighted bag of *terms*:

- words are folded (case, accents), split and reduced to a stem by a light English
  stemmer (`stem`: "summarises", "summarising" -> "summar"; British and American
  spellings meet: "localise"/"localize");
- phrases and words of the workplace synonym table in the policy (`[similarity]`
  `synonyms`) become one concept ("bill", "invoice" -> `~invoice`; "merge request",
  "pull request" -> `~pull request`), so two teams that name the same thing
  differently share the term;
- function words and words that say nothing about what a workflow does ("tool",
  "AI", "automatically") are dropped (`generic_words` in the policy);
- character trigrams of each stem add a little weight, so "summariser" and
  "summary" still meet where the stemmer keeps them apart.

Title words count twice. The bag is L2-normalised, so the similarity of two
proposals is the dot product of their bags (`cosine`), between 0 and 1, and depends on
the two texts only: a proposal's bag is computed once, stored, and compared with any
other without re-reading the portfolio. `reason` says in words what two bags share.

Everything here is the standard library; `store.similarity` keeps the bags of the
live portfolio in an index for fast look-ups.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

Terms = dict[str, float]

TITLE_WEIGHT: Final = 2.0
TRIGRAM_WEIGHT: Final = 0.12  # per trigram, relative to a word's weight
CONCEPT_PREFIX: Final = "~"
GRAM_PREFIX: Final = "#"

# Function words: never meaning-bearing. The policy adds its own `generic_words`.
_STOP_TEXT: Final = """a an and the of for to in on at by with from into onto via per as or nor but if then than so
    that this these those it its is are was were be been being do does did done has have had having
    we our ours us you your yours they their them he she his her i me my mine who whom whose which
    what when where why how all any each every both few more most other some such no not only own
    same too very can will would should could may might must shall just also about above after
    again against before below between during out over under up down off there here once while
    until because through further whether within without upon whom whoever whatever one two three
    get gets got make makes made let lets new via etc e g ie eg"""
_STOPWORDS: Final = frozenset(_STOP_TEXT.split())

_WORD: Final = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


def fold(text: str) -> str:
    """Lower-case, accents removed ("Résumé" -> "resume")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The folded words of a text ("merge-request's" -> ["merge", "request"])."""
    out = []
    for raw in _WORD.findall(fold(text)):
        out.append(raw.split("'")[0].split("’")[0])
    return out


# --------------------------------------------------------------------------- stemming

_VOWELS: Final = frozenset("aeiouy")

# (suffix, replacement), longest first; applied once, if the stem keeps 3+ letters.
_SUFFIXES: Final = (
    ("isations", "iz"),
    ("izations", "iz"),
    ("isation", "iz"),
    ("ization", "iz"),
    ("ational", "ate"),
    ("fulness", "ful"),
    ("iveness", "ive"),
    ("ousness", "ous"),
    ("mentation", "ment"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ments", ""),
    ("ment", ""),
    ("ising", "iz"),
    ("izing", "iz"),
    ("isers", "iz"),
    ("izers", "iz"),
    ("iser", "iz"),
    ("izer", "iz"),
    ("ised", "iz"),
    ("ized", "iz"),
    ("ises", "iz"),
    ("izes", "iz"),
    ("ise", "iz"),
    ("ize", "iz"),
    ("ities", "ity"),
    ("ies", "y"),
    ("ing", ""),
    ("ers", ""),
    ("er", ""),
    ("ed", ""),
    ("ly", ""),
    ("es", "e"),
    ("s", ""),
)
_KEEP_TEXT: Final = """news series analysis basis process access address business status class pass less bus gas
    yes this its his has was is us always perhaps ops sales"""
_KEEP: Final = frozenset(_KEEP_TEXT.split())


def stem(word: str) -> str:
    """A light English stem: plurals, -ing/-ed/-er, -ise/-ize, -ation and -ment come
    off; a final e and a doubled final consonant go ("planning" -> "plan",
    "localised" -> "localiz", "translation" -> "translat")."""
    if len(word) <= 3 or word in _KEEP or not word.isalpha():
        return word
    for suffix, repl in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        base = word[: -len(suffix)]
        shortest = 5 if suffix in ("ment", "ments") else 3  # "document" keeps its -ment
        if len(base) < shortest or not any(c in _VOWELS for c in base):
            continue  # a shorter suffix may still apply ("documents")
        if suffix != "s" or not word.endswith(("ss", "us", "is")):
            word = base + repl
        break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz" and word[-1] not in _VOWELS:
        word = word[:-1]
    if word.endswith("y") and len(word) > 4:
        word = word[:-1] + "i"
    return word


# --------------------------------------------------------------------------- the policy part


@dataclass(frozen=True)
class SimilarityRules:
    """The `[similarity]` section of the policy.

    `threshold`: the offline score from which two proposals are near-duplicates;
    `embeddings_threshold`: the same for embeddings (their cosines run higher);
    `shown`: how many near-duplicates a message lists; `synonyms`: groups of words or
    phrases that mean the same thing at work, the first naming the group;
    `generic_words`: words that say nothing about what a workflow does."""

    threshold: float = 0.4
    embeddings_threshold: float = 0.8
    shown: int = 3
    synonyms: tuple[tuple[str, ...], ...] = ()
    generic_words: tuple[str, ...] = ()
    _lexicon: _Lexicon = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lexicon", _Lexicon.build(self.synonyms, self.generic_words))

    @property
    def lexicon(self) -> _Lexicon:
        return self._lexicon


@dataclass(frozen=True)
class _Lexicon:
    phrases: Mapping[tuple[str, ...], str]  # stemmed phrase -> concept term
    longest: int
    names: Mapping[str, str]  # concept term -> its name (the group's first entry)
    drop: frozenset[str]  # stems of function and generic words
    memo: dict[str, tuple[Token, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, groups: Iterable[Sequence[str]], generic: Iterable[str]) -> _Lexicon:
        phrases: dict[tuple[str, ...], str] = {}
        names: dict[str, str] = {}
        for group in groups:
            if not group:
                continue
            term = CONCEPT_PREFIX + " ".join(words(group[0]))
            names[term] = group[0]
            for entry in group:
                key = tuple(stem(w) for w in words(entry))
                if key:
                    phrases.setdefault(key, term)
        drop = frozenset(stem(w) for w in (*_STOPWORDS, *(x for g in generic for x in words(g))))
        return cls(phrases, max((len(k) for k in phrases), default=1), names, drop)


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Token:
    term: str  # a stem or a concept
    surface: str  # the words as written (for the reason)


def tokens(text: str, rules: SimilarityRules) -> list[Token]:
    """The meaning-bearing terms of a text, in order: synonyms joined into concepts
    (longest phrase first), function and generic words dropped."""
    lex = rules.lexicon
    raw = words(text)
    stems = [stem(w) for w in raw]
    out: list[Token] = []
    i = 0
    while i < len(stems):
        for n in range(min(lex.longest, len(stems) - i), 0, -1):
            concept = lex.phrases.get(tuple(stems[i : i + n]))
            if concept is not None:
                out.append(Token(concept, " ".join(raw[i : i + n])))
                i += n
                break
        else:
            s = stems[i]
            if s not in lex.drop and len(s) > 1 and not s.isdigit():
                out.append(Token(s, raw[i]))
            i += 1
    return out


MEMO_SIZE: Final = 4096


def terms(title: str, description: str | None, rules: SimilarityRules) -> Terms:
    """The proposal's L2-normalised bag of terms (words, concepts and trigrams)."""
    return _analyse(title, description, rules)[0]


def word_counts(title: str, description: str | None, rules: SimilarityRules) -> Terms:
    """The weighted counts of the words and concepts (title words twice): what is
    stored; `bag` rebuilds the terms from them."""
    return _counts(_tokens(title or "", rules), _tokens(description or "", rules))


def bag(counts: Mapping[str, float]) -> Terms:
    """The L2-normalised bag of terms (sublinear counts plus each word's trigrams)."""
    out: dict[str, float] = {}
    for term, count in counts.items():
        w = 1.0 + math.log(count)  # sublinear: a word said five times is not five times the topic
        out[term] = out.get(term, 0.0) + w
        if not term.startswith(CONCEPT_PREFIX) and len(term) >= 4:
            padded = f"<{term}>"
            for j in range(len(padded) - 2):
                gram = GRAM_PREFIX + padded[j : j + 3]
                out[gram] = out.get(gram, 0.0) + w * TRIGRAM_WEIGHT
    return normalised(out)


def _analyse(title: str, description: str | None, rules: SimilarityRules) -> tuple[Terms, dict[str, str]]:
    """(terms, surfaces) of a proposal's text."""
    title_tokens, desc_tokens = _tokens(title or "", rules), _tokens(description or "", rules)
    return _terms(title_tokens, desc_tokens), _surface_map(title_tokens, desc_tokens)


def _surface_map(*parts: Sequence[Token]) -> dict[str, str]:
    """term -> the first way the text wrote it (title first)."""
    surfaces: dict[str, str] = {}
    for part in parts:
        for tok in part:
            surfaces.setdefault(tok.term, tok.surface)
    return surfaces


def _counts(title_tokens: Sequence[Token], desc_tokens: Sequence[Token]) -> dict[str, float]:
    counts: dict[str, float] = {}
    for toks, weight in ((title_tokens, TITLE_WEIGHT), (desc_tokens, 1.0)):
        for tok in toks:
            counts[tok.term] = counts.get(tok.term, 0.0) + weight
    return counts


def _tokens(text: str, rules: SimilarityRules) -> tuple[Token, ...]:
    """`tokens`, remembered for the last MEMO_SIZE texts (the portfolio repeats them)."""
    memo = rules.lexicon.memo
    found = memo.get(text)
    if found is None:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        found = memo[text] = tuple(tokens(text, rules))
    return found


def _terms(title_tokens: Sequence[Token], desc_tokens: Sequence[Token]) -> Terms:
    return bag(_counts(title_tokens, desc_tokens))


def normalised(bag: Mapping[str, float]) -> Terms:
    norm = math.sqrt(sum(v * v for v in bag.values()))
    if norm == 0:
        return {}
    return {k: round(v / norm, 5) for k, v in bag.items()}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The similarity of two normalised bags (0..1)."""
    if len(b) < len(a):
        a, b = b, a
    return round(min(1.0, sum(v * b.get(k, 0.0) for k, v in a.items())), 4)


def dense_cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of two dense vectors (embeddings), 0 when either is empty."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return 0.0 if na == 0 or nb == 0 else round(dot / (na * nb), 4)


# --------------------------------------------------------------------------- the reason

REASON_TERMS: Final = 4


def reason(
    new_title: str,
    new_description: str | None,
    other_title: str,
    other_description: str | None,
    rules: SimilarityRules,
) -> str:
    """Why two proposals look alike, in words a person can check: what they share
    (most telling first), naming both wordings where the teams used different
    synonyms ("both are about supplier, invoice / bill and purchase order")."""
    return reasons(new_title, new_description, [(other_title, other_description)], rules)[0]


def reasons(
    new_title: str,
    new_description: str | None,
    others: Sequence[tuple[str, str | None]],
    rules: SimilarityRules,
) -> list[str]:
    """`reason` for one proposal against each of `others` (title, description)."""
    mine = _tokens(new_title or "", rules), _tokens(new_description or "", rules)
    a, ta = _surface_map(*mine), _weights(*mine)
    out = []
    for other_title, other_description in others:
        theirs = _tokens(other_title or "", rules), _tokens(other_description or "", rules)
        out.append(_reason(a, ta, _surface_map(*theirs), _weights(*theirs)))
    return out


def _reason(a: dict[str, str], ta: dict[str, float], b: dict[str, str], tb: dict[str, float]) -> str:
    shared = sorted((t for t in a if t in b), key=lambda t: (-(ta[t] * tb[t]), t))[:REASON_TERMS]
    if not shared:
        return "their wording is alike, though no single word is shared"
    parts = []
    for t in shared:
        mine, theirs = a[t], b[t]
        parts.append(mine if mine == theirs or _same_stem(mine, theirs) else f"{mine} / {theirs}")
    return "both are about " + _and(parts)


def _weights(title_tokens: Sequence[Token], desc_tokens: Sequence[Token]) -> dict[str, float]:
    """How much each term tells, as in `terms` (a word's trigrams included), unnormalised."""
    out = {}
    for term, count in _counts(title_tokens, desc_tokens).items():
        w = 1.0 + math.log(count)
        trigrams = len(term) if not term.startswith(CONCEPT_PREFIX) and len(term) >= 4 else 0
        out[term] = w * (1.0 + trigrams * TRIGRAM_WEIGHT * TRIGRAM_WEIGHT)
    return out


def _same_stem(x: str, y: str) -> bool:
    return [stem(w) for w in x.split()] == [stem(w) for w in y.split()]


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# --------------------------------------------------------------------------- departments


def same_department(a: str | None, b: str | None) -> bool:
    """Two named departments that are the same (ignoring case and spaces); a blank one
    is never "the same", so a proposal without a department is compared with all."""
    x, y = " ".join((a or "").split()).casefold(), " ".join((b or "").split()).casefold()
    return bool(x) and x == y


@dataclass(frozen=True)
class Match:
    """A live proposal of another department that looks like the one at hand."""

    id: int
    title: str
    department: str | None
    score: float
    reason: str = ""
    stage: str = ""
    owner: str | None = None

    def to_json(self) -> dict[str, object]:
        """The `similar` entry of `status --json`."""
        return {"id": self.id, "title": self.title, "department": self.department, "score": self.score}


@dataclass(frozen=True)
class TextVector:
    """What a matcher makes of a proposal's title and description: the word counts
    (stored; `terms` is the offline bag built from them) always; an embedding (and the
    model that made it) when one is configured."""

    counts: Terms
    embedding: tuple[float, ...] | None = None
    model: str | None = None

    @cached_property
    def terms(self) -> Terms:
        return bag(self.counts)


class OfflineMatcher:
    """The default `bot.ports.SimilarityMatcher`: the terms alone, no network."""

    name = "offline"

    def describe(self, title: str, description: str | None, rules: SimilarityRules) -> TextVector:
        return TextVector(word_counts(title, description, rules))
