"""Load: approval clicks from many concurrent clients spread over two `govbot serve`
instances sharing one database. No decision is lost, none is duplicated, every click
is answered (HTTP 200, then a notice to the person who clicked).

Each approval request is clicked twice at nearly the same moment, once on each
instance, so the two processes really race for the same decision. On PostgreSQL
(GOVBOT_TEST_BACKEND=postgres) it is 500 clicks from 50 clients; on SQLite, where
writers queue on one file, a smaller run of the same test.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from store import models as m
from store.db import make_engine
from tests.support.core_state import requests_by_role
from tests.support.database import backend
from tests.support.proposals import make_proposal
from tests.support.servers import FakeSlackThread, start_govbot, wait_until
from tests.support.slack_load import click_body, fire

pytestmark = pytest.mark.slow


def _sizes() -> tuple[int, int]:
    """(approval requests, concurrent clients): two clicks per request."""
    return (250, 50) if backend() == "postgres" else (60, 20)


def test_clicks_over_two_instances_decide_each_request_exactly_once(core, database_url, tmp_path):
    requests, clients = _sizes()
    ids = []
    for i in range(requests):
        # proposed in the console, so the servers' outbox loops (Slack only) leave those
        # notices pending and the run measures the decisions, not the delivery backlog
        result = core.submit("U_REQ", "console", make_proposal(title=f"Summarise weekly support themes {i:04d}"))
        ids.append(requests_by_role(core, result.proposal_id)["owner"].id)
    engine = make_engine(database_url)

    def scalar(stmt):
        with engine.connect() as conn:
            return conn.scalar(stmt)

    with FakeSlackThread() as slack:
        servers = [start_govbot(database_url, slack.api_url, tmp_path / f"serve-{n}.log") for n in (1, 2)]
        try:
            for server in servers:
                server.wait_ready()
            bodies = []
            for rid in ids:  # the two clicks on one request are neighbours: one to each instance
                bodies.append(click_body("U_OWNER", rid, len(bodies), slack.api))
                bodies.append(click_body("U_OWNER", rid, len(bodies), slack.api))
            answers = asyncio.run(fire([s.url for s in servers], bodies, clients))

            assert Counter(status for status, _ in answers) == {200: 2 * requests}
            # every click is answered to the person who clicked (response_url), once per click
            wait_until(lambda: slack.count("response_url") >= 2 * requests, 30)
            assert slack.count("response_url") == 2 * requests
            decided = select(func.count()).select_from(m.Decision).where(m.Decision.request_id.in_(ids))
            assert wait_until(lambda: scalar(decided) == requests, 10)
            per_request = (
                select(m.Decision.request_id, func.count())
                .where(m.Decision.request_id.in_(ids))
                .group_by(m.Decision.request_id)
            )
            with engine.connect() as conn:
                counts = dict(conn.execute(per_request).all())
                approvals = conn.scalar(
                    select(func.count())
                    .select_from(m.AuditEventModel)
                    .where(m.AuditEventModel.action == "decision.approve")
                )
                statuses = Counter(conn.scalars(select(m.ApprovalRequest.status).where(m.ApprovalRequest.id.in_(ids))))
            assert counts == dict.fromkeys(ids, 1)  # none lost, none twice
            assert approvals == requests
            assert statuses == {"approved": requests}
            notices = [c.args.get("text", "") for c in slack.api.calls_to("response_url")]
            assert sum("Already" in t for t in notices) == requests, Counter(t[:30] for t in notices)
            # each recorded decision replaced its approval card in place; duplicates did too
            wait_until(lambda: slack.count("chat.update") >= 2 * requests, 10)
            assert slack.count("chat.update") == 2 * requests
        finally:
            logs = [(s.stop(), s.output()) for s in servers]
            engine.dispose()
    for _code, output in logs:
        assert "Traceback" not in output, output[-3000:]
