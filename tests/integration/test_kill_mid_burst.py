"""Acknowledged means done: a burst of approval clicks (signed Slack `block_actions`
and Teams `Action.Execute` invokes, alternately) against a real `govbot serve`, the
server stopped mid-burst by SIGKILL or SIGTERM, then started again. Every click that
was answered HTTP 200 is decided exactly once (decisions and `decision.approve` audit
events counted in SQL), none lost; on SIGTERM the server first finishes what it
acknowledged and exits 0.
"""

from __future__ import annotations

import signal

import pytest

from store.db import make_engine
from tests.support.bot_connector import FakeBotConnector
from tests.support.kill_burst import (
    alternating,
    approvals_audited,
    burst,
    decisions_per_request,
    owner_requests,
    slack_sender,
    teams_sender,
)
from tests.support.servers import FakeSlackThread, start_govbot, wait_until
from tests.support.slack_load import click_body

pytestmark = pytest.mark.slow

CLICKS = 24  # one approve click per request: even ones from Slack, odd ones from Teams
CLIENTS = 6
SIGNAL_AFTER = 8  # clicks answered 200 before the server is stopped
TEAMS = {"GOVBOT_TEAMS": "1", "GOVBOT_ENV": "local"}


def _stopped_mid_burst(core, database_url, tmp_path, sig: signal.Signals):
    """Click every request once, stop the server with `sig` mid-burst, start it again.
    Returns (the clicks answered 200, the stopped server's exit code, {request: decisions}
    before the restart, {request: decisions}, {request: approve audit events} after it)."""
    ids = owner_requests(core, CLICKS)
    engine = make_engine(database_url)
    with FakeSlackThread() as slack, FakeBotConnector() as connector:
        server = start_govbot(database_url, slack.api_url, tmp_path / "serve-1.log", **TEAMS)
        try:
            server.wait_ready()
            bodies = [click_body("U_OWNER", rid, n, slack.api) for n, rid in enumerate(ids)]
            send = alternating(slack_sender(server, bodies), teams_sender(server, connector.url, "U_OWNER", ids))
            statuses = burst(send, CLICKS, CLIENTS, server, sig, SIGNAL_AFTER)
            code = server.proc.wait(30)
        finally:
            server.stop()
        acked = [rid for rid, status in zip(ids, statuses, strict=True) if status == 200]
        before = decisions_per_request(engine, acked)
        restarted = start_govbot(database_url, slack.api_url, tmp_path / "serve-2.log", **TEAMS)
        try:
            restarted.wait_ready()
            wait_until(lambda: all(decisions_per_request(engine, acked).values()), 20)
            after = decisions_per_request(engine, acked), approvals_audited(engine, acked)
        finally:
            restarted.stop()
            engine.dispose()
    return acked, code, before, *after


def test_clicks_acknowledged_before_a_sigkill_are_decided_exactly_once_after_the_restart(core, database_url, tmp_path):
    acked, _code, _before, decided, audited = _stopped_mid_burst(core, database_url, tmp_path, signal.SIGKILL)
    assert len(acked) >= SIGNAL_AFTER
    assert (decided, audited) == (dict.fromkeys(acked, 1), dict.fromkeys(acked, 1))


def test_sigterm_finishes_the_acknowledged_clicks_and_exits_0_then_the_restart_decides_none_twice(
    core, database_url, tmp_path
):
    acked, code, before, decided, audited = _stopped_mid_burst(core, database_url, tmp_path, signal.SIGTERM)
    assert len(acked) >= SIGNAL_AFTER
    once = dict.fromkeys(acked, 1)
    assert (code, before, decided, audited) == (0, once, once, once)
