"""`promote` refused by the production gate in Slack and in Teams: the reply names every
unmet condition (the slash command through the real Bolt app and a signed request; the
typed command through the real botbuilder adapter and a fake Bot Connector)."""

from __future__ import annotations

import asyncio

from handlers.teams.bot import GovbotTeamsBot
from tests.support.bot_connector import TeamsTurns, card_text
from tests.support.core_state import stage_of
from tests.support.slack_platform import SlackHarness
from tests.support.stages import OWNER, gated_pilot


def test_slack_promote_is_refused_with_every_unmet_condition(core, settings):
    pilot = gated_pilot(core, title="Billing agent", risk="high", readiness=4)
    core.record_checkin(OWNER, pilot.id, "11")

    async def scenario() -> str:
        async with SlackHarness(core, settings) as slack:
            await slack.command(OWNER, f"promote {pilot.id}")
            return str((await slack.api.wait_for("response_url"))[0].args["text"])

    text = asyncio.run(scenario())
    assert (text.count("- readiness: readiness is 4/6"), text.count("- value_target: the latest check-in is 11")) == (
        1,
        1,
    )
    assert stage_of(core, pilot.id) == "pilot"


def test_teams_promote_is_refused_with_every_unmet_condition(core):
    pilot = gated_pilot(core, title="Billing agent", risk="high", use_area=None)
    core.record_checkin(OWNER, pilot.id, "11")
    teams = TeamsTurns(GovbotTeamsBot(core, core.settings))
    (reply,) = teams.say(OWNER, f"promote {pilot.id}")
    text = card_text(reply)
    assert ("value_target: the latest check-in is 11" in text, "regulatory: the EU AI Act questions" in text) == (
        True,
        True,
    )
    assert stage_of(core, pilot.id) == "pilot"
