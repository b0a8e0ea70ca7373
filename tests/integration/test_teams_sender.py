"""The Teams outbox Sender: proactive cards through stored conversation references,
threads, in-place updates, size limits and back-off on connector errors."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.messages.message import Message, Section
from bot.ports import DeliveryFailed
from bot.service.notify import enqueue
from handlers.teams import cards
from handlers.teams.adapter import build_adapter
from handlers.teams.sender import TeamsSender, retry_after_seconds
from tests.support.bot_connector import FakeBotConnector, card_text, forbid_internet, validate_card
from tests.support.proposals import high_billing

PROPOSAL = high_billing(title="Refund assistant", owner="29:owner")

USER = "29:sender-user"
CONV = f"a:personal-{USER}"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Nothing here may leave 127.0.0.1 (no token fetch from login.microsoftonline.com)."""
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def connector():
    with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
def sender(core, settings):
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    return TeamsSender(build_adapter(local), core, None)


def remember(core, connector, user=USER):
    reference = {
        "user": {"id": user, "name": "A user"},
        "bot": {"id": "28:bot", "name": "govbot"},
        "conversation": {"id": f"a:personal-{user}", "conversationType": "personal"},
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "locale": "en-US",
    }
    core.remember_conversation("teams", user, f"a:personal-{user}", reference)


def queue(core, message: Message, recipient=USER, **keys):
    with core.uow() as uow:
        row = enqueue(uow, "teams", recipient, message, core.clock.now(), **keys)
        uow.commit()
    return row


def deliver(core, sender) -> int:
    return asyncio.run(core.deliver_due({"teams": sender}))


def outbox_row(core, row_id):
    with core.uow() as uow:
        return next(r for r in uow.outbox.for_recipient(USER) if r.id == row_id)


NOTE = Message(kind="notice", text="Hello <@29:sender-user>", sections=(Section("Heading", "Body text"),))


def test_posts_a_new_card_and_remembers_where(core, sender, connector):
    remember(core, connector)
    row = queue(core, NOTE, ref_key="note:1")
    assert deliver(core, sender) == 1
    (call,) = connector.activities()
    assert (call.method, call.path) == ("POST", f"/v3/conversations/{CONV}/activities")
    assert "replyToId" not in call.body
    card = validate_card(call.body["attachments"][0]["content"])
    assert "Hello 29:sender-user" in card_text(card) and "Body text" in card_text(card)
    assert "Authorization" not in call.headers
    with core.uow() as uow:
        assert uow.message_refs.get("note:1") == {"conversation_id": CONV, "activity_id": "act-1"}
    assert outbox_row(core, row.id).status == "sent"


def test_threads_a_reply_and_updates_a_card_in_place(core, sender, connector):
    remember(core, connector)
    queue(core, NOTE, ref_key="root")
    deliver(core, sender)
    queue(core, Message(kind="notice", text="In the thread"), thread_key="root")
    queue(core, Message(kind="notice", text="Replaced"), update_key="root")
    assert deliver(core, sender) == 2
    reply, update = connector.activities()[1:]
    assert (reply.method, reply.path) == ("POST", f"/v3/conversations/{CONV}/activities/act-1")
    assert reply.body["replyToId"] == "act-1"
    assert (update.method, update.path) == ("PUT", f"/v3/conversations/{CONV}/activities/act-1")
    assert "Replaced" in card_text(update.body["attachments"][0]["content"])


def test_an_oversized_message_is_cut_under_the_teams_limit(core, sender, connector):
    remember(core, connector)
    fields = tuple((f"#{i} workflow", "y" * 400) for i in range(300))
    queue(core, Message(kind="portfolio", text="Portfolio", sections=(Section("All", "", fields),)))
    deliver(core, sender)
    (call,) = connector.activities()
    assert len(json.dumps(call.body).encode()) < 40 * 1024
    assert "more" in card_text(validate_card(call.body["attachments"][0]["content"]))


