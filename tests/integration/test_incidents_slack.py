"""The "Report an AI incident" message shortcut through the real slack_bolt app, with
signed requests and the fake Slack Web API: the form opens prefilled with the message
and its permalink, bad input is shown on the field, a high report pauses the pilot."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml

from handlers.slack.incidents import SHORTCUT, plain_message
from tests.support.blockkit import all_problems, response_action_problems
from tests.support.core_state import stage_of
from tests.support.slack_platform import SlackHarness
from tests.support.stages import seed

ROOT = Path(__file__).resolve().parents[2]


def test_shortcut_is_in_the_manifest():
    manifest = yaml.safe_load((ROOT / "handlers/slack/manifest.yml").read_text())
    assert manifest["features"]["shortcuts"] == [
        {
            "name": "Report an AI incident",
            "type": "message",
            "callback_id": SHORTCUT,
            "description": "Record harm an AI workflow did, quoting this message",
        }
    ]


def test_plain_message_drops_slack_markup():
    text = "<@U1|ana> sent <https://evil.example|this> to <#C9|support> &lt;b&gt; <!here>"
    assert plain_message(text) == "@ana sent this (https://evil.example) to #support <b> @here"


def test_message_shortcut_reports_a_high_incident_that_pauses(core, settings):
    p = seed(core, "pilot")
    said = {
        "channel": "C0SUPPORT",
        "ts": "1700000000.000100",
        "user": "U_BOT",
        "text": f"Refund for <@U_CUST> issued twice by the #{p.id} agent",
    }

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            status, _ = await slack.message_shortcut("U_AGENT", SHORTCUT, said)
            assert status == 200
            [opened] = await slack.api.wait_for("views.open")
            form = opened.response["view"]
            initial = {b["block_id"]: b["element"].get("initial_value") for b in form["blocks"] if b["type"] == "input"}
            assert initial == {
                "proposal": str(p.id),
                "severity": None,
                "text": (
                    "What happened: \n\n"
                    f'Message: "Refund for @U_CUST issued twice by the #{p.id} agent"\n'
                    "Link: https://fake.slack.com/archives/C0SUPPORT/p1700000000000100"
                ),
            }
            _, text = await slack.submit("U_AGENT", form, {"proposal": str(p.id), "severity": None, "text": "x"})
            assert json.loads(text) == {
                "response_action": "errors",
                "errors": {"severity": "severity: missing; allowed: low, medium, high"},
            }
            _, text = await slack.submit("U_AGENT", form, {"proposal": "12a", "severity": "high", "text": "x"})
            assert list(json.loads(text)["errors"]) == ["proposal"]
            _, text = await slack.submit(
                "U_AGENT", form, {"proposal": str(p.id), "severity": "high", "text": "Refunded a customer twice"}
            )
            await slack.idle()
            assert response_action_problems(text) == []
            assert "govbot paused it" in json.dumps(json.loads(text)["view"])
            assert all_problems(slack.api.calls) == []

    asyncio.run(scenario())
    assert stage_of(core, p.id) == "paused"
    [incident] = core.status_data(p.id)["incidents"]
    assert (incident["severity"], incident["text"], incident["reported_by"]) == (
        "high",
        "Refunded a customer twice",
        "U_AGENT",
    )
    [event] = [e for e in core.status_data(p.id)["audit"] if e["action"] == "incident.reported"]
    assert event["detail"]["source"] == "https://fake.slack.com/archives/C0SUPPORT/p1700000000000100"
