"""Unit tests touch no database, no socket and no subprocess (DESIGN.md, Layout).

A unit test that asks for the `database_url` fixture (or anything built on it: the
`settings` and `core` fixtures) fails before it runs; a unit test that opens a SQLite
file, connects, binds or listens on a socket, or starts a subprocess fails when it
tries. Such a test belongs in `tests/integration/`.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from collections.abc import Callable
from typing import Any, NoReturn

import pytest

DATABASE_FIXTURES = ("database_url",)

# matplotlib lists the system fonts (`fc-list`, a subprocess) the first time it is
# imported on a machine and caches the list; do it here, before the guard, so a fresh
# clone's first `make test-fast` does not trip the guard inside the chart code.
import matplotlib.font_manager  # noqa: E402, F401


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    used = [name for name in DATABASE_FIXTURES if name in getattr(item, "fixturenames", ())]
    if used:
        pytest.fail(
            f"{item.nodeid} uses the {used[0]} fixture; tests/unit/ holds no database test "
            "(move it to tests/integration/)",
            pytrace=False,
        )


def _refuse(what: str) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError(f"a unit test may not {what}; move the test to tests/integration/")

    return refuse


@pytest.fixture(autouse=True)
def _no_database_socket_or_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    for method in ("connect", "connect_ex", "bind", "listen"):
        monkeypatch.setattr(socket.socket, method, _refuse(f"call socket.{method}"))
    monkeypatch.setattr(socket, "create_connection", _refuse("open a network connection"))
    monkeypatch.setattr(sqlite3, "connect", _refuse("open a SQLite database"))
    monkeypatch.setattr(sqlite3.dbapi2, "connect", _refuse("open a SQLite database"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a subprocess"))
