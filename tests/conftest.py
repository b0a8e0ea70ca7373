"""Shared fixtures.

Database tests take `database_url` (a fresh, migrated database per test) and are
marked `db` automatically. `make test` runs everything on SQLite, then (when
GOVBOT_TEST_DATABASE_URL is set) the `db` tests again on PostgreSQL with
GOVBOT_TEST_BACKEND=postgres. An unreachable PostgreSQL fails those tests; it never
skips them. Tests marked `postgres` (roles and grants) exist on PostgreSQL only: they are
deselected, not skipped, on any other backend, and run in the PostgreSQL pass.
"""

from __future__ import annotations

import pytest

from bot.clock import FixedClock
from tests.support.clock import T0
from tests.support.database import backend, fresh_database


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()) or item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.db)
    if backend() != "postgres":
        elsewhere = [item for item in items if item.get_closest_marker("postgres")]
        if elsewhere:
            config.hook.pytest_deselected(items=elsewhere)
            items[:] = [item for item in items if not item.get_closest_marker("postgres")]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def database_url(tmp_path, request) -> str:
    return fresh_database(tmp_path, request)


@pytest.fixture
def settings(database_url):
    from bot.settings import Settings

    return Settings(database_url=database_url, governance="UGOV", _env_file=None)


@pytest.fixture
def core(settings, clock):
    from bot.app import build_core

    return build_core(settings, clock=clock)
