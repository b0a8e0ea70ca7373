"""Pre-filling a proposal from the requester's own paragraph (DESIGN.md "Intake in one
paragraph"): the record an extractor returns, the grounding rule, the lexicon extractor
and the reading of an LLM's reply.

- The paragraph becomes the proposal's `description` as written; nothing rewrites it.
- Every other answer carries the words it came from (`evidence`). An LLM answer whose
  evidence is missing, or not found in the paragraph ignoring case and white space, is
  dropped and asked. An ellipsis ("…" or "...") in the evidence separates quoted
  fragments; each fragment must be found.
- The lexicon extractor is the classifier's own text detection (`classifier.detect`):
  the data, actions and regulatory answers the words plainly describe, each with its
  quoted words. With an LLM, those detections are added to what it found: an extracted
  answer can never lower what the words already raised, and where the two disagree the
  answer is marked contradictory (and asked).
- Neither extractor decides risk: the classifier does, on the submitted answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from bot.domain import proposal
from bot.domain.classifier import detect
from bot.domain.errors import UsageError
from bot.domain.policy import Policy
from bot.domain.proposal import FIELDS, check_field, is_blank
from bot.domain.questions import LABELS
from bot.domain.roles import clean_user

LLM: Final = "llm"
LEXICON: Final = "lexicon"
# The keys an extractor may pre-fill: every proposal key but the description, which is
# the paragraph itself.
EXTRACTABLE: Final = tuple(k for k in FIELDS if k != "description")
DATA_OPEN: Final = "<<<PARAGRAPH"
DATA_CLOSE: Final = "PARAGRAPH>>>"
_FRAGMENTS = re.compile(r"…|\.\.\.")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Extraction:
    """What an extractor made of a paragraph, and how (for the `extractions` table).

    `answers` holds the pre-filled proposal keys (always `title` and `description`);
    `evidence` the words each came from (all but the description, which is the
    paragraph itself); `dropped` the keys an LLM answered without
    words found in the paragraph (or with a value the proposal does not allow);
    `contradictions` {key: why} where the LLM's answer disagrees with what the words
    raised; `fallback_reason` why the lexicon stood in for the LLM (None when it did not).
    """

    extractor: str
    answers: dict[str, Any]
    evidence: dict[str, str]
    dropped: tuple[str, ...] = ()
    contradictions: dict[str, str] = field(default_factory=dict)
    fallback_reason: str | None = None
    model: str = LEXICON
    prompt_name: str | None = None
    prompt_version: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0

    @property
    def prefilled(self) -> tuple[str, ...]:
        """The keys pre-filled from the paragraph (the description is the paragraph itself)."""
        return tuple(k for k in self.answers if k != "description")


@dataclass
class ExtractionRow:
    """One stored extraction (table `extractions`): how a paragraph was read, what it
    pre-filled ({key: value}), what was asked, and, once the proposal is submitted,
    which pre-filled answers the requester changed."""

    id: int | None
    channel: str
    user_id: str
    extractor: str
    model: str
    prompt_name: str | None
    prompt_version: str | None
    tokens_in: int
    tokens_out: int
    latency_ms: int
    fallback_reason: str | None
    prefilled: dict[str, Any]
    dropped: list[str]
    asked: list[str]
    created_at: datetime
    proposal_id: int | None = None
    changed: list[str] | None = None
    settled_at: datetime | None = None


@dataclass(frozen=True)
class ExtractPrompt:
    """The extraction prompt (`prompts/extract.md`): its name, version and sections."""

    name: str
    version: str
    system: str
    user: str


# --------------------------------------------------------------------------- the paragraph


def check_paragraph(text: str | None) -> str:
    """The paragraph as written, or UsageError naming `paragraph` and what is allowed."""
    body = (text or "").strip()
    if not body:
        raise UsageError("paragraph: is empty; describe the workflow in a few sentences")
    if "\x00" in body:
        raise UsageError("paragraph: must not contain NUL characters")
    if len(body) > proposal.DESCRIPTION_MAX:
        raise UsageError(f"paragraph: is {len(body)} characters; at most {proposal.DESCRIPTION_MAX} allowed")
    return body


def _squash(text: str) -> str:
    return _SPACE.sub("", text).casefold()


def grounded(evidence: Any, paragraph: str) -> bool:
    """True when every fragment of `evidence` is in `paragraph`, ignoring case and white
    space ("…" or "..." separates fragments; at least one must hold words)."""
    if not isinstance(evidence, str):
        return False
    where = _squash(paragraph)
    fragments = [_squash(f) for f in _FRAGMENTS.split(evidence)]
    fragments = [f for f in fragments if f]
    return bool(fragments) and all(f in where for f in fragments)


def _title(paragraph: str) -> str:
    """The first sentence or line, cut at a word to the title's limit."""
    from bot.domain.interview import seed

    return str(seed(paragraph)["title"])


