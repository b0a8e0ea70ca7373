"""The guard of tests/unit/conftest.py: a unit test cannot reach a database, a socket or a
subprocess."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys

import pytest


def test_a_socket_cannot_connect_or_listen():
    with socket.socket() as sock:
        with pytest.raises(AssertionError, match="a unit test may not call socket.connect"):
            sock.connect(("127.0.0.1", 9))
        with pytest.raises(AssertionError, match="a unit test may not call socket.bind"):
            sock.bind(("127.0.0.1", 0))


def test_sqlite_cannot_be_opened():
    with pytest.raises(AssertionError, match="a unit test may not open a SQLite database"):
        sqlite3.connect(":memory:")


def test_no_subprocess_starts():
    with pytest.raises(AssertionError, match="a unit test may not start a subprocess"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
