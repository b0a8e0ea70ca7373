"""The interview in a terminal: the platform-neutral pages of `bot.domain.interview` asked one
question at a time, with numbered choices, re-asked until valid, the draft saved after
every answer, the follow-up questions, then the submission and its classification.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

from bot.domain import interview, questions
from bot.domain.errors import ProposalInvalid, Refused, UsageError
from bot.messages.message import Message, Section
from bot.service.results import InterviewStart
from handlers.console.render import BOLD, CYAN, render_note, style

logger = logging.getLogger(__name__)

CHANNEL = "console"
CANCEL = frozenset({"cancel", "stop", "/cancel", "quit", "exit", "/quit"})  # all leave, keeping the draft


SHOWN_INLINE = 40  # longer current answers are shown on their own line, whole


class Cancelled(Exception):
    """The user stopped the interview (or input ended); the draft is kept."""


class Terminal(Protocol):
    """What the interview needs from the console session (handlers.console.chat.ConsoleChat)."""

    core: Any
    user: str
    color: bool
    sender: Any

    def say(self, text: str = "") -> None: ...

    def note(self, text: str) -> None: ...

    def error(self, text: str) -> None: ...

    def show(self, message: Message | None) -> None: ...

    def read(self, prompt: str) -> str | None: ...

    def deliver(self) -> int: ...


class TerminalInterview:
    """One run of the interview for the session's current user."""

    def __init__(self, chat: Terminal):
        self.chat = chat

    def run(self, start: InterviewStart) -> None:
        """Ask the interview in the terminal, then submit. Cancelling keeps the draft."""
        answers: dict[str, Any] = dict(start.seed or {})
        proposal_id = start.proposal_id
        resumed = bool(start.resumed)
        skip_until = self._resume_point(proposal_id) if resumed and proposal_id else None
        if resumed and proposal_id:
            self.chat.say(f"Resuming your edit of proposal #{proposal_id}. Enter keeps the current answer.")
        elif resumed:
            self.chat.say(
                f"Resuming your unfinished proposal ({len(interview.answered_keys(answers))} answers so far)."
            )
        elif proposal_id:
            self.chat.say(f"Editing proposal #{proposal_id}. Enter keeps the current answer.")
        self.chat.note(
            "Press Enter to skip a question (or keep the answer in [brackets]), `-` to clear it, "
            "`cancel` or `quit` to stop — your answers are kept as a draft."
        )
        flow = self.chat.core.interview_flow()
        try:
            step: interview.Step | None = flow.start(answers)
            while step is not None:
                page = step.page
                if page.id == questions.SUMMARY:
                    self.summary(step, answers, proposal_id)
                elif page.id == interview.FOLLOWUP:
                    self.chat.say("")
                    self.chat.say(style(f"── {page.title} ──", BOLD, CYAN, color=self.chat.color))
                    self.chat.say(
                        "A few answers governance needs are blank or too vague. One more try each "
                        "(Enter leaves them as they are):"
                    )
                    for q in page.questions:
                        self.ask(q, answers, page.id, proposal_id, why=True)
                else:
                    todo = []
                    for q in page.questions:
                        if skip_until is not None:  # an edit resumed: go on from the question where it stopped
                            if (page.id, q.key) != skip_until:
                                continue
                            skip_until = None
                        if resumed and not proposal_id and q.key in answers:
                            continue  # a new proposal resumed: only what is still unanswered
                        todo.append(q)
                    if todo:
                        self.chat.say("")
                        self.chat.say(style(f"── {page.title} ──", BOLD, CYAN, color=self.chat.color))
                        for q in todo:
                            self.ask(q, answers, page.id, proposal_id)
                step = flow.after(page.id, answers)
            self.submit(answers, proposal_id, flow)
        except Cancelled:
            self.chat.say("")
            self.chat.say("Interview stopped. Your answers are saved; type `propose` to carry on (`mine` shows it).")

    def summary(self, step: interview.Step, answers: dict[str, Any], proposal_id: int | None) -> None:
        """The summary page (a paragraph was read, or a proposal is edited): each of its
        questions in turn; `handlers.console.intake.SummaryInterview` shows it as one
        list to confirm instead."""
        self.chat.say("")
        self.chat.say(style(f"── {step.page.title} ──", BOLD, CYAN, color=self.chat.color))
        for q in step.page.questions:
            self.ask(q, answers, step.page.id, proposal_id)

    def _resume_point(self, proposal_id: int | None) -> tuple[str, str] | None:
        """(page id, key) of the question an interrupted edit stopped at, from the draft's
        step ("page:key"); None (ask everything) when the step names no question."""
        try:
            draft = self.chat.core.load_draft(CHANNEL, self.chat.user) or {}
        except Exception:
            logger.debug("loading the draft step failed", exc_info=True)
            return None
        page_id, _, key = str(draft.get("step") or "").partition(":")
        if draft.get("proposal_id") != proposal_id or not key:
            return None
        if page_id == "followup":
            return ("followup", key)  # every main page was done
        if page_id in questions.PAGE_ORDER and key in questions.ALL_KEYS:
            return (page_id, key)
        return None

    def ask(
        self, q: questions.Question, answers: dict[str, Any], page_id: str, proposal_id: int | None, why: bool = False
    ) -> None:
        """Ask one question until the answer is valid; record it and save the draft."""
        current = answers.get(q.key)
        self.chat.say("")
        required = " (required)" if q.required else ""
        self.chat.say(style(q.label, BOLD, color=self.chat.color) + required + " — " + q.prompt)
        if q.help:
            self.chat.note(("Why it matters: " if why else "") + q.help)
        numbered = q.kind in (questions.SINGLE, questions.MULTI)
        if numbered:
            for n, c in enumerate(q.choices, 1):
                extra = render_note(f" — {c.help}", color=self.chat.color) if c.help else ""
                self.chat.say(f"  {n:>2}) {c.label}{extra}")
        hint = {
            questions.MULTI: "numbers separated by commas, e.g. 1,3",
            questions.SINGLE: "a number",
            questions.YES_NO: "y or n",
            questions.USER: "a user id, @name, or `me`",
        }.get(q.kind, "")
        shown = self._shown(q, current)
        if len(shown) > SHOWN_INLINE:  # a long answer being edited: shown whole, above the prompt
            self.chat.note("Current answer:")
            self.chat.say("  " + shown)
            shown = "the answer above"
        prompt = "> "
        if hint or shown:
            prompt = f"[{'; '.join(p for p in (hint, ('Enter keeps: ' + shown) if shown else '') if p)}] > "
        while True:
            line = self.chat.read(render_note(prompt, color=self.chat.color))
            if line is None or line.strip().lower() in CANCEL:
                self._save(answers, f"{page_id}:{q.key}", proposal_id)
                raise Cancelled
            text = line.strip()
            if not text:
                if q.required and interview.is_blank(current):
                    self.chat.error(f"{q.key}: is required — please answer")
                    continue
                answers.setdefault(q.key, current)
                break
            raw, err = self._raw(q, text)
            if err is None:
                value, err = interview.parse_answer(q, raw)
            if err is not None:
                self.chat.error(err)
                continue
            answers[q.key] = value
            break
        self._save(answers, f"{page_id}:{q.key}", proposal_id)

    def _shown(self, q: questions.Question, value: Any) -> str:
        if interview.is_blank(value):
            return ""
        if q.kind == questions.YES_NO:
            return "yes" if value is True else "no" if value is False else ""
        if q.kind == questions.MULTI and isinstance(value, list):
            numbers = [str(i) for i, c in enumerate(q.choices, 1) if c.value in value]
            return ",".join(numbers)
        if q.kind == questions.SINGLE:
            numbers = [str(i) for i, c in enumerate(q.choices, 1) if c.value == value]
            return f"{numbers[0]} ({questions.label_of(q.key, value)})" if numbers else str(value)
        return str(value)  # a long answer is shown whole above the prompt (SHOWN_INLINE)

    def _raw(self, q: questions.Question, text: str) -> tuple[Any, str | None]:
        """Turn what was typed into the raw value a platform would send."""
        if text == "-":
            return ([] if q.kind == questions.MULTI else None), None
        if q.kind == questions.USER and text.lower() == "me":
            return self.chat.user, None
        if q.kind == questions.USER:  # an id, a mention, or the name of someone govbot knows
            try:
                return self.chat.core.resolve_user(text), None
            except UsageError as exc:
                return None, f"{q.key}: {exc.message.removeprefix('user: ')}"
        if q.kind == questions.SINGLE:
            return self._number(q, text)
        if q.kind == questions.MULTI:
            parts = [p for p in re.split(r"[,\s]+" if re.fullmatch(r"[\d,\s]+", text) else r",", text) if p.strip()]
            values = []
            for part in parts:
                value, err = self._number(q, part.strip())
                if err:
                    return None, err
                values.append(value)
            return values, None
        return text, None

    def _number(self, q: questions.Question, text: str) -> tuple[str | None, str | None]:
        if text.isdigit():
            n = int(text)
            if 1 <= n <= len(q.choices):
                return q.choices[n - 1].value, None
            return None, f"{q.key}: {n} is not one of the numbers 1-{len(q.choices)}"
        return text, None  # a code or a label; parse_answer checks it

    def _save(self, answers: dict[str, Any], step: str, proposal_id: int | None) -> None:
        try:
            self.chat.core.save_draft(CHANNEL, self.chat.user, answers, step, proposal_id)
        except Exception:
            logger.exception("saving the console draft failed")
            self.chat.error("Could not save your draft just now; your answers are kept for this session.")

    def submit(self, answers: dict[str, Any], proposal_id: int | None, flow: interview.InterviewFlow) -> None:
        self.chat.say("")
        self.chat.show(self.chat.core.named(summary(answers, flow.pages(answers))))
        similar = self.chat.core.similar_notice(interview.to_proposal(answers), proposal_id)
        if similar is not None:  # near-duplicates in other departments: talk to their owners first
            self.chat.show(similar)
        for _ in range(5):
            line = self.chat.read(render_note("Submit this proposal? [Y/n] > ", color=self.chat.color))
            if line is None or line.strip().lower() in ("n", "no", *CANCEL):
                raise Cancelled
            if line.strip().lower() in ("", "y", "yes"):
                break
            self.chat.error("answer y or n")
        else:
            raise Cancelled
        while True:
            try:
                result = self.chat.core.submit(
                    self.chat.user, CHANNEL, interview.to_proposal(answers), proposal_id=proposal_id
                )
            except Refused as exc:
                self.chat.error(exc.message)
                return
            except ProposalInvalid as exc:
                self.chat.error("The proposal has problems:")
                for e in exc.errors:
                    self.chat.error(f"  {e}")
                bad = {e.key for e in exc.errors}
                again = [q for p in flow.pages(answers) for q in p.questions if q.key in bad]
                if not again:
                    return
                for q in again:
                    self.ask(q, answers, "fix", proposal_id)
                continue
            break
        verb = "Resubmitted" if proposal_id else "Submitted"
        self.chat.say(
            style(
                f"{verb} as proposal #{result.proposal_id} (revision {result.revision}).", BOLD, color=self.chat.color
            )
        )
        before = self.chat.sender.printed
        self.chat.deliver()
        if self.chat.sender.printed == before:  # the classification was not delivered here: show it directly
            self.chat.show(result.message)


