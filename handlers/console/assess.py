"""`assess <id>` in a terminal: the regulatory questions that decide the tier, one at a
time with the interview's prompts (numbered choices, re-asked until valid). After each
answer the core chooses again, so "None of these" as the use area drops the questions
that only matter with one. Nothing is stored until the last answer; `cancel` stops.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.domain import questions
from bot.domain.errors import ProposalInvalid
from bot.service.results import AssessForm
from handlers.base import EXPECTED, error_text
from handlers.console.interview import Cancelled, TerminalInterview
from handlers.console.render import BOLD, style

TRIES = 3  # rounds of fixing what the core refused before giving up


class TerminalAssessment(TerminalInterview):
    """One run of `assess <id>` for the session's current user."""

    def run_form(self, form: AssessForm) -> None:
        chat, core = self.chat, self.chat.core
        chat.show(core.assess_intro(form))
        chat.note(
            "Answer each question; for a list, Enter means none of these. `cancel` stops: nothing is stored "
            "until the last answer."
        )
        given: dict[str, Any] = {}
        skipped: set[str] = set()
        try:
            current = form
            while True:
                todo = [q for q in current.questions if q.key not in given and q.key not in skipped]
                if not todo:
                    break
                self._one(todo[0], given, skipped)
                current = core.assess_form(chat.user, form.proposal_id, given)
            for _ in range(TRIES):
                try:
                    message = core.assess(chat.user, form.proposal_id, given)
                except ProposalInvalid as exc:
                    chat.error("These answers are needed to settle the tier:")
                    for e in exc.errors:
                        chat.error(f"  {e}")
                    asked = {q.key: q for q in form.questions}
                    for e in exc.errors:
                        if e.key in asked:
                            given.pop(e.key, None)
                            self._one(replace(asked[e.key], required=True), given, skipped)
                    continue
                chat.say(style(f"Stored for #{form.proposal_id}.", BOLD, color=chat.color))
                chat.show(message)
                return
            chat.error(f"Nothing was stored for #{form.proposal_id}; type `assess {form.proposal_id}` to try again.")
        except Cancelled:
            chat.say("")
            chat.say(f"Stopped: nothing was stored for #{form.proposal_id}.")
        except EXPECTED as exc:
            chat.error(error_text(exc))

    def _one(self, q: questions.Question, given: dict[str, Any], skipped: set[str]) -> None:
        self.ask(q, given, "assess", None)
        if given.get(q.key) is None:
            if q.kind == questions.MULTI:
                given[q.key] = []  # nothing ticked: none of these
            else:
                given.pop(q.key, None)
                skipped.add(q.key)

    def _save(self, answers: dict[str, Any], step: str, proposal_id: int | None) -> None:
        """An assessment keeps no draft: it is stored whole or not at all."""
