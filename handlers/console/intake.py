"""Intake in one paragraph in the terminal: "describe it in your own words", a quick
"reading your description…", then one summary to confirm — every pre-filled answer with
the words it came from (Enter accepts them all, numbers correct them in place) — and
only the questions still blank, weak or contradictory."""

from __future__ import annotations

import re
from typing import Any

from bot.domain import interview, questions
from bot.domain.errors import UsageError
from bot.service.results import InterviewStart
from handlers.console.interview import CANCEL, Cancelled, Terminal, TerminalInterview
from handlers.console.render import BOLD, CYAN, render_note, style

CHANNEL = "console"
READING = "Reading your description…"
SHOWN_MAX = 300


def prepare(chat: Terminal, start: InterviewStart) -> InterviewStart | None:
    """Ask for the paragraph of a new interview and read it; None when the requester
    cancelled. Returns the interview to run (the summary after a reading)."""
    if start.describe:
        chat.say(style(questions.PARAGRAPH_QUESTION.prompt, BOLD, color=chat.color) + ".")
        chat.note(questions.PARAGRAPH_QUESTION.help)
        while True:
            line = chat.read(render_note("> ", color=chat.color))
            if line is None or line.strip().lower() in CANCEL:
                return None
            if not line.strip():
                return start
            try:
                paragraph = chat.core.check_paragraph(line)
            except UsageError as exc:
                chat.error(exc.message)
                continue
            start = InterviewStart(seed={}, paragraph=paragraph)
            break
    if start.paragraph:
        chat.say(READING)
        try:
            start = chat.core.read_paragraph(chat.user, CHANNEL, start.paragraph)
        except UsageError as exc:
            chat.error(exc.message)
            return None
        text = chat.core.interview_flow().start(dict(start.seed)).note
        if text:
            chat.note(text)
    return start


def shown(q: questions.Question, value: Any) -> str:
    """An answer in plain words (enum codes as their labels)."""
    if interview.is_blank(value):
        return "(blank)"
    if q.kind == questions.MULTI and isinstance(value, list):
        text = "; ".join(questions.label_of(q.key, v) for v in value)
    elif q.kind == questions.SINGLE:
        text = questions.label_of(q.key, str(value))
    elif q.kind == questions.YES_NO:
        text = "yes" if value is True else "no" if value is False else "(blank)"
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


class SummaryInterview(TerminalInterview):
    """The terminal interview with the summary shown as one list to confirm."""

    def summary(self, step: interview.Step, answers: dict[str, Any], proposal_id: int | None) -> None:
        confirm(self, step, answers, proposal_id)


def confirm(run: TerminalInterview, step: interview.Step, answers: dict[str, Any], proposal_id: int | None) -> None:
    """The summary: show the pre-filled answers, correct any by number, then ask what is
    still blank, weak or contradictory. Raises Cancelled (draft kept) on `cancel`."""
    chat = run.chat
    prefilled, asked, editing = step.prefilled, step.asked, step.editing
    if prefilled:
        chat.say("")
        title = "Your current answers" if editing else "What I understood from your description"
        chat.say(style(f"── {title} ──", BOLD, CYAN, color=chat.color))
        while True:
            for n, q in enumerate(prefilled, 1):
                chat.say(f"  {n:>2}) {style(q.label, BOLD, color=chat.color)}: {shown(q, answers.get(q.key))}")
                if q.help.startswith("From your words"):
                    chat.note(f"      {q.help}")
            line = chat.read(render_note("[Enter accepts these; numbers correct them, e.g. 2,5] > ", color=chat.color))
            if line is None or line.strip().lower() in CANCEL:
                run._save(answers, f"{questions.SUMMARY}:", proposal_id)
                raise Cancelled
            if not line.strip():
                break
            picked = _numbers(line, len(prefilled))
            if picked is None:
                chat.error(f"give numbers from 1 to {len(prefilled)}, e.g. 2,5, or press Enter")
                continue
            for n in picked:
                run.ask(prefilled[n - 1], answers, questions.SUMMARY, proposal_id)
            chat.say("")
            chat.say("Anything else to correct?")
    if asked:
        chat.say("")
        chat.say(style(f"── Still to answer ({len(asked)}) ──", BOLD, CYAN, color=chat.color))
        for q in asked:
            run.ask(q, answers, questions.SUMMARY, proposal_id)


def _numbers(line: str, most: int) -> list[int] | None:
    parts = [p for p in re.split(r"[,\s]+", line.strip()) if p]
    if not parts or not all(p.isdigit() and 1 <= int(p) <= most for p in parts):
        return None
    return list(dict.fromkeys(int(p) for p in parts))
