"""Writing the weekly digest from facts: prompt, grounding check, template writer.

Pure functions over the facts dict that `FactsReader.digest` computes in SQL. The LLM
sits behind `bot.ports.Drafter`; user-written text (titles, departments, check-in
values) enters the prompt only inside one JSON data block whose delimiters cannot occur
inside it, and the instructions say never to follow anything written there.

A draft is accepted only when every number and every quoted title in it comes from the
facts. A failing draft is retried once with its problems named, then replaced by the
deterministic template writer, and the result says why (`fallback_reason`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from bot.domain.value import parse_number, standing_line
from bot.ports import Drafter, DraftFailed

logger = logging.getLogger(__name__)

PROMPT_FILE = "digest.md"
DATA_OPEN = "<<<FACTS"
DATA_CLOSE = "FACTS>>>"
MAX_PROBLEMS = 10
TITLE_NGRAM = 3  # this many consecutive title words outside quotes count as using the title


# --------------------------------------------------------------------------- prompt


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt file of `prompts/`: its name, version and named sections."""

    name: str
    version: str
    sections: dict[str, str]

    def section(self, key: str) -> str:
        try:
            return self.sections[key]
        except KeyError:
            raise KeyError(f"prompt {self.name} v{self.version} has no '## {key}' section") from None


def load_prompt(filename: str = PROMPT_FILE) -> PromptTemplate:
    """Load a prompt from the `prompts` package (never from the working directory).

    The file starts with a `---` header holding `name:` and `version:`, followed by
    sections introduced by `## <section>` lines.
    """
    raw = resources.files("prompts").joinpath(filename).read_text(encoding="utf-8")
    lines = raw.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ValueError(f"prompt {filename}: must start with a '---' header holding name and version")
    header: dict[str, str] = {}
    i = 1
    while i < len(lines) and lines[i].strip() != "---":
        if ":" in lines[i]:
            key, value = lines[i].split(":", 1)
            header[key.strip()] = value.strip()
        i += 1
    if "name" not in header or "version" not in header:
        raise ValueError(f"prompt {filename}: header must name 'name' and 'version'")
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[i + 1 :]:
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return PromptTemplate(header["name"], header["version"], {k: "\n".join(v).strip() for k, v in sections.items()})


def quote_data(value: Any) -> str:
    """JSON-encode user-derived data so it cannot break out of the data block.

    `<` and `>` are escaped as JSON unicode escapes, so the block's delimiters can never
    appear inside it, whatever a title says; quotes and newlines are JSON-escaped.
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


def build_prompt(template: PromptTemplate, facts: dict[str, Any]) -> tuple[str, str]:
    """Return (system, user) messages: instructions plus the facts as one data block."""
    period = facts.get("period") or {}
    user = (
        template.section("user")
        .replace("{period_start}", str(period.get("start", "")))
        .replace("{period_end}", str(period.get("end", "")))
        .replace("{facts_json}", quote_data(facts))
    )
    return template.section("system"), user


def build_retry(template: PromptTemplate, user: str, problems: list[str]) -> str:
    """The user message for the second attempt: the same data, the problems named."""
    retry = template.section("retry").replace("{problems_json}", quote_data(problems[:MAX_PROBLEMS]))
    return f"{user}\n\n{retry}"


# --------------------------------------------------------------------------- grounding

# "12,500" is one number; "1,2,3" is three. Signs are ignored: "-3" is the number 3.
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?")
_QUOTED = re.compile(r"\"([^\"\n]{1,300})\"|\u201c([^\u201d\n]{1,300})\u201d|`([^`\n]{1,300})`")
_TRIM = " \t.,;:!?'\u2019"


def _canon_number(token: str) -> str | None:
    try:
        value = Decimal(token.replace(",", ""))
    except InvalidOperation:
        return None
    text = format(value.normalize(), "f")
    return text


def numbers_in(text: str) -> list[str]:
    """Every number written in `text`, canonical (thousands separators and trailing
    zeros dropped: "1,200" -> "1200", "12.50" -> "12.5", "09" -> "9")."""
    out = []
    for token in _NUMBER.findall(text):
        canon = _canon_number(token)
        if canon is not None:
            out.append(canon)
    return out


def _walk(value: Any, numbers: set[str], strings: set[str]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        canon = _canon_number(repr(value) if isinstance(value, float) else str(value))
        if canon is not None:
            numbers.add(canon)
    elif isinstance(value, str):
        numbers.update(numbers_in(value))
        strings.add(_norm_str(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            strings.add(_norm_str(str(key)))
            _walk(item, numbers, strings)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _walk(item, numbers, strings)


def _norm_str(text: str) -> str:
    return " ".join(text.strip(_TRIM).split()).casefold()


def known_values(facts: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(numbers, strings) present anywhere in the facts, canonicalised."""
    numbers: set[str] = set()
    strings: set[str] = set()
    _walk(facts, numbers, strings)
    return numbers, strings


