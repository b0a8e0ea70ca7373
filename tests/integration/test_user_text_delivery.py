"""User-written markup reaches nobody live (issue 18, item 6): a proposal whose title and
description carry mentions, a channel ping, links and markdown is delivered through the
outbox to the approvers' DMs and in the digest channel, through the real slack_sdk client
against the fake Slack Web API. Only the mentions the core wrote stay live."""

from __future__ import annotations

import asyncio
import json
import re

from tests.support.core_state import requests_by_role
from tests.support.proposals import make_proposal as proposal
from tests.support.slack_platform import SlackHarness

HOSTILE = "<@UVICTIM> <#C0SECRET> <!here> https://evil.example/x [form](https://evil.example/f)"
_LIVE = re.compile(r"<(?:@UVICTIM|#C0SECRET|!here|https?:)")


def hostile_proposal() -> dict:
    return proposal(title=f"Refunds {HOSTILE}", description=f"Summarise notes. {HOSTILE}", owner="UOWNER1")


def live_markup(calls) -> list[str]:
    """The texts of the calls in which a user-written token is live: a mention, channel
    or link in mrkdwn, a bare URL that Slack may auto-link (not `verbatim`), or a whole
    URL in the notification text."""
    live: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                text = node["text"]
                if _LIVE.search(text) or (not node.get("verbatim") and "://" in text):
                    live.append(text)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for call in calls:
        text = call.args.get("text", "")
        if _LIVE.search(text) or "://" in text:
            live.append(text)
        walk(call.args.get("blocks", []))
    return live


def test_an_approval_dm_carries_no_user_written_markup(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await asyncio.to_thread(core.submit, "UREQ1", "slack", hostile_proposal())
            await core.deliver_due({"slack": slack.sender})
            return [c for c in slack.api.calls_to("chat.postMessage") if c.args["channel"] == "DOWNER1"]

    dms = asyncio.run(scenario())
    assert (len(dms) > 0, live_markup(dms)) == (True, [])


def test_the_core_mention_in_an_approval_dm_stays_live(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await asyncio.to_thread(core.submit, "UREQ1", "slack", hostile_proposal())
            await core.deliver_due({"slack": slack.sender})
            return [c for c in slack.api.calls_to("chat.postMessage") if c.args["channel"] == "DOWNER1"]

    dms = asyncio.run(scenario())
    assert "<@UREQ1>" in json.dumps([c.args.get("blocks") for c in dms])


def test_the_digest_channel_gets_no_user_written_markup(core, settings, clock):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            clock.advance(days=-2)  # proposed during the week the digest reports
            await asyncio.to_thread(core.submit, "UREQ1", "slack", hostile_proposal())
            clock.advance(days=2)
            await slack.command("UGOV", "digest here", channel="C0DIGEST")
            await slack.idle()
            await slack.command("UGOV", "digest")
            await slack.idle()
            review = slack.api.calls_to("response_url")[-1]
            post = next(
                e["value"]
                for b in review.args["blocks"]
                if b["type"] == "actions"
                for e in b["elements"]
                if e["action_id"] == "digest.post"
            )
            await slack.click("UGOV", "digest.post", post, message={"channel": "C0GENERAL", "ts": "1.1"})
            await slack.idle()
            await core.deliver_due({"slack": slack.sender})
            return [c for c in slack.api.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]

    posted = asyncio.run(scenario())
    assert (len(posted), "Refunds" in json.dumps(posted[0].args), live_markup(posted)) == (1, True, [])


def test_a_rejection_comment_reaches_the_requester_as_typed(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            result = await asyncio.to_thread(core.submit, "UREQ1", "slack", proposal(owner="UOWNER1"))
            request = requests_by_role(core, result.proposal_id)["owner"]
            await asyncio.to_thread(core.decide, "UOWNER1", request.id, "reject", f"No. {HOSTILE}")
            await core.deliver_due({"slack": slack.sender})
            return [c for c in slack.api.calls_to("chat.postMessage") if c.args["channel"] == "DREQ1"]

    dms = asyncio.run(scenario())
    assert ("No. " in json.dumps([c.args.get("blocks") for c in dms]), live_markup(dms)) == (True, [])