def summary(answers: dict[str, Any], pages: list[questions.Page]) -> Message:
    """The answers asked on `pages` as one message, enum codes shown in plain words."""
    fields: list[tuple[str, str]] = []
    for page in pages:
        for q in page.questions:
            value = answers.get(q.key)
            if interview.is_blank(value):
                continue
            if q.kind == questions.MULTI and isinstance(value, list):
                text = "; ".join(questions.label_of(q.key, v) for v in value)
            elif q.kind == questions.SINGLE:
                text = questions.label_of(q.key, str(value))
            elif q.kind == questions.YES_NO:
                text = "yes" if value is True else "no"
            elif q.kind == questions.USER:
                text = f"<@{value}>"  # shown by name once govbot knows it
            else:
                text = str(value)
            fields.append((q.label, text))  # whole: this is what will be submitted
    full = interview.to_proposal(answers)  # the baseline and target read from the metric, to confirm
    shown = {label for label, _ in fields}
    unit = f" {full['value_unit']}" if full.get("value_unit") else ""
    for key, label in (("value_baseline", "Baseline today"), ("value_target", "Target")):
        if full.get(key) is not None and label not in shown:
            fields.append((label, f"{full[key]}{unit}"))
    return Message(
        kind="interview_summary",
        text=f"Your proposal: {answers.get('title') or '(no title)'}",
        sections=(Section(None, fields=tuple(fields)),),
    )
