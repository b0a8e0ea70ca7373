"""Migration 0004: "routed to governance" moves from the end of a note into a column.

Requests written before 0004 said they fell back to governance only in their note's
English; the upgrade fills `governance_fallback` from those notes, on SQLite and on
PostgreSQL (`-m db`), and the store then reads it as the rules expect.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from store.db import make_engine, upgrade
from tests.support.database import empty_database

AT = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

NOTES = {  # request id -> (role, note) as 0003 stored them
    1: ("finance", "no finance assigned; routed to governance"),
    2: ("owner", "no owner named; routed to governance"),
    3: ("department_lead", "no department given, so no department_lead could be found; routed to governance"),
    4: ("security", None),
    5: ("legal", "routed to governance was considered, then legal was assigned"),
    6: ("governance", None),
}


def _seed_at_0003(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO proposals (id, title, requester, channel, stage, risk_level, revision, answers,"
                    " created_at, updated_at, stage_changed_at) VALUES (1, 'Refund agent', 'U_REQ', 'slack',"
                    " 'in_review', 'high', 1, '{}', :at, :at, :at)"
                ),
                {"at": AT},
            )
            for rid, (role, note) in NOTES.items():
                conn.execute(
                    text(
                        "INSERT INTO approval_requests (id, proposal_id, role, approver, kind, round, status, note,"
                        " created_at, sequence) VALUES (:id, 1, :role, 'UGOV', 'proposal', 1, 'pending', :note, :at, 0)"
                    ),
                    {"id": rid, "role": role, "note": note, "at": AT},
                )
    finally:
        engine.dispose()


@pytest.mark.db  # empty_database() follows GOVBOT_TEST_BACKEND like database_url
def test_upgrade_fills_governance_fallback_from_the_notes(tmp_path, request):
    url = empty_database(tmp_path, request)
    assert upgrade(url, "0003") == "0003"
    _seed_at_0003(url)

    assert upgrade(url, "0004") == "0004"
    upgrade(url)  # the store reads the schema of the head revision

    engine = make_engine(url)
    try:  # read at 0004 with SQL: the repositories know the schema at head
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, governance_fallback FROM approval_requests WHERE proposal_id = 1")
            ).all()
    finally:
        engine.dispose()
    assert {row[0]: bool(row[1]) for row in rows} == {1: True, 2: True, 3: True, 4: False, 5: False, 6: False}
