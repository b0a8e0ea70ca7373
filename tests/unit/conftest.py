"""Unit tests touch no database, no socket and no subprocess (DESIGN.md, Layout).

A unit test that asks for the `database_url` fixture (or anything built on it: the
`settings` and `core` fixtures) fails at collection time; a unit test that connects,
binds or listens on a socket, or starts a subprocess, fails when it tries. Such a test
belongs in `tests/integration/`.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

DATABASE_FIXTURES = ("database_url",)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    used = [name for name in DATABASE_FIXTURES if name in getattr(item, "fixturenames", ())]
    if used:
        pytest.fail(
            f"{item.nodeid} uses the {used[0]} fixture; tests/unit/ holds no database test "
            "(move it to tests/integration/)",
            pytrace=False,
        )


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a unit test may not {what}; move the test to tests/integration/")

    return refuse


@pytest.fixture(autouse=True)
def _no_sockets_or_subprocesses(monkeypatch: pytest.MonkeyPatch) -> None:
    for method in ("connect", "connect_ex", "bind", "listen"):
        monkeypatch.setattr(socket.socket, method, _refuse(f"call socket.{method}"))
    monkeypatch.setattr(socket, "create_connection", _refuse("open a network connection"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a subprocess"))