# --------------------------------------------------------------------------- the lexicon


def detected(paragraph: str, policy: Policy) -> tuple[dict[str, Any], dict[str, str]]:
    """What the classifier's text detection finds in the paragraph, as answers with
    their quoted words: data and actions, and any regulatory answer the policy's text
    signals raise (a use area, prohibited practices, yes/no answers set to true)."""
    found = detect({"description": paragraph}, policy)
    answers: dict[str, Any] = {}
    quotes: dict[str, list[str]] = {}
    for (kind, code), sources in sorted(found.sources.items()):
        spec = FIELDS.get(kind)
        if spec is None or kind == "description":
            continue
        if spec.kind == "list":
            answers.setdefault(kind, []).append(code)
        elif spec.kind == "enum" and code in spec.choices:
            answers[kind] = code
        elif spec.kind == "bool" and code in ("true", "false"):
            answers[kind] = code == "true"
        else:
            continue
        quotes.setdefault(kind, []).extend(words for _field, words in sources[:1])
    order = {k: i for i, k in enumerate(FIELDS)}
    answers = dict(sorted(answers.items(), key=lambda kv: order[kv[0]]))
    evidence = {k: " … ".join(dict.fromkeys(quotes[k])) for k in answers if quotes.get(k)}
    return answers, evidence


def lexicon_extraction(
    paragraph: str, policy: Policy, *, fallback_reason: str | None = None, **measured: Any
) -> Extraction:
    """The lexicon's pre-fill: the title (first sentence), the description (the paragraph)
    and what the classifier's text detection finds, each with its words."""
    title = _title(paragraph)
    answers: dict[str, Any] = {"title": title, "description": paragraph}
    evidence: dict[str, str] = {"title": title}
    found, words = detected(paragraph, policy)
    answers.update(found)
    evidence.update(words)
    return Extraction(LEXICON, answers, evidence, fallback_reason=fallback_reason, **measured)


class LexiconExtractor:
    """The extractor without an LLM (`bot.ports.Extractor`): pure and instant."""

    name = LEXICON

    def extract(self, paragraph: str, policy: Policy) -> Extraction:
        return lexicon_extraction(check_paragraph(paragraph), policy)


# --------------------------------------------------------------------------- an LLM's reply


def field_guide() -> dict[str, dict[str, Any]]:
    """Every key the LLM may answer, with its type and allowed values (for the prompt)."""
    guide: dict[str, dict[str, Any]] = {}
    for key in EXTRACTABLE:
        spec = FIELDS[key]
        entry: dict[str, Any] = {"type": {"enum": "one of values", "list": "list of values"}.get(spec.kind, spec.kind)}
        if spec.kind == "user":
            entry["type"] = "a user id written in the paragraph (like <@U123> or U123), never a name"
        if spec.choices:
            labels = LABELS.get(key, {})
            entry["values"] = {code: labels.get(code, code) for code in spec.choices}
        if spec.max_len:
            entry["max_chars"] = spec.max_len
        guide[key] = entry
    return guide


