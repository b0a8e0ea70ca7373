"""The digest in Slack: `digest here`, the review message with Post / Regenerate
buttons, posting once to the registered channel, refusals for non-governance."""

from __future__ import annotations

import asyncio
import json

from bot.messages.message import DIGEST_POST, DIGEST_REGENERATE
from tests.support.blockkit import all_problems
from tests.support.slack_platform import SlackHarness


def _buttons(call) -> dict[str, str]:
    return {
        e["action_id"]: e["value"] for b in call.args.get("blocks", []) if b["type"] == "actions" for e in b["elements"]
    }


def test_digest_review_and_post_from_slack(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await slack.command("UGOV", "digest here", channel="C0DIGEST")
            await slack.idle()
            said = slack.api.calls_to("response_url")[-1]
            assert "C0DIGEST" in json.dumps(said.args)
            await slack.command("UGOV", "digest")
            await slack.idle()
            review = slack.api.calls_to("response_url")[-1]
            buttons = _buttons(review)
            assert set(buttons) == {DIGEST_POST, DIGEST_REGENERATE}
            message = {"channel": "C0GENERAL", "ts": "1.1"}
            # someone outside governance cannot post it
            await slack.click("U_NOBODY", DIGEST_POST, buttons[DIGEST_POST], message=message)
            await slack.idle()
            refused = slack.api.calls_to("response_url")[-1]
            assert refused.args["response_type"] == "ephemeral" and "governance" in refused.args["text"].lower()
            # regenerate gives a fresh draft with its own buttons
            await slack.click("UGOV", DIGEST_REGENERATE, buttons[DIGEST_REGENERATE], message=message)
            await slack.idle()
            fresh = _buttons(slack.api.calls_to("response_url")[-1])
            assert fresh[DIGEST_POST] != buttons[DIGEST_POST]
            await slack.click("UGOV", DIGEST_POST, fresh[DIGEST_POST], message=message)
            await slack.idle()
            await slack.click("UGOV", DIGEST_POST, fresh[DIGEST_POST], message=message)  # twice
            await slack.idle()
            notes = [c.args.get("text", "") for c in slack.api.calls_to("response_url")[-2:]]
            assert "on its way" in notes[0] and "already posted" in notes[1]
            await core.deliver_due({"slack": slack.sender})
            posted = [c for c in slack.api.calls_to("chat.postMessage") if c.args["channel"] == "C0DIGEST"]
            assert len(posted) == 1
            assert all_problems(slack.api.calls) == []

    asyncio.run(scenario())