@pytest.mark.slow
@pytest.mark.parametrize("status", [429, 412, 502, 504])
def test_connector_errors_back_off_and_the_message_is_delivered_later(core, sender, connector, clock, status):
    remember(core, connector)
    row = queue(core, NOTE)
    connector.fail_next(status, retry_after=7)
    assert deliver(core, sender) == 0
    failed = outbox_row(core, row.id)
    assert failed.status == "pending" and failed.attempts == 1
    assert str(status) in failed.last_error
    assert failed.next_attempt_at.replace(tzinfo=None) == (clock.now() + timedelta(seconds=7)).replace(tzinfo=None)
    assert deliver(core, sender) == 0  # not due yet: nothing is sent early
    clock.advance(seconds=8)
    assert deliver(core, sender) == 1
    assert outbox_row(core, row.id).status == "sent"
    assert [c.status for c in connector.calls] == [status, 200]


def test_a_user_without_a_conversation_reference_stays_pending_and_visible(core, sender, connector):
    row = queue(core, NOTE, recipient="29:never-talked")
    assert deliver(core, sender) == 0
    with core.uow() as uow:
        failed = next(r for r in uow.outbox.for_recipient("29:never-talked") if r.id == row.id)
    assert failed.status == "pending" and "29:never-talked" in failed.last_error
    assert connector.calls == []


def test_a_bad_request_is_not_retried(core, sender, connector):
    remember(core, connector)
    row = queue(core, NOTE)
    connector.fail_next(400)
    deliver(core, sender)
    assert outbox_row(core, row.id).status == "failed"


def test_approval_cards_carry_refresh_for_the_approver_and_governance(core, sender, connector):

    owner = PROPOSAL["owner"]
    remember(core, connector, owner)
    result = core.submit("29:req", "teams", dict(PROPOSAL))
    assert result.approval_request_ids
    deliver(core, sender)
    to_owner = [c for c in connector.activities() if c.conversation_id == f"a:personal-{owner}"]
    assert len(to_owner) == 1
    card = validate_card(to_owner[0].body["attachments"][0]["content"])
    assert owner in card["refresh"]["userIds"] and "UGOV" in card["refresh"]["userIds"]
    assert card["refresh"]["action"]["verb"] == cards.APPROVAL_REFRESH
    assert cards.COMMENT_ID in json.dumps(card["body"])


def test_retry_after_accepts_seconds_and_http_dates():
    from datetime import UTC, datetime

    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("Mon, 16 Nov 2026 09:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert DeliveryFailed("x", retry_after=3).retry_after == 3


def test_a_post_to_a_channel_conversation_uses_the_channels_reference(core, sender, connector):
    channel = "19:gov@thread.tacv2"
    reference = {
        "user": {"id": "29:gov"},
        "bot": {"id": "28:bot", "name": "govbot"},
        "conversation": {"id": channel, "conversationType": "channel", "isGroup": True},
        "channelId": "msteams",
        "serviceUrl": connector.url,
    }
    core.remember_conversation("teams", channel, channel, reference)
    with core.uow() as uow:
        enqueue(uow, "teams", channel, Message(kind="digest", text="Weekly digest"), core.clock.now())
        uow.commit()
    assert deliver(core, sender) == 1
    (call,) = connector.activities()
    assert (call.method, call.path) == ("POST", f"/v3/conversations/{channel}/activities")


def test_the_network_guard_would_catch_a_token_fetch(core, settings, connector, no_internet):
    """With credentials, botbuilder fetches a token from login.microsoftonline.com before
    posting; the guard used by these tests stops it (so their silence means something)."""
    secured = settings.model_copy(
        update={
            "microsoft_app_id": "11111111-2222-3333-4444-555555555555",
            "microsoft_app_password": SecretStr("not-a-real-secret"),
        }
    )
    sender = TeamsSender(build_adapter(secured), core, secured.microsoft_app_id)
    remember(core, connector)
    row = queue(core, NOTE)
    assert deliver(core, sender) == 0
    assert outbox_row(core, row.id).status == "pending"
    assert connector.calls == []
    assert set(no_internet) == {"login.microsoftonline.com"}  # the token fetch, refused
    no_internet.clear()
