"""A Teams activity govbot cannot answer (no serviceUrl, no conversation, nobody who
acts) is refused with 400 over real HTTP, like Slack's malformed payloads, and changes
nothing."""

from __future__ import annotations

import httpx
import pytest

from handlers.web import build_web_app
from tests.support.bot_connector import FakeBotConnector, ServerThread, activity

USER = "29:incomplete"


@pytest.fixture
def connector():
    with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
def server(core, settings):
    app = build_web_app(core, settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"}))
    with ServerThread(app) as srv:
        yield srv


def without(body: dict, key: str, inner: str | None = None) -> dict:
    if inner is None:
        body.pop(key)
    else:
        body[key].pop(inner)
    return body


@pytest.mark.parametrize(
    ("key", "inner", "answer"),
    [
        ("serviceUrl", None, "Activity has no serviceUrl"),
        ("conversation", None, "Activity has no conversation.id"),
        ("conversation", "id", "Activity has no conversation.id"),
        ("from", None, "Activity has no from.id"),
    ],
)
def test_an_activity_that_cannot_be_answered_is_refused_with_400(server, connector, core, key, inner, answer):
    body = without(activity(connector.url, USER, text="propose Summarise tickets"), key, inner)
    response = httpx.post(f"{server.url}/api/messages", json=body, timeout=30)
    assert (response.status_code, response.text) == (400, answer)
    assert connector.calls == []
    with core.uow() as uow:
        assert uow.proposals.count() == 0 and uow.drafts.get("teams", USER) is None