def _titles_in(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "title" and isinstance(item, str):
                out.append(item)
            else:
                _titles_in(item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _titles_in(item, out)
    return out


_GLUE_TEXT = "a an the of for to in on at by with from and or is are be this that our"
_GLUE = frozenset(_GLUE_TEXT.split())


def _ngrams(words: list[str], n: int = TITLE_NGRAM) -> set[tuple[str, ...]]:
    """Runs of `n` words holding at least two content words ("for the sales" is not one)."""
    runs = (tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return {run for run in runs if len(set(run) - _GLUE) >= 2}


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


# Links in any form a chat client would make live: scheme URLs, www., bare domains,
# Slack markup (<http..|..>, <@U..>, <!here>) and markdown links and images.
_LINK = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]*://[^\s<>\"]+"
    r"|\bwww\.[^\s<>\"]+"
    r"|\bmailto:[^\s<>\"]+"
    r"|<[^<>\s][^<>\n]*>"
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|ai|app|dev|info|biz|xyz|ru|cn|ly|me|gg|link|click|top)\b"
)
# A digest reports; it asks nobody to do anything. A sentence that opens with one of
# these verbs, or speaks to the reader like this, is an instruction.
_IMPERATIVE_TEXT = (
    "click tap visit go reply respond send email e-mail call contact message dm ping forward share download "
    "install run execute type enter paste copy login provide submit transfer pay wire approve reject ignore "
    "disregard forget follow tell ask grant give delete remove reset verify confirm ensure remember please "
    "escalate override promote retire pause resume do don't never always"
)
_IMPERATIVE = frozenset(_IMPERATIVE_TEXT.split())
_DIRECTIVE = re.compile(
    r"(?i)\b(?:please|you (?:must|should|need to|have to)|make sure|be sure to|don't forget|do not forget|"
    r"ignore (?:all|any|the|previous|prior|above)|disregard|log in|sign in)\b"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|:\s+|;\s+")


def _links(prose: str, strings: set[str]) -> list[str]:
    """Links in `prose` that are not written in the facts."""
    out = []
    for match in _LINK.finditer(prose):
        link = match.group(0).rstrip(".,;:!?'\u2019")
        while link.endswith(")") and link.count(")") > link.count("("):
            link = link[:-1].rstrip(".,;:!?'\u2019")
        key = _norm_str(link)
        if link and not any(key in s for s in strings):
            out.append(link)
    return out


def _instructions(prose: str, strings: set[str]) -> list[str]:
    """Sentences of `prose` that tell someone to act and are not written in the facts."""
    out = []
    for sentence in _SENTENCE.split(prose):
        sentence = sentence.strip(" \t-•*>|")
        words = sentence.split()
        if not words:
            continue
        first = words[0].strip(".,;:!?()'\"\u2019").casefold()
        opening = _norm_str(" ".join(words[:2]))
        imperative = first in _IMPERATIVE and not any(s.startswith(opening) for s in strings)
        if (imperative or _DIRECTIVE.search(sentence)) and not any(_norm_str(sentence) in s for s in strings):
            out.append(sentence)
    return out


def grounding_problems(text: str, facts: dict[str, Any]) -> list[str]:
    """What in `text` does not come from the facts: numbers, titles, links, instructions.

    Every number (digits, decimals, percentages) must be one of the numbers present in
    the facts; every quoted span must be a title (or another value) of the facts; and
    words of a title (user-written data) may appear only inside quotes, as the title --
    a draft that repeats a title's words as its own prose (say, a title that reads like
    an instruction) is rejected. Outside quoted titles there may be no link (a URL, a
    domain, chat or markdown link markup) and no instruction to the reader ("click",
    "reply with", "you must", "ignore ...") that the facts do not contain.
    """
    numbers, strings = known_values(facts)
    problems: list[str] = []
    seen: set[str] = set()
    for number in numbers_in(text):
        if number not in numbers and number not in seen:
            seen.add(number)
            problems.append(f"the number {number} is not in the facts")
    for match in _QUOTED.finditer(text):
        quoted = next(g for g in match.groups() if g is not None)
        key = _norm_str(quoted)
        if key and key not in strings and key not in seen:
            seen.add(key)
            problems.append(f"the quoted title {quoted.strip()!r} is not a proposal title in the facts")
    unquoted = _QUOTED.sub(" | ", text)
    prose = _ngrams(_words(unquoted))
    for title in dict.fromkeys(_titles_in(facts, [])):
        if _ngrams(_words(title)) & prose and title not in seen:
            seen.add(title)
            problems.append(f"words of the title {title!r} appear outside double quotes; quote titles exactly")
    for link in dict.fromkeys(_links(unquoted, strings)):
        problems.append(f"the link {link[:80]!r} is not in the facts; a digest contains no links")
    for sentence in dict.fromkeys(_instructions(unquoted, strings)):
        problems.append(f"the instruction {sentence[:80]!r} is not in the facts; report facts, ask nobody to act")
    return problems


# --------------------------------------------------------------------------- writing


@dataclass
class DigestDraft:
    """What the writer produced, ready to be stored as a `DigestRow`."""

    text: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    fallback_reason: str | None
    attempts: int


def write_digest(facts: dict[str, Any], drafter: Drafter | None, template: PromptTemplate) -> DigestDraft:
    """Draft the digest with the LLM, check it, retry once, else use the template.

    Without a drafter the template writer writes it and says so.
    """
    if drafter is None:
        return DigestDraft(template_digest(facts, "no_llm"), "template", 0, 0, 0, None, 0)
    system, user = build_prompt(template, facts)
    tokens_in = tokens_out = 0
    started = time.monotonic()
    message = user
    problems: list[str] = []
    reasons: list[str] = []
    for attempt in (1, 2):
        try:
            text, t_in, t_out = drafter.draft(system, message)
        except DraftFailed as exc:
            reasons.append(f"attempt {attempt}: LLM failed: {exc}")
            logger.warning("digest draft attempt %s failed: %s", attempt, exc)
            break  # the adapter already retried the transport; do not hammer it
        tokens_in += t_in
        tokens_out += t_out
        problems = grounding_problems(text, facts)
        if not text.strip():
            problems = ["the draft is empty"]
        if not problems:
            latency = int((time.monotonic() - started) * 1000)
            return DigestDraft(text.strip(), drafter.model_name, tokens_in, tokens_out, latency, None, attempt)
        reasons.append(f"attempt {attempt}: " + "; ".join(problems[:MAX_PROBLEMS]))
        logger.info("digest draft attempt %s failed the grounding check (%s problems)", attempt, len(problems))
        message = build_retry(template, user, problems)
    latency = int((time.monotonic() - started) * 1000)
    kind = "grounding" if problems and not any("LLM failed" in r for r in reasons) else "llm_error"
    reason = ("grounding check failed: " if kind == "grounding" else "LLM draft failed: ") + " | ".join(reasons)
    return DigestDraft(
        template_digest(facts, kind), "template", tokens_in, tokens_out, latency, reason[:2000], len(reasons)
    )


_WHY = {
    "no_llm": "Written by govbot's template writer: no LLM is configured.",
    "grounding": "Written by govbot's template writer: the LLM draft did not pass the check against the facts.",
    "llm_error": "Written by govbot's template writer: the LLM did not answer.",
}


_LABELS = {"approve": "approved", "reject": "rejected", "request_changes": "changes requested"}


def _counts(mapping: dict[str, Any]) -> str:
    parts = [f"{_LABELS.get(k, k.replace('_', ' '))} {v}" for k, v in mapping.items() if v]
    return ", ".join(parts) if parts else "none"


def _titles(items: list[dict[str, Any]], limit: int = 5) -> str:
    return ", ".join(f'"{i["title"]}" (#{i["id"]})' for i in items[:limit])


def _drift_lines(drift: dict[str, Any]) -> list[str]:
    """Governance drift, only when there is some: reviews of running workflows overdue."""
    if not drift.get("overdue_reviews"):
        return []
    return [
        f"Governance drift: {drift['overdue_reviews']} running workflows not reviewed in time"
        + (f": {_titles(drift.get('items', []))}." if drift.get("items") else ".")
    ]


def _incident_lines(inc: dict[str, Any]) -> list[str]:
    """Incidents, only when there are some: reported and resolved this week, open now by
    severity, each open one by its workflow's title (the digest carries no incident text)."""
    if not (inc.get("open") or inc.get("reported_this_week") or inc.get("resolved_this_week")):
        return []
    lines = [
        f"Incidents: {inc.get('reported_this_week', 0)} reported this week, {inc.get('resolved_this_week', 0)} "
        f"resolved; {inc.get('open', 0)} open ({_counts(inc.get('open_by_severity', {}))})."
    ]
    for item in inc.get("items", [])[:5]:
        lines.append(
            f'- incident {item["id"]} ({item["severity"]}) on "{item["title"]}" (#{item["proposal_id"]}), {item["stage"]}'
        )
    return lines


def _n(count: Any, one: str, many: str | None = None) -> str:
    """ "1 approval", "2 approvals" (`many` for irregular plurals)."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def template_digest(facts: dict[str, Any], why: str = "no_llm") -> str:
    """The deterministic digest: every number and title taken from the facts."""
    period = facts.get("period", {})
    new = facts.get("new_proposals", {})
    dec = facts.get("decisions", {})
    moves = facts.get("stage_moves", {})
    appr = facts.get("approvals", {})
    stops = facts.get("stop_conditions", {})
    purg = facts.get("purgatory", {})
    chk = facts.get("checkins", {})
    total = facts.get("portfolio", {}).get("total", 0)
    lines = [
        f"AI portfolio digest, week {period.get('week', '')} ({period.get('start_date', '')} to "
        f"{period.get('end_date', '')})",
        _WHY.get(why, _WHY["no_llm"]),
        "",
        f"Pipeline: {_n(total, 'proposal')} in the portfolio; {new.get('this_week', 0)} new this week "
        f"({new.get('last_week', 0)} the week before). New by risk: {_counts(new.get('by_risk', {}))}.",
    ]
    if new.get("items"):
        lines.append(f"New: {_titles(new['items'])}.")
    for dup in facts.get("duplicates", {}).get("items", [])[:5]:  # AI sprawl: new work that already runs elsewhere
        old = dup["duplicates"]
        lines.append(
            f'Duplicates running work: "{dup["title"]}" (#{dup["id"]}, {dup["department"] or "no department"}) '
            f'looks like "{old["title"]}" (#{old["id"]}, {old["department"] or "no department"}, {old["stage"]}): '
            f"{dup['reason']}."
        )
    this_dec, last_dec = dec.get("this_week", {}), dec.get("last_week", {})
    lines += [
        "",
        f"Decisions this week: {_counts(this_dec)} (the week before: {_counts(last_dec)}).",
        f"Stage moves this week: {_counts(moves.get('this_week', {}))} "
        f"(the week before: {_counts(moves.get('last_week', {}))}).",
        "",
        f"Needs attention: {_n(appr.get('pending', 0), 'approval')} pending, {appr.get('overdue', 0)} overdue "
        f"(pending more than {_n(appr.get('overdue_after_hours', 0), 'hour')}).",
        f"Open stop conditions: {stops.get('open', 0)} ({_counts(stops.get('by_code', {}))}).",
        f"Pilot purgatory: {_n(purg.get('count', 0), 'pilot')} older than {_n(purg.get('days', 0), 'day')}, not "
        f"promoted" + (f": {_titles(purg.get('items', []))}." if purg.get("items") else "."),
        *_rate_lines(facts.get("pilot_to_production", {})),
        *_drift_lines(facts.get("governance_drift", {})),
        *_incident_lines(facts.get("incidents", {})),
        "",
        f"Value evidence: {_n(chk.get('this_week', 0), 'check-in')} this week ({chk.get('last_week', 0)} the week "
        "before).",
    ]
    for item in chk.get("items", [])[:5]:
        lines.append(f'- "{item["title"]}" (#{item["proposal_id"]}): {item["value"]}')
    standing = [v for v in facts.get("value", {}).get("latest", []) if v.get("target") is not None]
    if standing:
        lines.append("Latest value against target:")
        for item in standing[:5]:
            lines.append(f'- "{item["title"]}" (#{item["proposal_id"]}): {_standing(item)}')
    lines += _override_lines(facts.get("overrides", {}))
    return "\n".join(lines)


def _rate_lines(rate: dict[str, Any]) -> list[str]:
    """The pilot-to-production rate over the last quarter, when there were pilots."""
    if not rate.get("pilots"):
        return []
    return [
        f"Pilot to production over the last {_n(rate.get('days', 0), 'day')}: {rate.get('promoted', 0)} of "
        f"{_n(rate['pilots'], 'pilot')} promoted ({rate.get('rate_pct')}%)."
    ]


def _standing(item: dict[str, Any]) -> str:
    latest = parse_number(item.get("value"))
    if latest is None:
        return str(item.get("value"))
    return standing_line({**item, "latest": latest})


def _override_lines(found: dict[str, Any]) -> list[str]:
    """The week's governance overrides (production gate, stop conditions), with reasons."""
    if not found.get("count"):
        return []
    kinds = {"production_gate": "production gate", "stop_condition": "stop condition"}
    lines = ["", f"Governance overrides this week: {found['count']}."]
    for item in found.get("items", [])[:5]:
        what = ", ".join(item.get("overridden") or [])
        lines.append(
            f'- "{item["title"]}" (#{item["proposal_id"]}): {kinds.get(item["kind"], item["kind"])} ({what}) '
            f'by {item["by"]}, reason "{item["reason"]}"'
        )
    return lines
