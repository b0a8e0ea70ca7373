"""Property tests through the real HTTP endpoints: signed Slack slash commands, block
actions and view submissions on `POST /slack/events`, and Teams activities, card
submits and Action.Execute invokes on `POST /api/messages`, all with malformed,
oversized and odd-unicode values.

The server never answers 500, never logs a traceback, and leaves no half-written rows:
the proposal, decision, approval and stop-condition tables are exactly as before (the
fuzzing user holds no role, so nothing it sends may change them). The core's own
parser, `handle_command`, is fuzzed directly as well.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.messages import message
from bot.service.results import Reply
from handlers.base import SLACK_KEY
from handlers.web import build_web_app
from store import models as m
from tests.support.bot_connector import FakeBotConnector, ServerThread, activity, execute_invoke, forbid_internet
from tests.support.core_state import requests_by_role
from tests.support.proposals import make_proposal
from tests.support.slack_platform import SIGNING_SECRET, sign, slack_settings
from tests.support.strategies import BIG, JSONISH, ODD

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
TABLES = (m.Proposal, m.Decision, m.ApprovalRequest, m.StopCondition, m.ProposalRevision, m.Classification)
FUZZER = "U_FUZZ"
RESPONSE = "__RESPONSE__"  # replaced by the fake Slack API's response_url base when sent

ids = st.integers(-5, 5).map(str) | ODD | BIG | st.just("1")
TEXT = (
    ODD
    | BIG
    | st.sampled_from(
        [
            "propose",
            "status",
            "status 1",
            "checkin 1 5%",
            "pause 1",
            "override 1 x y",
            "roles set governance U_FUZZ",
            "delegate U1 2099-01-01",
            "digest here",
            "autonomy 1",
            "promote 1",
            "retire 1",
            "help",
        ]
    ).flatmap(lambda cmd: ODD.map(lambda tail: f"{cmd} {tail}"))
)


def _counts(core: Any) -> dict[str, int]:
    with core.uow() as uow:
        return {t.__tablename__: uow.session.scalar(select(func.count()).select_from(t)) for t in TABLES}


@pytest.fixture
def seeded(core):
    """One proposal waiting on U_OWNER (request id 1), so ids in the fuzz hit real rows."""
    result = core.submit("U_REQ", "slack", make_proposal())
    assert requests_by_role(core, result.proposal_id)["owner"].status == "pending"
    return core


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield caplog

    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad[:5]]


@FUZZ
@given(TEXT)
def test_handle_command_answers_every_text_and_changes_nothing(seeded, no_tracebacks, text):
    before = _counts(seeded)
    reply = seeded.handle_command(FUZZER, "slack", text, "C1")
    assert isinstance(reply, Reply)
    assert (reply.message is None) is (reply.interview is not None)  # a message or an interview, exactly one
    assert _counts(seeded) == before


# ---------------------------------------------------------------------------- Slack


class SlackServer:
    def __init__(self, core: Any, settings: Any):
        from tests.support.servers import FakeSlackThread

        self.slack = FakeSlackThread().__enter__()
        self.app = build_web_app(core, slack_settings(settings, self.slack.api))
        self.server = ServerThread(self.app).start()
        self.url = f"{self.server.url}/slack/events"

    def post(self, body: str, content_type: str = "application/x-www-form-urlencoded") -> int:
        body = body.replace(RESPONSE, quote(self.slack.api.response_url("").rstrip("/"), safe=""))
        ts = int(time.time())
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts, SIGNING_SECRET),
        }
        return httpx.post(
            self.url, content=body.encode("utf-8", "surrogatepass"), headers=headers, timeout=30
        ).status_code

    def idle(self) -> None:
        assert self.server.loop is not None
        asyncio.run_coroutine_threadsafe(self.app[SLACK_KEY].idle(20), self.server.loop).result(30)

    def close(self) -> None:
        self.server.stop()
        self.slack.__exit__()


@pytest.fixture
def slack_server(seeded, settings):
    server = SlackServer(seeded, settings)
    yield server
    server.close()


ACTIONS = (
    st.sampled_from(
        [
            message.APPROVE,
            message.REJECT,
            message.REQUEST_CHANGES,
            message.EDIT_PROPOSAL,
            message.CHECKIN_OPEN,
            message.DIGEST_POST,
            message.DIGEST_REGENERATE,
            "approval.override",
        ]
    )
    | ODD
)
CALLBACKS = st.sampled_from(["interview", "decision", "checkin"]) | ODD
_n = iter(range(10**9))


def _block_actions(action_id: str, value: str, container: Any, extra: Any) -> dict[str, Any]:
    n = next(_n)
    return {
        "type": "block_actions",
        "user": {"id": FUZZER, "username": "fuzz", "team_id": "T1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": f"trig.fuzz.{n}",
        "container": container,
        "channel": {"id": "D1"},
        "response_url": f"{RESPONSE}/{n}",
        "message": {"ts": "1.1", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": "1.1",
                **({"extra": extra} if extra is not None else {}),
            }
        ],
    }


def _view_submission(callback: str, metadata: str, values: Any) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": FUZZER, "username": "fuzz", "team_id": "T1"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": f"trig.fuzz.{next(_n)}",
        "view": {
            "id": "VFUZZ",
            "type": "modal",
            "callback_id": callback,
            "private_metadata": metadata,
            "blocks": [],
            "state": {"values": values},
        },
    }


state_values = st.dictionaries(
    st.sampled_from(["title", "data", "actions", "owner", "review", "comment", "value", "reason"]) | ODD,
    st.dictionaries(
        ODD,
        st.fixed_dictionaries(
            {"type": st.sampled_from(["plain_text_input", "static_select", "checkboxes", "users_select"]) | ODD},
            optional={
                "value": JSONISH,
                "selected_option": JSONISH,
                "selected_options": JSONISH,
                "selected_user": JSONISH,
            },
        ),
        max_size=2,
    ),
    max_size=5,
)
metadata = (
    ODD
    | BIG
    | JSONISH.map(json.dumps)
    | st.fixed_dictionaries(
        {"p": ODD | st.sampled_from(["basics", "data", "review", "no_such_page"]), "a": JSONISH}
    ).map(json.dumps)
)
slack_bodies = st.one_of(
    st.builds(_block_actions, ACTIONS, ids, JSONISH, st.none() | JSONISH).map(
        lambda p: urlencode({"payload": json.dumps(p)})
    ),
    st.builds(_view_submission, CALLBACKS, metadata, state_values).map(lambda p: urlencode({"payload": json.dumps(p)})),
    TEXT.map(
        lambda t: urlencode(
            {
                "command": "/aiwf",
                "text": t,
                "user_id": FUZZER,
                "channel_id": "C1",
                "team_id": "T1",
                "trigger_id": f"trig.fuzz.{next(_n)}",
                "response_url": f"{RESPONSE}/c",
            }
        )
    ),
    JSONISH.map(lambda p: urlencode({"payload": json.dumps(p)})),  # payloads of any shape
    ODD,  # not even form-encoded
)


@pytest.mark.slow
@FUZZ
@given(slack_bodies)
def test_slack_endpoint_never_500s_or_half_writes(slack_server, seeded, no_tracebacks, body):
    before = _counts(seeded)
    status = slack_server.post(body)
    assert status in (200, 400, 404), status  # 404: Bolt's answer when no listener matches
    slack_server.idle()
    assert _counts(seeded) == before


# ---------------------------------------------------------------------------- Teams


@pytest.fixture
def teams_server(seeded, settings, monkeypatch):
    attempts = forbid_internet(monkeypatch)
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    with FakeBotConnector() as connector, ServerThread(build_web_app(seeded, local)) as server:
        yield server, connector
    assert attempts == []


VERBS = (
    st.sampled_from(
        [
            "approval.approve",
            "approval.reject",
            "approval.request_changes",
            "approval.refresh",
            "interview.next",
            "interview.cancel",
            "proposal.edit",
            "checkin.open",
            "checkin.submit",
            "digest.post",
            "digest.regenerate",
        ]
    )
    | ODD
)
card_data = st.fixed_dictionaries(
    {},
    optional={
        "request_id": ids | JSONISH,
        "proposal_id": ids | JSONISH,
        "page": ODD | JSONISH,
        "comment": ODD | BIG,
        "value": ODD | BIG,
        "title": ODD | BIG,
        "data": JSONISH,
        "state": JSONISH,
        "owner": JSONISH,
        "for": JSONISH,
    },
)


def _teams_body(kind: int, url: str, verb: str, data: dict[str, Any], text: str, junk: Any) -> Any:
    if kind == 0:
        return execute_invoke(url, "29:fuzz", verb, data)
    if kind == 1:
        return activity(url, "29:fuzz", value={"verb": verb, **data})  # Action.Submit fallback
    if kind == 2:
        return activity(url, "29:fuzz", text=text)
    body = activity(url, "29:fuzz", text="help")
    if isinstance(junk, dict):
        body.update({str(k): v for k, v in junk.items()})
    else:
        body["value"] = junk
    return body


@pytest.mark.slow
@FUZZ
@given(st.integers(0, 3), VERBS, card_data, TEXT, JSONISH)
def test_teams_endpoint_never_500s_or_half_writes(teams_server, seeded, no_tracebacks, kind, verb, data, text, junk):
    server, connector = teams_server
    body = _teams_body(kind, connector.url, verb, data, text, junk)
    before = _counts(seeded)
    response = httpx.post(
        f"{server.url}/api/messages", content=json.dumps(body), timeout=30, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert _counts(seeded) == before
