"""A Teams click replaces the clicked approval card with the invoke's answer; the outbox
then leaves that card alone (real server and botbuilder, fake Bot Connector)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.messages.message import APPROVE
from handlers.base import SENDERS_KEY
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    card_text,
    execute_invoke,
    forbid_internet,
    validate_card,
)
from tests.support.proposals import make_proposal as proposal

OWNER = "29:owner"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


def test_the_clicked_card_is_not_updated_again_through_the_outbox(core, settings):
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    app = build_web_app(core, local)
    sender = app[SENDERS_KEY]["teams"]
    with FakeBotConnector() as connector, ServerThread(app) as server:

        def post(body: dict) -> httpx.Response:
            return httpx.post(f"{server.url}/api/messages", json=body, timeout=30)

        post(activity(connector.url, OWNER, text="help"))  # the owner's conversation reference
        connector.wait_for(1)  # stored and answered after the turn
        rid = core.submit("29:req", "teams", proposal(owner=OWNER)).approval_request_ids[0]
        asyncio.run(core.deliver_due({"teams": sender}))
        with core.uow() as uow:
            card = uow.message_refs.get(f"approval:{rid}")
        assert card is not None

        answer = post(execute_invoke(connector.url, OWNER, APPROVE, {"request_id": rid}, replyToId=card["activity_id"]))
        assert "Approved by" in card_text(validate_card(answer.json()["value"]))  # the clicked card, replaced
        asyncio.run(core.deliver_due({"teams": sender}))
        updates = [c for c in connector.activities("PUT") if c.activity_id == card["activity_id"]]
    assert updates == []
