"""`govbot chat --as USER`: the console channel, a REPL over the same core as Slack and Teams.

The user types the chat commands (`propose ...`, `mine`, `status 3`, `portfolio`,
`roles`, `help`, ...). `propose` runs the platform-neutral interview page by page in
the terminal, saving the draft after every answer so an unfinished interview resumes.
`approve|reject|changes <request id> [comment]` decide approval requests; `as USER`
switches identity and `inbox` shows what was delivered to the current user through the
outbox. Nothing here decides anything: every action is a core call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from typing import Any, TextIO

from bot.messages.message import Message, Section
from bot.service.results import InterviewStart
from handlers.base import EXPECTED, error_text
from handlers.console.interview import Cancelled
from handlers.console.render import (
    BOLD,
    CYAN,
    plain_mentions,
    render_error,
    render_message,
    render_note,
    style,
    terminal_width,
    use_color,
)
from handlers.console.sender import ConsoleSender, stored_inbox

logger = logging.getLogger(__name__)

CHANNEL = "console"
QUIT = frozenset({"quit", "exit", "q", "bye"})
DECISION_WORDS = {
    "approve": "approve",
    "reject": "reject",
    "changes": "request_changes",
    "request_changes": "request_changes",
    "request-changes": "request_changes",
}
# what follows the word, as `help` shows it (the core asks for the comment it requires)
DECISION_USAGE = {
    "approve": "<request id> [comment]",
    "reject": "<request id> <comment>",
    "request_changes": "<request id> <comment>",
}
CONSOLE_HELP = (
    ("as <user>", "switch identity (e.g. to approve as someone else)"),
    ("inbox", "the messages govbot sent you in the console"),
    ("quit", "leave the chat (an unfinished interview stays as a draft)"),
)


_READLINE_SAFE = re.compile(r"(\x1b\[[0-9;]*m)")  # readline must not count colour codes as width


class ConsoleChat:
    """One terminal session. `run()` reads commands until `quit` or end of input."""

    def __init__(
        self,
        core: Any,
        user: str,
        stdin: TextIO,
        stdout: TextIO,
        *,
        color: bool | None = None,
        width: int | None = None,
    ):
        self.core = core
        self.user = user
        self.stdin = stdin
        self.out = stdout
        self.color = use_color(stdout) if color is None else color
        self.width = width if width is not None else terminal_width(stdout)
        self.echo = not _isatty(stdin)  # scripted input: show what was "typed" in the transcript
        self.interactive = stdin is sys.stdin and stdout is sys.stdout and _isatty(stdin) and _isatty(stdout)
        if self.interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing for input())
        self.sender = ConsoleSender(stdout, color=self.color, width=self.width)
        self.sender.active = user

    # --- terminal i/o -------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def show(self, message: Message | None) -> None:
        if message is not None:
            self.say(render_message(message, color=self.color, width=self.width))

    def error(self, text: str) -> None:
        self.say(render_error(plain_mentions(text), color=self.color))

    def note(self, text: str) -> None:
        self.say(render_note(text, color=self.color))

    def read(self, prompt: str) -> str | None:
        """One line from stdin without its newline; None at end of input (or Ctrl-C)."""
        if self.interactive:  # a real terminal: input() gives line editing and history
            try:
                return input(_READLINE_SAFE.sub("\x01\\1\x02", prompt))
            except (EOFError, KeyboardInterrupt):
                self.out.write("\n")
                return None
        self.out.write(prompt)
        self.out.flush()
        try:
            line = self.stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            self.out.write("\n")
            return None
        line = line.rstrip("\r\n")
        if self.echo:
            self.out.write(line + "\n")
        return line

    # --- the loop ---------------------------------------------------------------------
    def run(self) -> int:
        """Read and run commands until `quit` or end of input. Returns the exit code (0)."""
        self.say(
            style("govbot console", BOLD, CYAN, color=self.color)
            + f" — you are {self._who(self.user)}. Type `help` for commands, `quit` to leave."
        )
        self.deliver()
        self._tell_unread()
        while True:
            line = self.read(style(f"{self.user}> ", BOLD, color=self.color))
            if line is None:
                break
            try:
                if not self.dispatch(line.strip()):
                    break
            except Cancelled:
                break
            except Exception as exc:  # keep the session alive; the error is logged with its traceback
                logger.exception("console command failed")
                self.error(error_text(exc, "that command"))
            self.deliver()
        self.say("Bye.")
        return 0

    def dispatch(self, line: str) -> bool:
        """Run one command line. False ends the session."""
        if not line:
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        rest = rest.strip()
        if word in QUIT:
            return False
        if word == "as":
            self.switch(rest)
        elif word == "inbox":
            self.show_inbox()
        elif word in ("help", "?"):
            self.show_help()
        elif word in DECISION_WORDS:
            self.decide(DECISION_WORDS[word], rest, word)
        else:
            self.command(line)
        return True

    def command(self, line: str) -> None:
        try:
            reply = self.core.handle_command(self.user, CHANNEL, line)
        except EXPECTED as exc:
            self.error(error_text(exc))
            return
        if reply.message is not None and reply.message.kind in ("help", "usage_error"):
            self.show(self._without_slash(reply.message))
        else:
            self.show(reply.message)
        if reply.interview is not None:
            self.run_interview(reply.interview)
        if reply.assess is not None:
            from handlers.console.assess import TerminalAssessment

            TerminalAssessment(self).run_form(reply.assess)

    def show_help(self) -> None:
        self.show(self._without_slash(self.core.help()))
        self.say("")
        self.show(Message(kind="help", text="In the console also:", sections=(Section(None, fields=CONSOLE_HELP),)))

    def _without_slash(self, message: Message) -> Message:
        """In a terminal the commands are typed without the slash command (`status 3`)."""
        slash = str(getattr(getattr(self.core, "settings", None), "slack_command", "/aiwf") or "/aiwf")

        def strip(text: str) -> str:
            text = text.replace(f" ({slash} <command>)", "")
            return re.sub(rf"(?<![\w/]){re.escape(slash)} ", "", text)

        return Message(
            message.kind,
            strip(message.text),
            tuple(
                Section(
                    sec.title and strip(sec.title), strip(sec.text), tuple((strip(k), strip(v)) for k, v in sec.fields)
                )
                for sec in message.sections
            ),
            message.buttons,
            message.image_png,
            message.meta,
        )

    def switch(self, rest: str) -> None:
        user = self.core.user_id(rest.split()[0]) if rest.split() else None
        if user is None:
            self.error(f"as: {rest!r} is not a user id; usage: as <user>, e.g. `as U123`")
            return
        self.user = user
        self.sender.active = user
        self.say(f"You are now {style(self._who(user), BOLD, color=self.color)}.")
        self.deliver()
        self._tell_unread()

    def _who(self, user: str) -> str:
        """ "Omar Haddad (U_OMAR)" when govbot knows the name, else the id."""
        try:
            named = plain_mentions(self.core.named(Message("who", f"<@{user}>")).text)
        except Exception:  # only a nicety
            logger.debug("naming %s failed", user, exc_info=True)
            return user
        return user if named == f"@{user}" else f"{named} ({user})"

    def _tell_unread(self) -> None:
        unread = self.sender.unread(self.user)
        if unread:
            self.note(f"{len(unread)} new message{'s' if len(unread) != 1 else ''} — type `inbox` to read.")
            return
        if any(d.read for d in self.sender.messages(self.user)):  # just shown on screen: no need to say so
            return
        try:
            held = len(stored_inbox(self.core, self.user))
        except Exception:  # only a hint; the inbox command reports real problems
            logger.debug("counting the stored inbox failed", exc_info=True)
            return
        if held:
            self.note(f"{held} message{'s' if held != 1 else ''} in your inbox — type `inbox` to read.")

    def show_inbox(self) -> None:
        """Every console message the outbox holds for the current user (this and earlier
        sessions), updated messages in their latest version; new ones are marked."""
        items = stored_inbox(self.core, self.user)
        if not items:
            self.say(f"No messages for {self.user}.")
            return
        new = {d.row_id for d in self.sender.unread(self.user)}
        self.say(style(f"Inbox of {self.user} ({len(items)})", BOLD, color=self.color))
        for n, item in enumerate(items, 1):
            flags = ", ".join(
                f
                for f, on in (
                    ("new", item.row.id in new),
                    ("updated", item.updated),
                    ("not delivered yet", item.row.status != "sent"),
                )
                if on
            )
            self.say("")
            self.note(f"── {n}{' (' + flags + ')' if flags else ''} ──")
            self.show(item.message)
        self.sender.mark_read(self.user)

    # --- decisions --------------------------------------------------------------------
    def decide(self, decision: str, rest: str, word: str) -> None:
        """`approve|reject|changes <request id | #proposal id> [comment] [--override <reason>]`,
        parsed like every channel; a missing comment is asked for here rather than refused."""
        try:
            args = self.core.parse_decision(word, rest, require_comment=False)
            override = args.get("override_reason")
            request_id = args.get("request_id")
            if request_id is None:
                request_id = self.core.request_on(self.user, args["proposal_id"], decision, override)
            comment = args.get("comment") or ""
            if not comment:  # ask for a required comment here rather than fail
                form = self.core.decision_form(self.user, int(request_id), decision)
                if form.refusal is None and form.comment_required:
                    comment = (self.read("Comment (say why): ") or "").strip()
                    problem = form.missing(comment, override).get("comment")
                    if problem is not None:
                        self.error(f"{problem}. Usage: {word} <request id> <comment>")
                        return
            outcome = self.core.decide(self.user, int(request_id), decision, comment or None, override_reason=override)
        except EXPECTED as exc:
            self.error(error_text(exc))
            return
        if outcome.status == "refused":
            self.error(outcome.notice)
            return
        self.say(style(plain_mentions(outcome.notice), BOLD, color=self.color))
        before = self.sender.printed
        self.deliver()
        if self.sender.printed == before:  # the updated card went elsewhere (or nowhere): show it here
            self.show(outcome.card)

    # --- the interview ----------------------------------------------------------------
    def run_interview(self, start: InterviewStart) -> None:
        """Ask the interview in the terminal, then submit (see handlers.console.interview);
        a paragraph is read first and opens the summary (handlers.console.intake)."""
        from handlers.console.intake import SummaryInterview, prepare

        ready = prepare(self, start)
        if ready is not None:
            SummaryInterview(self).run(ready)

    # --- outbox -----------------------------------------------------------------------
    def deliver(self) -> int:
        """Deliver due console messages from the outbox (printing those for the active user)."""

        async def drain() -> int:
            total = 0
            while True:
                sent = await self.core.deliver_due({CHANNEL: self.sender})
                total += sent
                if not sent:
                    return total

        try:
            return asyncio.run(drain())
        except Exception:
            logger.exception("console outbox delivery failed")
            self.error("Could not deliver messages just now; they stay in the outbox.")
            return 0


def _isatty(stream: Any) -> bool:
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except (ValueError, OSError):
        return False


def run_chat(
    core: Any, user: str, stdin: TextIO, stdout: TextIO, *, color: bool | None = None, width: int | None = None
) -> int:
    """`govbot chat --as USER`: run the console REPL on `stdin`/`stdout`. Returns 0."""
    return ConsoleChat(core, user, stdin, stdout, color=color, width=width).run()
