"""One summary to confirm (DESIGN.md "Intake in one paragraph"): what the channels show
after a paragraph was read, or when a proposal is edited.

The summary is one interview page (id "summary"): first every pre-filled answer, each
with the words it came from and correctable in place, then only the questions still
blank, weak or contradictory, in interview order. Channels get it from
`IntakeFlow.start` (the stepper `Govbot.interview_flow()` returns) when the answers
carry the intake state (`META`), so Slack, Teams and the console walk it like any
other page.

The intake state rides in the answers under `META` (never a proposal key, so
`to_proposal` leaves it out): the mode ("summary", or "plain" when the reading failed
and the page-by-page interview continues with what the lexicon found), the words of
each pre-filled answer, why each remaining question is asked, the keys of the summary
being shown and every key shown so far, and the id of the stored extraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Final

from bot.domain import duties, interview
from bot.domain.extraction import Extraction
from bot.domain.policy import Policy
from bot.domain.proposal import FIELDS, VALUE_KEYS, is_blank, with_value
from bot.domain.questions import (
    _BASICS,
    _CONTROLS,
    _DATA_ACTIONS,
    _Q_GENERATES,
    _Q_INTERACTS,
    _Q_NARROW,
    _Q_PROFILES,
    _Q_ROLE,
    _VALUE,
    FOLLOWUP_KEYS,
    PAGE_ORDER,
    PARAGRAPH,
    PARAGRAPH_QUESTION,
    PARAGRAPH_TITLE,
    SUMMARY,
    SUMMARY_TITLE,
    WHY,
    Page,
    Question,
    _clip,
    label_of,
)

META: Final = "_intake"
PARAGRAPH_MIN_WORDS: Final = 10  # fewer words after `propose` are a title, not a description
EVIDENCE_SHOWN_MAX: Final = 300
SUMMARY_MODE: Final = "summary"
PLAIN_MODE: Final = "plain"
EDIT: Final = "edit"

_REGULATORY_ORDER: Final = (
    "interacts_with_people",
    "generates_content",
    "use_area",
    "profiles_people",
    "ai_act_role",
    "narrow_procedural_task",
    "prohibited_practices",
)
_MAIN: Final = {q.key: q for q in (*_BASICS, *_DATA_ACTIONS, *_CONTROLS, *_VALUE)}
_NUMBERS: Final = ("value_baseline", "value_target")
_FIXED_REGULATORY: Final = {q.key: q for q in (_Q_INTERACTS, _Q_GENERATES, _Q_PROFILES, _Q_ROLE, _Q_NARROW)}
_WORD = re.compile(r"[^\W_]+")


def paragraph_page() -> Page:
    """The first step of a new interview: one long text box (`paragraph`)."""
    return Page(PARAGRAPH, PARAGRAPH_TITLE, (PARAGRAPH_QUESTION,))


def is_paragraph(text: str | None) -> bool:
    """Whether the words after `propose` describe the workflow (then they are read and
    pre-fill the answers) rather than name it (then they are its title)."""
    return len(_WORD.findall(text or "")) >= PARAGRAPH_MIN_WORDS


# --------------------------------------------------------------------------- questions


def question_for(key: str, policy: Policy) -> Question:
    """The interview question that fills `key` (the regulatory ones with the policy's help)."""
    if key in _MAIN:
        return _MAIN[key]
    if key in _FIXED_REGULATORY:
        return _FIXED_REGULATORY[key]
    if key == "use_area":
        return interview._use_area_question(policy)
    if key == "prohibited_practices":
        return interview._prohibited_question(policy)
    raise KeyError(f"no interview question fills {key!r}")


def interview_order(answers: dict[str, Any], policy: Policy, extra: tuple[str, ...] = ()) -> list[str]:
    """The keys the interview asks given `answers`, in its order, then any of `extra`
    that no relevant page asks (in interview order too)."""
    keys = [q.key for p in interview.pages(answers, policy=policy) for q in p.questions]
    if "value_metric" in keys and not is_blank(answers.get("value_metric")):
        at = keys.index("value_metric") + 1  # the numbers read from the metric, to confirm or give
        keys[at:at] = list(_NUMBERS)
    rest = [k for k in (*_MAIN, *_REGULATORY_ORDER) if k in extra and k not in keys]
    return list(dict.fromkeys(keys + rest))


def conflicts(answers: dict[str, Any]) -> dict[str, str]:
    """{key: why} for answers that contradict each other (DESIGN "Gates": every output
    reviewed, yet the AI acts on its own)."""
    review, autonomy = answers.get("review"), answers.get("autonomy")
    if duties.review_contradicts_autonomy(review, autonomy):
        why = (
            "A person checks every output, yet it acts on its own (autonomy: "
            f"{label_of('autonomy', str(autonomy)).lower()}): which holds?"
        )
        return {"review": why, "autonomy": why}
    return {}


# Optional keys a paragraph rarely states: the summary shows them to fill in, but a
# blank one is not "still to answer" (the full interview still asks them).
OPTIONAL_KEYS: Final = ("vendor", "model", "downstream")


def ask_reasons(
    answers: dict[str, Any],
    prefilled: tuple[str, ...] | list[str],
    policy: Policy,
    contradictions: dict[str, str] | None = None,
    *,
    mode: str = SUMMARY_MODE,
) -> dict[str, str]:
    """{key: why it is asked} for every question still blank, weak or contradictory,
    in interview order. The description (the paragraph) is never asked."""
    contradictions = {**conflicts(answers), **(contradictions or {})}
    out: dict[str, str] = {}
    for key in interview_order(answers, policy, tuple(prefilled)):
        if key == "description":
            continue
        value = answers.get(key)
        if key in contradictions:
            out[key] = f"Check this: {contradictions[key]}"
        elif key not in prefilled and is_blank(value) and key not in OPTIONAL_KEYS:
            out[key] = "Your description does not say." if mode != EDIT else "This is blank."
        elif key in FOLLOWUP_KEYS and (weak := interview.weak_reason(key, value)):
            out[key] = "This is blank." if weak == "is blank" else f"Your answer {weak}."
    return out


def ask_keys(extraction: Extraction, policy: Policy) -> list[str]:
    """The keys still to ask after `extraction`, in interview order (`govbot extract`)."""
    extraction = with_numbers(extraction)
    return list(ask_reasons(extraction.answers, extraction.prefilled, policy, extraction.contradictions))


# --------------------------------------------------------------------------- the state


def start(extraction: Extraction, policy: Policy, extraction_id: int | None = None) -> dict[str, Any]:
    """The interview answers after a paragraph was read: the pre-filled answers and the
    intake state. A reading the LLM failed continues as the plain interview with what the
    lexicon found; otherwise the summary comes first."""
    extraction = with_numbers(extraction)
    answers = dict(extraction.answers)
    mode = PLAIN_MODE if extraction.fallback_reason else SUMMARY_MODE
    why = ask_reasons(answers, extraction.prefilled, policy, extraction.contradictions)
    evidence = {k: _clip(v, EVIDENCE_SHOWN_MAX) for k, v in extraction.evidence.items() if k != "description"}
    prefilled = ["description", *extraction.prefilled]
    answers[META] = _state(mode, extraction.extractor, evidence, prefilled, why, answers, policy)
    answers[META]["id"] = extraction_id
    if extraction.fallback_reason:
        answers[META]["note"] = (
            "I could not read your description with the language model "
            f"({_clip(extraction.fallback_reason, 120)}), so I filled in what the keyword reading "
            "found; please answer the questions."
        )
    return answers


def with_numbers(extraction: Extraction) -> Extraction:
    """The extraction with the baseline, target and unit read from its metric sentence
    (where it gave none), each with the metric's words as evidence."""
    answers, read = _with_numbers(dict(extraction.answers))
    if not read:
        return extraction
    words = extraction.evidence.get("value_metric") or str(answers["value_metric"])
    return replace(extraction, answers=answers, evidence={**extraction.evidence, **dict.fromkeys(read, words)})


def _with_numbers(answers: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The answers with the baseline, target and unit read from the metric where blank,
    and the keys that were read."""
    filled = with_value(answers)
    read = [k for k in VALUE_KEYS if is_blank(answers.get(k)) and not is_blank(filled.get(k))]
    return {**answers, **{k: filled[k] for k in read}}, read


def edit(answers: dict[str, Any], policy: Policy) -> dict[str, Any]:
    """The answers of a proposal being edited, with the summary state: every current
    answer to confirm or correct, then what is still blank, weak or contradictory."""
    current = {k: v for k, v in answers.items() if k in FIELDS}
    given = [k for k, v in current.items() if v is not None and not (isinstance(v, str) and not v.strip())]
    why = ask_reasons(current, given, policy, mode=EDIT)
    current[META] = _state(SUMMARY_MODE, EDIT, {}, given, why, current, policy)
    return current


def _state(
    mode: str,
    source: str,
    evidence: dict[str, str],
    prefilled: list[str],
    why: dict[str, str],
    answers: dict[str, Any],
    policy: Policy,
) -> dict[str, Any]:
    keys = [k for k in interview_order(answers, policy, tuple(prefilled)) if k in prefilled and k not in why]
    keys = _with_text_first(keys, prefilled, why) + list(why)
    return {
        "mode": mode,
        "source": source,
        "evidence": evidence,
        "prefilled": [k for k in prefilled if k in FIELDS],
        "why": why,
        "keys": keys,
        "shown": list(keys),
        "id": None,
    }


def _with_text_first(keys: list[str], prefilled: list[str], why: dict[str, str]) -> list[str]:
    """The title and description lead the summary, then the rest in interview order."""
    head = [k for k in ("title", "description") if k in prefilled and k not in why]
    return head + [k for k in keys if k not in head]


def state(answers: dict[str, Any]) -> dict[str, Any] | None:
    """The intake state carried in `answers`, or None for a plain interview."""
    meta = answers.get(META)
    return meta if isinstance(meta, dict) else None


def in_summary(answers: dict[str, Any]) -> bool:
    """True when the interview should open with the summary."""
    meta = state(answers)
    return meta is not None and meta.get("mode") == SUMMARY_MODE


def note(answers: dict[str, Any]) -> str | None:
    """What to tell the requester about how their paragraph was read (a fallback)."""
    meta = state(answers)
    text = meta.get("note") if meta else None
    return text if isinstance(text, str) and text else None


# --------------------------------------------------------------------------- the page


def summary_page(answers: dict[str, Any], policy: Policy) -> Page:
    """The summary being shown: its pre-filled questions (help: the words they came from)
    then the ones asked (help: why). Raises KeyError when the answers carry no summary."""
    meta = state(answers)
    if meta is None:
        raise KeyError("these answers carry no summary; start from a paragraph or an edit")
    why: dict[str, str] = meta.get("why") or {}
    evidence: dict[str, str] = meta.get("evidence") or {}
    questions = []
    for key in meta.get("keys") or ():
        base = question_for(key, policy)
        if key in why:
            help_text = f"{why[key]} {WHY.get(key, base.help)}".strip()
        elif key == "description" and meta.get("source") != EDIT:
            help_text = "Your words, as written. The classifier reads every one of them."
        elif evidence.get(key):
            help_text = f"From your words: “{evidence[key]}”"
        else:
            help_text = base.help
        questions.append(replace(base, help=help_text))
    return Page(SUMMARY, SUMMARY_TITLE, tuple(questions))


def split(page: Page, answers: dict[str, Any]) -> tuple[tuple[Question, ...], tuple[Question, ...]]:
    """(pre-filled questions to confirm, questions still to answer) of a summary page."""
    why = (state(answers) or {}).get("why") or {}
    return tuple(q for q in page.questions if q.key not in why), tuple(q for q in page.questions if q.key in why)


def after_summary(answers: dict[str, Any], policy: Policy) -> Page | None:
    """After the summary was answered: a further summary with the questions that the
    corrections made relevant and that were never shown (recorded in the state), else
    None (submit)."""
    meta = state(answers)
    if meta is None:
        return None
    shown = set(meta.get("shown") or ())
    answers.update(_with_numbers(answers)[0])  # a metric given in the summary brings its numbers
    given = [k for k in FIELDS if k in answers]
    why = ask_reasons(answers, given, policy, mode=EDIT)
    more = {k: v for k, v in why.items() if k not in shown}
    if not more:
        return None
    meta["why"] = {**(meta.get("why") or {}), **more}
    meta["keys"] = list(more)
    meta["shown"] = [*meta.get("shown", []), *more]
    return summary_page(answers, policy)


def summary_step(page: Page, answers: dict[str, Any]) -> interview.Step:
    """The summary page as a step: what to confirm, what is asked, whether it edits."""
    prefilled, asked = split(page, answers)
    editing = (state(answers) or {}).get("source") == EDIT
    return interview.Step(page, None, True, prefilled=prefilled, asked=asked, editing=editing)


@dataclass(frozen=True)
class IntakeFlow(interview.InterviewFlow):
    """The interview stepper with the summary: it opens on the summary when the answers
    carry one (a paragraph was read, or a proposal is edited) and, after it, shows a
    further summary of what the corrections made relevant, else submits. Without a
    summary it is `InterviewFlow` as it stands (next page, else the follow-up once,
    else submit); when the reading failed, the first page carries the `note` saying so."""

    def start(self, answers: dict[str, Any]) -> interview.Step:
        """The summary to confirm when the answers carry one, else "basics"."""
        if in_summary(answers):
            return self.show(SUMMARY, answers)
        return super().start(answers)

    def show(self, page_id: str, answers: dict[str, Any]) -> interview.Step:
        """The page `page_id`, also "summary" (raises KeyError when the answers carry none)."""
        if page_id == SUMMARY:
            return summary_step(summary_page(answers, self.policy), answers)
        step = super().show(page_id, answers)
        told = note(answers)
        return replace(step, note=told) if told and page_id == PAGE_ORDER[0] else step

    def after(self, page_id: str, answers: dict[str, Any]) -> interview.Step | None:
        """After the summary: a further summary of questions the corrections made
        relevant, else None (submit); this records the new summary in the answers'
        intake state. After any other page: as `InterviewFlow.after`."""
        if page_id == SUMMARY:
            more = after_summary(answers, self.policy)
            return None if more is None else summary_step(more, answers)
        return super().after(page_id, answers)


def extract_json(extraction: Extraction, policy: Policy) -> dict[str, Any]:
    """The `govbot extract` JSON (DESIGN.md "Intake in one paragraph")."""
    extraction = with_numbers(extraction)
    return {
        "extractor": extraction.extractor,
        "answers": dict(extraction.answers),
        "evidence": dict(extraction.evidence),
        "dropped": list(extraction.dropped),
        "ask": ask_keys(extraction, policy),
        "fallback_reason": extraction.fallback_reason,
    }
