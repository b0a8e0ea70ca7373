"""Shared fixtures.

Database tests take `database_url` (a fresh, migrated database per test) and are
marked `db` automatically. `make test` runs everything on SQLite, then (when
GOVBOT_TEST_DATABASE_URL is set) the `db` tests again on PostgreSQL with
GOVBOT_TEST_BACKEND=postgres. An unreachable PostgreSQL fails those tests; it never
skips them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock

# A Monday morning, so weekly periods are easy to reason about in tests.
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def database_url(tmp_path, request) -> str:  # pragma: no cover - filled in by the store work
    from tests.dbutil import fresh_database

    return fresh_database(tmp_path, request)


@pytest.fixture
def settings(database_url):
    from bot.settings import Settings

    return Settings(database_url=database_url, governance="UGOV", _env_file=None)


@pytest.fixture
def core(settings, clock):
    from bot.app import build_core

    return build_core(settings, clock=clock)
