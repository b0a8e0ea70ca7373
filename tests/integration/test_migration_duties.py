"""Migration 0012 (decisions per decider, quorum columns) on a database with data, both ways."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.app import build_core
from bot.settings import Settings
from store.db import alembic_config, make_engine, upgrade
from tests.support.core_state import requests_by_role
from tests.support.database import empty_database
from tests.support.proposals import make_proposal


def _migrate(url: str, revision: str, way: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            getattr(command, way)(config, revision)
    finally:
        engine.dispose()


@pytest.mark.db  # empty_database() follows GOVBOT_TEST_BACKEND like database_url
def test_0012_keeps_the_decisions_final_down_and_up_again(tmp_path, request, clock):
    url = empty_database(tmp_path, request)
    upgrade(url)
    core = build_core(Settings(database_url=url, governance="UGOV", _env_file=None), clock=clock)
    pid = core.submit("U_REQ", "console", make_proposal()).proposal_id
    core.decide("U_OWNER", requests_by_role(core, pid)["owner"].id, "approve")

    _migrate(url, "0016", "downgrade")
    _migrate(url, "head", "upgrade")

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT r.quorum, d.actor FROM decisions d JOIN approval_requests r ON r.id = d.request_id")
            ).one()
        assert tuple(row) == (1, "U_OWNER")
        with pytest.raises(DBAPIError), engine.begin() as conn:  # still final after the rebuild
            conn.execute(text("UPDATE decisions SET decision = 'reject'"))
    finally:
        engine.dispose()
