"""The intake interview as a platform-neutral flow.

Slack renders each `Page` as a modal view, Teams as an Adaptive Card form and the
console as prompts; all three call the same functions here:

- `pages(answers)` lists the pages that are relevant given the answers so far. The
  regulatory questions appear only when earlier answers make them relevant
  (progressive disclosure, DESIGN.md "Regulatory mapping").
- `parse_page(page, raw)` turns what the platform sent back into clean answers,
  validating every value with `bot.domain.proposal.check_field`.
- `followup_page(answers)` asks again, before submission, for whatever governance
  needs and is still blank or too vague to act on, saying why it matters.
- `to_proposal(answers)` gives the complete proposal for `Govbot.submit`; a requester
  who answers nothing new still gets every key, with the defaults of `bot.domain.proposal`.
- `InterviewFlow(policy)` is the one stepper the channels walk ("next page, else the
  follow-up once, else submit"); they get it from `Govbot.interview_flow()`, so the
  regulatory questions are chosen with the policy the classifier uses.

Question keys are the proposal keys they fill and choice values are the enum codes
themselves, so a Slack `block_id` or a Teams input `id` maps straight back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from bot.domain import duties, proposal
from bot.domain.errors import FieldError, ProposalInvalid
from bot.domain.policy import Policy
from bot.domain.proposal import FIELDS, check_field, is_blank, normalise
from bot.domain.questions import (
    _AREA_HELP,
    _BASICS,
    _CONTROLS,
    _DATA_ACTIONS,
    _MIN_WORDS,
    _PEOPLE_FACING,
    _PLACEHOLDERS,
    _PROFILING_ACTIONS,
    _Q_GENERATES,
    _Q_INTERACTS,
    _Q_NARROW,
    _Q_PROFILES,
    _Q_PROHIBITED,
    _Q_ROLE,
    _SENSITIVE_DATA,
    _USER_KINDS,
    _VALUE,
    FOLLOWUP_KEYS,
    LONG_TEXT,
    MULTI,
    PAGE_ORDER,
    PAGE_TITLES,
    SINGLE,
    TEXT,
    USER,
    VALUE_QUESTIONS_NOTE,
    WHY,
    YES_NO,
    Page,
    Question,
    _choices,
    _clip,
    _q,
    label_of,
    with_known,
)

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- policy help


_POLICY_CACHE: dict[str, Any] = {}


def _default_policy() -> Any:
    """The default policy (bot/policy.toml via bot.domain.policy_file.load_policy), loaded once; None if unavailable."""
    if "default" not in _POLICY_CACHE:
        try:
            from bot.domain.policy_file import load_policy

            _POLICY_CACHE["default"] = load_policy()
        except Exception:  # the policy module may be missing or broken; the interview still works
            logger.debug("policy not loadable; using built-in help texts", exc_info=True)
            return None
    return _POLICY_CACHE["default"]


def area_help(policy: Any = None) -> dict[str, str]:
    """Plain-language help for each Annex III use area, from the policy file when it has them."""
    if policy is None:
        policy = _default_policy()
    found = _policy_texts(policy, "use_area_help", proposal.USE_AREA)
    merged = dict(_AREA_HELP)
    if found:
        for code, text in found.items():
            if code in merged and isinstance(text, str) and text.strip():
                merged[code] = text.strip()
    return merged


def practice_help(policy: Any = None) -> dict[str, str]:
    """Plain-language help for each prohibited practice, from the policy file (empty when it has none)."""
    policy = _default_policy() if policy is None else policy
    found = _policy_texts(policy, "prohibited_practice_help", proposal.PROHIBITED_PRACTICES)
    return {k: v.strip() for k, v in (found or {}).items() if isinstance(v, str) and v.strip()}


def _policy_texts(policy: Any, method: str, codes: tuple[str, ...]) -> dict[str, str] | None:
    """Help texts from `bot.domain.policy.Policy.<method>()`, or from a raw policy mapping laid
    out like bot/policy.toml (`[eu_ai_act.areas.<code>] help = "..."`)."""
    if policy is None:
        return None
    texts: Any = None
    if isinstance(policy, Mapping):
        table = "areas" if codes == proposal.USE_AREA else "prohibited_practices"
        eu = policy.get("eu_ai_act")
        raw = eu.get(table) if isinstance(eu, Mapping) else None
        if isinstance(raw, Mapping):
            texts = {k: (v.get("help") if isinstance(v, Mapping) else v) for k, v in raw.items()}
    else:
        try:
            texts = getattr(policy, method, None)  # a property of bot.domain.policy.Policy (or a method)
            if callable(texts):
                texts = texts()
        except Exception:  # a broken policy must not break the interview
            logger.debug("policy.%s failed", method, exc_info=True)
            texts = None
    if not isinstance(texts, Mapping):
        return None
    return {k: v for k, v in texts.items() if k in codes and isinstance(v, str)}


# --------------------------------------------------------------------------- relevance


def _as_set(value: Any) -> set[str]:
    if isinstance(value, (list, tuple, set, frozenset)):
        return {v for v in value if isinstance(v, str)}
    if isinstance(value, str) and value:
        return {value}
    return set()


def _has_non_default(answers: dict[str, Any], key: str) -> bool:
    value = answers.get(key)
    if is_blank(value):
        return False
    default = FIELDS[key].default
    if isinstance(default, tuple):
        return bool(_as_set(value))
    return bool(value != default)


def effective_sets(answers: dict[str, Any], policy: Any = None) -> tuple[set[str], set[str]]:
    """Declared data and actions plus what the free text plainly describes (the
    classifier's effective sets), so a description of "patient records" brings the
    same questions as ticking regulated data. Falls back to the declared sets when the
    classifier is not available."""
    data, actions = _as_set(answers.get("data")), _as_set(answers.get("actions"))
    if not any(isinstance(answers.get(k), str) and answers[k].strip() for k in proposal.FREE_TEXT_KEYS):
        return data, actions
    policy = _default_policy() if policy is None else policy
    if policy is None:
        return data, actions
    try:
        from bot.domain.classifier import classify

        candidate = to_proposal({**answers, "title": answers.get("title") or "untitled"})
        effective = classify(candidate, policy).get("effective") or {}
    except Exception:  # never let a classifier problem break the interview
        logger.debug("effective sets unavailable; using the declared ones", exc_info=True)
        return data, actions
    return data | _as_set(effective.get("data")), actions | _as_set(effective.get("actions"))


def _regulatory_questions(answers: dict[str, Any], policy: Any = None) -> tuple[Question, ...]:
    data, actions = effective_sets(answers, policy)
    people_facing = answers.get("audience") in _PEOPLE_FACING
    sensitive = bool(data & _SENSITIVE_DATA)
    profiling = bool(actions & _PROFILING_ACTIONS)
    out: list[Question] = []
    if (
        people_facing
        or _has_non_default(answers, "interacts_with_people")
        or _has_non_default(answers, "generates_content")
    ):
        out += [_Q_INTERACTS, _Q_GENERATES]
    if sensitive or profiling or _has_non_default(answers, "use_area") or _has_non_default(answers, "profiles_people"):
        out.append(_use_area_question(policy))
        out.append(_Q_PROFILES)
    if out or _has_non_default(answers, "ai_act_role"):
        out.append(_Q_ROLE)
    return tuple(out)


def _use_area_question(policy: Any) -> Question:
    helps = area_help(policy)
    return _q(
        "use_area",
        "Use area (EU AI Act Annex III)",
        "Is it used for any of these purposes?",
        "These uses are high-risk under the EU AI Act. Pick 'None of these' if none applies.",
        SINGLE,
        choices=_choices("use_area", helps),
    )


def _prohibited_question(policy: Any) -> Question:
    return replace(_Q_PROHIBITED, choices=_choices("prohibited_practices", practice_help(policy)))


def _detail_questions(answers: dict[str, Any], policy: Any = None) -> tuple[Question, ...]:
    area = answers.get("use_area") or "none"
    profiling = answers.get("profiles_people") is True or bool(effective_sets(answers, policy)[1] & _PROFILING_ACTIONS)
    out: list[Question] = []
    # The Art. 6(3) exception cannot apply to a safety component, so it is not asked then.
    if (area not in ("none", "safety_component")) or _has_non_default(answers, "narrow_procedural_task"):
        out.append(_Q_NARROW)
    if area != "none" or profiling or _has_non_default(answers, "prohibited_practices"):
        out.append(_prohibited_question(policy))
    return tuple(out)


def _page(page_id: str, answers: dict[str, Any], policy: Any = None, known: Mapping[str, Any] | None = None) -> Page:
    page = _plain_page(page_id, answers, policy)
    if not known:
        return page
    return replace(page, questions=tuple(with_known(q, known.get(q.key) or ()) for q in page.questions))


def _plain_page(page_id: str, answers: dict[str, Any], policy: Any = None) -> Page:
    questions: tuple[Question, ...]
    if page_id == "basics":
        questions = _BASICS
    elif page_id == "data_actions":
        questions = _DATA_ACTIONS
    elif page_id == "controls":
        questions = _CONTROLS
    elif page_id == "regulatory":
        questions = _regulatory_questions(answers, policy)
    elif page_id == "regulatory_detail":
        questions = _detail_questions(answers, policy)
    elif page_id == "followup":
        page = followup_page(answers)
        questions = page.questions if page else ()
    else:
        raise KeyError(f"unknown interview page {page_id!r}; pages: {', '.join((*PAGE_ORDER, 'followup'))}")
    return Page(page_id, PAGE_TITLES[page_id], questions)


# --------------------------------------------------------------------------- public flow


def pages(
    answers: dict[str, Any] | None = None, *, policy: Any = None, known: Mapping[str, Any] | None = None
) -> list[Page]:
    """The pages relevant given the answers so far, in order (follow-up not included).
    `known` ({"vendor": [...], "model": [...], "downstream": [...]}, `Govbot.known_names`)
    names the values the portfolio already uses in those questions' help."""
    answers = answers or {}
    out = [_page(pid, answers, policy, known) for pid in PAGE_ORDER]
    return [p for p in out if p.questions]


def get_page(
    page_id: str, answers: dict[str, Any] | None = None, *, policy: Any = None, known: Mapping[str, Any] | None = None
) -> Page:
    """One page by id (also "followup"). Raises KeyError naming the pages for an unknown id."""
    return _page(page_id, answers or {}, policy, known)


def next_page(
    page_id: str, answers: dict[str, Any] | None = None, *, policy: Any = None, known: Mapping[str, Any] | None = None
) -> Page | None:
    """The relevant page after `page_id` given the answers so far, or None at the end.

    The follow-up page is not part of the sequence: ask `followup_page` once before
    submitting.
    """
    answers = answers or {}
    if page_id == "followup":
        return None
    if page_id not in PAGE_ORDER:
        raise KeyError(f"unknown interview page {page_id!r}; pages: {', '.join(PAGE_ORDER)}")
    for pid in PAGE_ORDER[PAGE_ORDER.index(page_id) + 1 :]:
        page = _page(pid, answers, policy, known)
        if page.questions:
            return page
    return None


def first_page(
    answers: dict[str, Any] | None = None, *, policy: Any = None, known: Mapping[str, Any] | None = None
) -> Page:
    """The first page (always "basics")."""
    return _page(PAGE_ORDER[0], answers or {}, policy, known)


# --------------------------------------------------------------------------- the stepper

FOLLOWUP: Final = "followup"


@dataclass(frozen=True)
class Step:
    """A page to show, with where it stands: `position` is (n, of) among the relevant
    main pages (None for the follow-up); `last` is True when answering it submits the
    proposal (the button says "Submit", not "Next"). A summary (`bot.domain.intake`)
    also says which of its questions were `prefilled` (to confirm) and which are
    `asked`, and whether it is `editing` a proposal; `note` is what to tell the
    requester above the page (e.g. that their paragraph could not be read)."""

    page: Page
    position: tuple[int, int] | None
    last: bool
    prefilled: tuple[Question, ...] = ()
    asked: tuple[Question, ...] = ()
    editing: bool = False
    note: str | None = None
    warning: str | None = None  # shown before submitting, e.g. "2 similar workflows exist ..."


def step_of(page: Page, answers: dict[str, Any], *, policy: Policy) -> tuple[int, int] | None:
    """(n, of): the page's place among the main pages relevant to `answers`; None for
    the follow-up (or a page no longer relevant)."""
    ids = [p.id for p in pages(answers, policy=policy)]
    return (ids.index(page.id) + 1, len(ids)) if page.id in ids else None


def is_last(page: Page, answers: dict[str, Any], *, policy: Policy) -> bool:
    """True when nothing follows `page`: it is the follow-up, or the last relevant main
    page and no answer needs following up."""
    if page.id == FOLLOWUP:
        return True
    return next_page(page.id, answers, policy=policy) is None and followup_page(answers) is None


@dataclass(frozen=True)
class InterviewFlow:
    """The one interview stepper, bound to the policy that chooses the regulatory
    questions: next page, else the follow-up once, else submit.

    Every channel walks the interview through this object (from
    `Govbot.interview_flow()`), so Slack, Teams and the console ask the same pages in
    the same order as the classifier that will judge the answers.
    """

    policy: Policy
    known: Mapping[str, Any] | None = None  # names the portfolio already uses (`Govbot.known_names`)
    # Before the submitting step is shown: a warning for the answers, or None
    # (`Govbot.interview_flow` checks for similar workflows in other departments).
    before_submit: Callable[[dict[str, Any]], str | None] | None = None

    def start(self, answers: dict[str, Any]) -> Step:
        """The first page (always "basics")."""
        return self._warned(self.show(PAGE_ORDER[0], answers), answers)

    def show(self, page_id: str, answers: dict[str, Any]) -> Step:
        """The page `page_id` (also "followup") as it stands given the answers, e.g. to
        read what was submitted on it or to show it again with errors. Raises KeyError
        naming the pages for an unknown id."""
        page = get_page(page_id, answers, policy=self.policy, known=self.known)
        return self._step(page, answers)

    def after(self, page_id: str, answers: dict[str, Any]) -> Step | None:
        """What comes after `page_id` was answered: the next relevant page, else the
        follow-up (once: nothing follows it), else None, which means submit."""
        if page_id == FOLLOWUP:
            return None
        nxt = next_page(page_id, answers, policy=self.policy, known=self.known) or followup_page(answers)
        return None if nxt is None else self._warned(self._step(nxt, answers), answers)

    def pages(self, answers: dict[str, Any]) -> list[Page]:
        """The main pages relevant given the answers so far, in order."""
        return pages(answers, policy=self.policy, known=self.known)

    def _warned(self, step: Step, answers: dict[str, Any]) -> Step:
        """The step with the warning of `before_submit` when answering it submits."""
        if not step.last or self.before_submit is None:
            return step
        return replace(step, warning=self.before_submit(answers))

    def _step(self, page: Page, answers: dict[str, Any]) -> Step:
        return Step(
            page,
            step_of(page, answers, policy=self.policy),
            is_last(page, answers, policy=self.policy),
        )


_TRUE: Final = frozenset({"true", "yes", "y", "1", "on"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "off"})
_MENTION = re.compile(r"^<@([^>|]+)(?:\|[^>]*)?>$")


def parse_answer(question: Question, raw: Any) -> tuple[Any, str | None]:
    """Turn one raw platform value into a clean answer, or an error naming the key and what is allowed.

    Raw values: str, list[str] (multi), "true"/"false" or bool (yes/no), None. A blank
    answer gives None (or [] for a multi choice); a required question then errors.
    """
    key = question.key
    value: Any = raw
    if FIELDS[key].kind == "names" and isinstance(value, str):  # "Finance, Legal" -> ["Finance", "Legal"]
        value = [v for v in re.split(r"[,;\n]", value) if v.strip()]
    elif question.kind in (TEXT, LONG_TEXT, USER):
        if value is not None and not isinstance(value, str):
            return None, f"{key}: must be text, not {type(value).__name__}"
        if isinstance(value, str) and question.kind == USER:
            value = value.strip()
            match = _MENTION.match(value)
            value = match.group(1) if match else value.removeprefix("@")
            if any(ch.isspace() for ch in value):
                return None, f"{key}: give one person's user id (e.g. U123 or @U123), not {value!r}"
    elif question.kind == SINGLE:
        if isinstance(value, list) and len(value) <= 1:
            value = value[0] if value else None
        if isinstance(value, str):
            value = _match_choice(question, value.strip()) if value.strip() else None
    elif question.kind == MULTI:
        if value is None:
            value = []
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, (list, tuple)):
            value = [
                _match_choice(question, v.strip()) if isinstance(v, str) else v
                for v in value
                if not (isinstance(v, str) and not v.strip())
            ]
    elif question.kind == YES_NO:
        if isinstance(value, str):
            word = value.strip().lower()
            if not word:
                value = None
            elif word in _TRUE:
                value = True
            elif word in _FALSE:
                value = False
            else:
                return None, f"{key}: answer yes or no (true or false), not {value.strip()!r}"
        elif value is not None and not isinstance(value, bool):
            return None, f"{key}: answer yes or no (true or false)"
    clean, err = check_field(key, value)
    if err is not None:
        return None, str(err)
    if question.required and is_blank(clean):
        return None, f"{key}: is required"
    return clean, None


