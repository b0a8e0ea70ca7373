"""Faults outside govbot, end to end: the Slack Web API rate-limiting and failing during
an approval click, the LLM timing out then recovering for the digest, and a Teams
connector answering 502 to an approval card. Nothing is lost, the user is told, the
work resumes. (Sender-level retry rules are in test_slack_sender, test_teams_sender,
test_outbox and test_digest_llm; these tests follow a user's flow through them.)
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.app import build_core
from bot.messages.digest import digest_message
from bot.messages.message import APPROVE
from handlers.teams.adapter import build_adapter
from handlers.teams.sender import TeamsSender
from tests.support.bot_connector import FakeBotConnector
from tests.support.clock import T0
from tests.support.core_state import audit_actions, requests_by_role, set_roles
from tests.support.openai_stub import OpenAIStub, Reply
from tests.support.portfolio import GOOD_DIGEST, seed_portfolio
from tests.support.proposals import make_proposal
from tests.support.slack_platform import SlackHarness


@pytest.mark.slow
def test_slack_429_then_5xx_during_a_click_keeps_the_decision_and_tells_the_user(core, settings):
    result = core.submit("U_REQ", "slack", make_proposal())
    rid = requests_by_role(core, result.proposal_id)["owner"].id
    message = {"channel": "D_OWNER", "ts": "1700000000.000042"}

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            # one 429 with Retry-After, then more 503s than the client retries
            slack.api.fail_next("chat.update", status=429, retry_after=1)
            slack.api.fail_next("chat.update", status=503, times=2)
            status, _ = await slack.click("U_OWNER", APPROVE, str(rid), message=message)
            assert status == 200
            await slack.front_end.idle(20)
            attempts = [c.status for c in slack.api.calls if c.method == "chat.update"]
            assert attempts == [429, 503, 503]  # Retry-After honoured, the 5xx retried, then given up
            (told,) = slack.api.calls_to("response_url")
            assert told.args["text"].startswith("Approved") and "decision stands" in told.args["text"]

            # Slack is back: clicking the stale card again replaces it and records nothing new
            status, _ = await slack.click("U_OWNER", APPROVE, str(rid), message=message)
            assert status == 200
            await slack.idle()
            (updated,) = slack.api.calls_to("chat.update")
            assert updated.args["ts"] == message["ts"]
            assert updated.args["blocks"] == [  # the buttons are gone
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*Approved by &lt;@U_OWNER&gt; at 09:00 (2026-11-16 UTC)*",
                        "verbatim": True,
                    },
                },
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": "*Proposal*\n#1 Summarise weekly support themes", "verbatim": True},
                        {"type": "mrkdwn", "text": "*Role*\nworkflow owner", "verbatim": True},
                        {"type": "mrkdwn", "text": "*Request id*\n1", "verbatim": True},
                    ],
                },
            ]
            assert (
                slack.api.calls_to("response_url")[-1].args["text"]
                == "Already decided: Approved by <@U_OWNER> at 09:00 (2026-11-16 UTC)."
            )

    asyncio.run(scenario())
    assert audit_actions(core, result.proposal_id).count("decision.approve") == 1
    with core.uow() as uow:
        assert len(uow.decisions.for_proposal(result.proposal_id)) == 1


@pytest.mark.slow
def test_llm_timeout_falls_back_then_regenerate_uses_the_recovered_llm(settings, clock):
    with OpenAIStub() as stub:
        llm = settings.model_copy(
            update={
                "openai_api_key": SecretStr("sk-test-123"),
                "openai_base_url": stub.base_url,
                "llm_model": "stub-model",
                "llm_timeout_s": 0.5,
                "llm_max_retries": 1,
            }
        )
        core = build_core(llm, clock=clock)
        seed_portfolio(core, T0)
        stub.script(Reply(GOOD_DIGEST, sleep=2.0), Reply(GOOD_DIGEST, sleep=2.0))  # the try and its retry time out
        first = core.draft_digest(T0)
        assert first.model == "template" and "timed out" in first.fallback_reason
        shown = digest_message(first, review=True)
        said = " ".join([shown.text, *(sec.text for sec in shown.sections)])
        assert "template writer" in said and "the LLM did not answer" in said  # the reviewer is told why
        with core.uow() as uow:
            assert uow.digests.get(first.id).text == first.text  # the fallback draft is stored, not lost

        stub.script(Reply(GOOD_DIGEST))  # the LLM is back
        clock.advance(hours=1)
        core.regenerate_digest("UGOV", first.id)
        with core.uow() as uow:
            newest = uow.digests.latest()
        assert newest.id != first.id and newest.model == "stub-model" and newest.fallback_reason is None
        assert (newest.period_start, newest.period_end) == (first.period_start, first.period_end)
        assert first.fallback_reason == "LLM draft failed: attempt 1: LLM failed: timed out (OpenAITimeoutError)"
        assert newest.text == GOOD_DIGEST  # and the API key appears in neither


def test_teams_502_on_an_approval_card_is_retried_and_visible_meanwhile(core, settings, clock):
    owner = "29:owner-aad"
    set_roles(core, ("department_lead", "Support", ["29:lead-aad"]))
    with FakeBotConnector() as connector:
        for user in (owner, "29:lead-aad", "29:req-aad"):
            core.remember_conversation(
                "teams",
                user,
                f"a:personal-{user}",
                {
                    "user": {"id": user, "name": user},
                    "bot": {"id": "28:bot", "name": "govbot"},
                    "conversation": {"id": f"a:personal-{user}", "conversationType": "personal"},
                    "channelId": "msteams",
                    "serviceUrl": connector.url,
                    "locale": "en-US",
                },
            )
        result = core.submit("29:req-aad", "teams", make_proposal(owner=owner, audience="team"))
        sender = TeamsSender(
            build_adapter(settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})), core, None
        )
        with core.uow() as uow:
            due = len(uow.outbox.due(["teams"], clock.now(), 50))
        assert due == 3  # the requester's classification, the owner's and the lead's approval cards
        connector.fail_next(502, times=due)  # every first attempt; then the connector is back
        assert asyncio.run(core.deliver_due({"teams": sender})) == 0
        status = core.status_data(result.proposal_id)
        # visible in `govbot status` while the connector fails
        assert [(o["recipient"], o["kind"], o["last_error"]) for o in status["undelivered"]] == [
            ("29:req-aad", "classification", "DeliveryFailed: Teams connector answered HTTP 502"),
            ("29:owner-aad", "approval_request", "DeliveryFailed: Teams connector answered HTTP 502"),
            ("29:lead-aad", "approval_request", "DeliveryFailed: Teams connector answered HTTP 502"),
        ]

        clock.advance(seconds=600)  # past the backoff
        sent = asyncio.run(core.deliver_due({"teams": sender}))
        assert sent == len(status["undelivered"])
        assert not core.status_data(result.proposal_id)["undelivered"]
        cards = connector.sent_to(f"a:personal-{owner}")
        assert len(cards) == 1  # the approval card arrived once
        assert requests_by_role(core, result.proposal_id)["owner"].status == "pending"
    assert clock.now() - T0 == timedelta(seconds=600)
