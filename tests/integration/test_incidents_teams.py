"""The "Report an AI incident" message action on Teams: POST /api/messages on a real
server with the invokes Teams sends (`composeExtension/fetchTask`, then
`composeExtension/submitAction`), the real botbuilder adapter answering through the
fake Bot Connector. Every card validates against the Adaptive Card 1.5 schema."""

from __future__ import annotations

import httpx
import pytest

from handlers.base import SENDERS_KEY
from handlers.teams import cards
from handlers.teams.incidents import COMMAND, FETCH, SUBMIT, plain_html
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    card_inputs,
    card_text,
    forbid_internet,
    message_action_invoke,
    validate_card,
)
from tests.support.core_state import stage_of
from tests.support.stages import seed

USER = "29:agent"
LINK = "https://teams.microsoft.com/l/message/19:abc@thread.tacv2/1700000000000"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def connector():
    with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
def server(core, settings):
    app = build_web_app(core, settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"}))
    assert "teams" in app[SENDERS_KEY]
    with ServerThread(app) as srv:
        yield srv


def _task_card(server, body) -> dict:
    response = httpx.post(f"{server.url}/api/messages", json=body, timeout=30)
    assert response.status_code == 200, response.text
    task = response.json()["task"]
    assert (task["type"], task["value"]["title"], task["value"]["card"]["contentType"]) == (
        "continue",
        "Report an AI incident",
        cards.CARD_CONTENT_TYPE,
    )
    return validate_card(task["value"]["card"]["content"])


def test_plain_html_drops_markup():
    assert plain_html("<p>Refund <b>twice</b> &amp; <at>Ana</at></p><p>again</p>") == "Refund twice & Ana\nagain"


def test_message_action_reports_a_high_incident_that_pauses(server, connector, core):
    p = seed(core, "production")
    message = {
        "id": "1700000000000",
        "body": {"contentType": "html", "content": f"<p>The #{p.id} bot <b>closed</b> a ticket &amp; refunded</p>"},
        "linkToMessage": LINK,
    }
    form = _task_card(server, message_action_invoke(connector.url, USER, FETCH, COMMAND, {"messagePayload": message}))
    inputs = card_inputs(form)
    assert inputs["proposal"]["value"] == str(p.id)
    assert inputs["text"]["value"] == (
        f'What happened: \n\nMessage: "The #{p.id} bot closed a ticket & refunded"\nLink: {LINK}'
    )
    assert [c["value"] for c in inputs["severity"]["choices"]] == ["low", "medium", "high"]
    [submit] = form["actions"]
    data = {**submit["data"], "proposal": str(p.id), "severity": "urgent", "text": "It refunded twice"}
    again = _task_card(server, message_action_invoke(connector.url, USER, SUBMIT, COMMAND, {"data": data}))
    assert (
        card_inputs(again)["severity"]["errorMessage"]
        == "severity: 'urgent' is not a severity; allowed: low, medium, high"
    )
    assert core.status_data(p.id)["incidents"] == []
    data["severity"] = "high"
    done = _task_card(server, message_action_invoke(connector.url, USER, SUBMIT, COMMAND, {"data": data}))
    assert "govbot paused it" in card_text(done)
    assert stage_of(core, p.id) == "paused"
    [incident] = core.status_data(p.id)["incidents"]
    assert (incident["severity"], incident["text"], incident["reported_by"]) == ("high", "It refunded twice", USER)
    [event] = [e for e in core.status_data(p.id)["audit"] if e["action"] == "incident.reported"]
    assert event["detail"]["source"] == LINK