def quote_data(value: Any) -> str:
    """JSON-encode user text so it cannot break out of the data block: `<` and `>` are
    written as JSON unicode escapes, so the delimiters never occur inside it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def build_messages(prompt: ExtractPrompt, paragraph: str) -> tuple[str, str]:
    """(system, user): the instructions with the field guide, and the paragraph as one
    JSON string inside the data block (never as instructions)."""
    guide = json.dumps(field_guide(), ensure_ascii=False, indent=1)
    system = prompt.system.replace("{fields_json}", guide)
    user = prompt.user.replace("{paragraph_json}", quote_data(paragraph))
    return system, user


def reply_object(text: str) -> Any:
    """The JSON value of a message content (a ```json fence around it is tolerated);
    None when it is not JSON."""
    body = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, re.DOTALL)
    if fenced:
        body = fenced.group(1)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def from_reply(obj: Any, paragraph: str, policy: Policy, **measured: Any) -> Extraction | None:
    """An LLM's `{"answers": {...}, "evidence": {...}}` grounded in the paragraph, with
    the lexicon's detections added; None when `obj` is not that JSON object.

    Kept: proposal keys (not `description`) whose value the proposal allows and whose
    evidence is found in the paragraph. Everything else the LLM answered is `dropped`.
    """
    if not isinstance(obj, Mapping) or not isinstance(obj.get("answers"), Mapping):
        return None
    raw_evidence = obj.get("evidence")
    if raw_evidence is not None and not isinstance(raw_evidence, Mapping):
        return None
    raw_evidence = raw_evidence or {}
    answers: dict[str, Any] = {}
    evidence: dict[str, str] = {}
    dropped: list[str] = []
    for key, value in obj["answers"].items():
        key = str(key)
        if key not in EXTRACTABLE:
            dropped.append(key)
            continue
        if value is None or (isinstance(value, (str, list)) and is_blank(value)):
            continue  # not an answer: nothing to keep or drop
        clean, err = check_field(key, value)
        if key == "owner" and err is None:
            clean = clean_user(str(clean or "")) if clean else None
        words = raw_evidence.get(key)
        if err is not None or (is_blank(clean) and not isinstance(clean, bool)) or not grounded(words, paragraph):
            dropped.append(key)
            continue
        answers[key] = clean
        evidence[key] = " ".join(str(words).split())
    return _merge(paragraph, policy, answers, evidence, sorted(set(dropped)), measured)


def _merge(
    paragraph: str,
    policy: Policy,
    answers: dict[str, Any],
    evidence: dict[str, str],
    dropped: list[str],
    measured: dict[str, Any],
) -> Extraction:
    """Add what the words raise to the LLM's grounded answers; never lower it."""
    found, words = detected(paragraph, policy)
    contradictions: dict[str, str] = {}
    for key, raised in found.items():
        spec = FIELDS[key]
        mine = answers.get(key)
        if spec.kind == "list":
            merged = sorted(set(mine or ()) | set(raised))
            if merged != sorted(set(mine or ())):
                answers[key] = merged
                evidence[key] = _join_quotes(evidence.get(key, ""), words.get(key, ""))
            continue
        if mine == raised:
            continue
        default = spec.default
        if mine is not None and mine != default:  # two different raises: the requester says which holds
            contradictions[key] = (
                f"your words ('{words.get(key, '')}') suggest {_show(key, raised)}, but the reading gave {_show(key, mine)}"
            )
            continue
        if mine is not None:
            contradictions[key] = (
                f"your words ('{words.get(key, '')}') suggest {_show(key, raised)}, not {_show(key, mine)}"
            )
        answers[key] = raised
        evidence[key] = words.get(key, "")
    if is_blank(answers.get("title")):
        answers["title"] = _title(paragraph)
        evidence["title"] = answers["title"]
    ordered = {"title": answers.pop("title"), "description": paragraph, **answers}
    evidence = {"title": evidence.get("title", ordered["title"]), **evidence}
    return Extraction(LLM, ordered, evidence, tuple(dropped), contradictions, **measured)


def _join_quotes(*quotes: str) -> str:
    """Quotes joined with " … ", each fragment once (ignoring case and white space)."""
    seen: dict[str, str] = {}
    for quote in quotes:
        for fragment in _FRAGMENTS.split(quote):
            text = " ".join(fragment.split())
            if text:
                seen.setdefault(_squash(text), text)
    return " … ".join(seen.values())


def _show(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return LABELS.get(key, {}).get(str(value), str(value))


def as_fallback(extraction: Extraction, reason: str) -> Extraction:
    """`extraction` (the lexicon's) saying why it replaced the LLM's."""
    return replace(extraction, fallback_reason=reason)
