"""The Slack outbox Sender against the fake Web API: DMs, threads, in-place updates,
rate limits (429 + Retry-After), server errors and permanent refusals."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.domain.records import OutboxRow
from bot.messages.message import Message, Section
from bot.ports import DeliveryFailed
from handlers.slack.app import make_client
from handlers.slack.sender import SlackSender
from tests.support.blockkit import all_problems
from tests.support.clock import T0
from tests.support.core_state import set_roles
from tests.support.proposals import interview_answers
from tests.support.slack_api import FakeSlackAPI

ANSWERS = interview_answers()


def _row(recipient: str = "U1", **kw) -> OutboxRow:
    msg = Message(kind="notice", text="Hello <@U1>", sections=(Section("Why", "because"),))
    base = dict(
        id=1,
        channel="slack",
        recipient=recipient,
        kind="notice",
        payload=msg.to_json(),
        ref_key=None,
        thread_key=None,
        update_key=None,
        dedupe_key=None,
        status="pending",
        attempts=0,
        next_attempt_at=T0,
        last_error=None,
        created_at=T0,
    )
    base.update(kw)
    return OutboxRow(**base)


class _Settings:
    def __init__(self, api: FakeSlackAPI):
        self.slack_bot_token = SecretStr(api.token)
        self.slack_api_url = api.api_url


async def _sender(api: FakeSlackAPI) -> SlackSender:
    await api.start()
    return SlackSender(make_client(_Settings(api), rate_limit_retries=False))


def test_dm_thread_and_update_in_place():
    async def scenario():
        api = FakeSlackAPI()
        sender = await _sender(api)
        try:
            first = await sender.send(_row("U1"), None, None)
            assert first == {"channel": "D1", "ts": first["ts"]}
            again = await sender.send(_row("U1"), None, None)
            assert len(api.calls_to("conversations.open")) == 1  # the DM channel is cached
            threaded = await sender.send(_row("U1"), first, None)
            assert api.calls_to("chat.postMessage")[-1].args["thread_ts"] == first["ts"]
            assert threaded["channel"] == "D1"
            updated = await sender.send(_row("U1"), None, again)
            assert updated == again
            assert api.calls_to("chat.update")[0].args["ts"] == again["ts"]
            await sender.send(_row("C0DIGEST"), None, None)  # a channel id is posted to directly
            assert api.calls_to("chat.postMessage")[-1].args["channel"] == "C0DIGEST"
            assert all_problems(api.calls) == []
        finally:
            await api.stop()

    asyncio.run(scenario())


def test_update_of_a_vanished_message_posts_a_new_one():
    async def scenario():
        api = FakeSlackAPI()
        sender = await _sender(api)
        try:
            api.fail_next("chat.update", error="message_not_found")
            ref = await sender.send(_row("U1"), None, {"channel": "D1", "ts": "1.1"})
            assert ref["ts"] != "1.1" and len(api.calls_to("chat.postMessage")) == 1
        finally:
            await api.stop()

    asyncio.run(scenario())


@pytest.mark.slow
def test_rate_limit_and_errors_become_delivery_failures():
    async def scenario():
        api = FakeSlackAPI()
        sender = await _sender(api)
        try:
            api.fail_next("chat.postMessage", status=429, retry_after=17)
            with pytest.raises(DeliveryFailed) as rate:
                await sender.send(_row("C1"), None, None)
            assert rate.value.retry_after == 17 and not rate.value.permanent
            api.fail_next("chat.postMessage", status=503, times=3)  # the client retries twice, then gives up
            with pytest.raises(DeliveryFailed) as down:
                await sender.send(_row("C1"), None, None)
            assert not down.value.permanent and down.value.retry_after is None
            api.fail_next("chat.postMessage", status=500)  # one blip is absorbed by the retry handler
            assert (await sender.send(_row("C1"), None, None))["channel"] == "C1"
            api.fail_next("chat.postMessage", error="channel_not_found")
            with pytest.raises(DeliveryFailed) as gone:
                await sender.send(_row("C1"), None, None)
            assert gone.value.permanent
        finally:
            await api.stop()

    asyncio.run(scenario())


@pytest.mark.slow
def test_outbox_survives_slack_rate_limits_and_outages(core, settings, clock):
    """Nothing is lost and nothing is sent twice while Slack answers 429 and 5xx."""
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        api = FakeSlackAPI()
        sender = await _sender(api)
        try:
            submitted = await asyncio.to_thread(core.submit, "U_REQ", "slack", dict(ANSWERS))
            api.fail_next("conversations.open", status=429, retry_after=30)
            first = await core.deliver_due({"slack": sender})
            data = core.status_data(submitted.proposal_id)
            waiting = [u for u in data["undelivered"] if u["status"] == "pending"]
            assert len(waiting) == 1 and "429" in waiting[0]["last_error"]
            assert first == 2
            assert await core.deliver_due({"slack": sender}) == 0  # not due yet: Retry-After is respected
            clock.advance(seconds=31)
            api.fail_next("chat.postMessage", status=503, times=3)  # the client's own two retries fail too
            assert await core.deliver_due({"slack": sender}) == 0
            assert [c.status for c in api.calls if c.method == "chat.postMessage"][-3:] == [503, 503, 503]
            clock.advance(seconds=timedelta(minutes=5).total_seconds())
            assert await core.deliver_due({"slack": sender}) == 1
            assert core.status_data(submitted.proposal_id)["undelivered"] == []
            recipients = sorted(c.args["channel"] for c in api.calls_to("chat.postMessage"))
            assert recipients == ["D_LEAD", "D_OWN", "D_REQ"]  # each exactly once
        finally:
            await api.stop()

    asyncio.run(scenario())
