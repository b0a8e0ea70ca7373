"""A scripted console session (`govbot chat`) on the real core: what a person types,
line by line, and the screen it leaves."""

from __future__ import annotations

import io
from collections import deque
from typing import Any

from handlers.console.chat import run_chat


class Script(io.StringIO):
    """Scripted stdin: one line per readline, then end of input."""

    def __init__(self, lines: list[str]):
        super().__init__()
        self.lines: deque[str] = deque(lines)

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return self.lines.popleft() + "\n" if self.lines else ""


def chat(core: Any, user: str, lines: list[str]) -> tuple[str, Script]:
    """Run a console session as `user` typing `lines`; returns (screen, stdin)."""
    screen = io.StringIO()
    stdin = Script(lines)
    assert run_chat(core, user, stdin, screen, color=False, width=100) == 0
    return screen.getvalue(), stdin
