"""The database fails in the middle of an approval click: the user is told, nothing is
half-written, and the next click (or the pool's next checkout) works again.

On PostgreSQL the fault is real: the server connection running the transaction is
killed with pg_terminate_backend just before the decision row is written, and later
every pooled connection of this test's engine is killed between requests (the pool's
pre-ping must replace them). Only connections carrying this test's own
`application_name` are touched, never other sessions on the shared server. On SQLite,
which has no server to lose, the driver raises the error a failing disk gives
("disk I/O error") at the same point.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from bot.app import build_core
from bot.messages.message import APPROVE
from store.db import make_engine
from tests.support.core_state import audit_actions, requests_by_role, stage_of
from tests.support.database import backend
from tests.support.proposals import make_proposal
from tests.support.slack_platform import SlackHarness


def _tagged(database_url: str) -> tuple[str, str]:
    """The URL with an application_name of its own on PostgreSQL (to find our sessions)."""
    if backend() != "postgres":
        return database_url, ""
    name = f"govbot_fault_{uuid.uuid4().hex[:8]}"
    url = make_url(database_url).update_query_dict({"application_name": name})
    return url.render_as_string(hide_password=False), name


def _kill(admin, name: str, pid: int | None = None) -> int:
    where = "application_name = :n" + (" AND pid = :p" if pid is not None else "")
    with admin.begin() as conn:
        return len(
            conn.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {where}"), {"n": name, "p": pid}
            ).all()
        )


def _decision_rows(core, request_id: int) -> int:
    with core.uow() as uow:
        return sum(
            1
            for d in uow.decisions.for_proposal(uow.approvals.get(request_id).proposal_id)
            if d.request_id == request_id
        )


def test_database_failure_mid_click_is_reported_and_the_retry_records_once(settings, clock):
    url, name = _tagged(settings.database_url)
    settings = settings.model_copy(update={"database_url": url})
    core = build_core(settings, clock=clock)
    result = core.submit("U_REQ", "slack", make_proposal())
    rid = requests_by_role(core, result.proposal_id)["owner"].id
    engine = core.uow.engine
    admin = make_engine(settings.database_url.split("?")[0]) if name else None
    faults = {"left": 1}

    def fail_decision_insert(conn, cursor, statement, parameters, context, executemany):
        if faults["left"] and statement.lstrip().upper().startswith("INSERT INTO DECISIONS"):
            faults["left"] -= 1
            if name:  # kill the very session that is about to write the decision
                _kill(admin, name, conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())
            else:
                raise sqlite3.OperationalError("disk I/O error")

    event.listen(engine, "before_cursor_execute", fail_decision_insert)
    message = {"channel": "D_OWNER", "ts": "1700000000.000001"}

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            status, _ = await slack.click("U_OWNER", APPROVE, str(rid), message=message)
            assert status == 200  # acked before the work; the failure comes after
            await slack.idle()
            told = slack.api.calls_to("response_url")
            assert len(told) == 1 and "failed" in told[0].args["text"] and "try again" in told[0].args["text"]
            assert _decision_rows(core, rid) == 0  # nothing half-written: no decision, no audit, no move
            assert "decision.approve" not in audit_actions(core, result.proposal_id)
            assert stage_of(core, result.proposal_id) == "in_review"
            assert slack.api.calls_to("chat.update") == []

            if name:  # between requests every pooled connection dies too; pre-ping replaces them
                assert _kill(admin, name) >= 1
            status, _ = await slack.click("U_OWNER", APPROVE, str(rid), message=message)
            assert status == 200
            await slack.idle()
            told = slack.api.calls_to("response_url")
            assert len(told) == 2 and "failed" not in told[1].args["text"]
            assert len(slack.api.calls_to("chat.update")) == 1  # the card is replaced in place

    try:
        asyncio.run(scenario())
    finally:
        event.remove(engine, "before_cursor_execute", fail_decision_insert)
        if admin is not None:
            admin.dispose()
    assert faults["left"] == 0
    assert _decision_rows(core, rid) == 1
    assert audit_actions(core, result.proposal_id).count("decision.approve") == 1
    assert stage_of(core, result.proposal_id) != "in_review"