def _match_choice(question: Question, text: str) -> str:
    """Accept the code itself, or (any case) a code or label; else return the text for check_field to refuse."""
    for c in question.choices:
        if text == c.value:
            return c.value
    low = text.lower()
    for c in question.choices:
        if low in (c.value.lower(), c.label.lower()):
            return c.value
    return text


def parse_page(page: Page, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the values a platform sent for one page.

    Returns (clean answers for the keys present in `raw` and required keys, {key: error}).
    Keys of `raw` that the page does not ask are ignored; a question missing from `raw`
    is left untouched unless it is required.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for q in page.questions:
        if q.key not in raw and not q.required:
            continue
        value, err = parse_answer(q, raw.get(q.key))
        if err:
            errors[q.key] = err
        else:
            clean[q.key] = value
    return clean, errors


def weak_reason(key: str, value: Any) -> str | None:
    """Why an answer is too weak to act on (blank, a placeholder, too short), or None."""
    if is_blank(value):
        return "is blank"
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    norm = text.lower().strip(" .!")
    if text.lower() in _PLACEHOLDERS or norm in _PLACEHOLDERS or not re.search(r"[^\W_]", text):
        return "is a placeholder (like n/a, tbd, none or ?), not an answer"
    if key in _USER_KINDS:
        return None
    words = re.findall(r"[^\W_]+", text)
    if len(words) < _MIN_WORDS:
        return f"is too short to act on ({len(words)} word{'s' if len(words) != 1 else ''}); say who, what or how"
    if key == "value_metric" and not re.search(r"\d", text):
        return "has no number: give a baseline and a target, e.g. 'from 12 to 6 minutes per ticket'"
    return None


def contradiction(answers: dict[str, Any]) -> str | None:
    """Why the review and autonomy answers cannot both hold (a person checks every
    output, yet it acts on its own), asking which holds; None when they agree."""
    review, autonomy = answers.get("review"), answers.get("autonomy")
    if not duties.review_contradicts_autonomy(review, autonomy):
        return None
    acting = label_of("autonomy", str(autonomy))
    return (
        f'You said "a person checks every output" and also "{acting}": both cannot hold. '
        "Which is it? Change the review or the autonomy answer."
    )


def weak_answers(answers: dict[str, Any]) -> dict[str, str]:
    """{key: reason} for every follow-up key whose answer is blank or weak."""
    out: dict[str, str] = {}
    for key in FOLLOWUP_KEYS:
        reason = weak_reason(key, answers.get(key))
        if reason:
            out[key] = reason
    return out


_ALL_QUESTIONS: Final = {q.key: q for q in (*_BASICS, *_DATA_ACTIONS, *_CONTROLS, *_VALUE)}


def missing_value(answers: dict[str, Any]) -> tuple[str, ...]:
    """`value_baseline` / `value_target` still blank when the metric is given but its
    sentence does not say them (`bot.domain.proposal.with_value` reads what it can)."""
    if weak_reason("value_metric", answers.get("value_metric")) is not None:
        return ()  # the metric itself is asked again first
    read = proposal.with_value({k: answers.get(k) for k in ("value_metric", *proposal.VALUE_KEYS)})
    return tuple(k for k in ("value_baseline", "value_target") if is_blank(read.get(k)))


def followup_page(answers: dict[str, Any]) -> Page | None:
    """Questions asked again before submission for blank or weak answers, each saying why
    it matters; None when nothing needs asking. Show it once: the requester may still
    leave them blank (the classifier then reports what is missing)."""
    questions: list[Question] = []
    for key, reason in weak_answers(answers).items():
        base = _ALL_QUESTIONS[key]
        said = "You left this blank." if reason == "is blank" else f"Your answer {reason}."
        questions.append(replace(base, prompt=f"{base.prompt} {said}", help=WHY[key]))
    clash = contradiction(answers)
    if clash:
        for key in ("review", "autonomy"):
            base = _ALL_QUESTIONS[key]
            questions.append(replace(base, prompt=f"{base.prompt} {clash}", help=base.help))
    for key in missing_value(answers):
        base = _ALL_QUESTIONS[key]
        questions.append(replace(base, prompt=f"{base.prompt} {VALUE_QUESTIONS_NOTE}", help=WHY[key]))
    if not questions:
        return None
    return Page("followup", PAGE_TITLES["followup"], tuple(questions))


_SEED_PREFIX = re.compile(r"^\s*(?:/\w+\s+)?(?:propose\b\s*[:\-]?\s*)?", re.IGNORECASE)


def seed(text: str | None) -> dict[str, Any]:
    """Answers known from the command text: "/aiwf propose Summarise support tickets"
    gives {"title": "Summarise support tickets", "description": "Summarise support tickets"}.

    The title is the first sentence or line, cut at a word to 120 characters; the
    description is the whole text (up to 4000 characters). Empty text gives {}.
    """
    body = _SEED_PREFIX.sub("", text or "", count=1).strip()
    if not body:
        return {}
    first = re.split(r"(?<=[.!?])\s+|\n", body, maxsplit=1)[0].strip().rstrip(".")
    title = first if len(first) <= proposal.TITLE_MAX else _clip(first, proposal.TITLE_MAX)
    description = body if len(body) <= proposal.DESCRIPTION_MAX else _clip(body, proposal.DESCRIPTION_MAX)
    return {"title": title, "description": description}


def to_proposal(answers: dict[str, Any]) -> dict[str, Any]:
    """The complete proposal for `Govbot.submit`: only known keys, every key present,
    blanks replaced by the defaults of `bot.domain` (the regulatory keys get theirs)."""
    known = {k: v for k, v in answers.items() if k in FIELDS}
    return normalise(known)


def proposal_problems(answers: dict[str, Any]) -> list[FieldError]:
    """What `Govbot.submit` would refuse in the proposal `answers` make (the errors of
    `ProposalInvalid`; empty when there is nothing), so a channel can show them on
    the last form before it submits."""
    try:
        proposal.validate_proposal(to_proposal(answers))
    except ProposalInvalid as exc:
        return list(exc.errors)
    return []


def answered_keys(answers: dict[str, Any]) -> set[str]:
    """Keys present in a draft (answered, even if skipped with a blank)."""
    return {k for k in answers if k in FIELDS}


__all__ = [
    "FOLLOWUP",
    "InterviewFlow",
    "Step",
    "answered_keys",
    "area_help",
    "effective_sets",
    "first_page",
    "followup_page",
    "get_page",
    "is_blank",  # what counts as an unanswered question: the proposal's own rule
    "is_last",
    "missing_value",
    "next_page",
    "pages",
    "parse_answer",
    "parse_page",
    "practice_help",
    "proposal_problems",
    "regulatory_question",
    "seed",
    "step_of",
    "to_proposal",
    "weak_answers",
    "weak_reason",
]


def regulatory_question(key: str, policy: Any = None) -> Question:
    """The interview's question for one regulatory key (`assess <id>` asks them too),
    with the policy's help texts for the use areas and prohibited practices."""
    if key == "use_area":
        return _use_area_question(policy)
    if key == "prohibited_practices":
        return _prohibited_question(policy)
    by_key = {q.key: q for q in (_Q_INTERACTS, _Q_GENERATES, _Q_PROFILES, _Q_ROLE, _Q_NARROW)}
    if key not in by_key:
        raise KeyError(f"{key!r} is not a regulatory question; allowed: {', '.join(proposal.REGULATORY_KEYS)}")
    return by_key[key]
