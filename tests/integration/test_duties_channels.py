"""Separation of duties through the channels: the real Bolt app against the fake Slack
Web API, and the Teams bot through the fake Bot Connector, on the real store."""

from __future__ import annotations

import asyncio
import json

from bot.messages.message import APPROVE
from handlers.teams.bot import GovbotTeamsBot
from tests.support.bot_connector import TeamsTurns, card_text, validate_card
from tests.support.core_state import requests_by_role, set_roles
from tests.support.proposals import high_billing
from tests.support.slack_conversation import buttons_of, message_of, posted_to
from tests.support.slack_platform import SlackHarness

ALREADY = (
    "Not recorded: you already decided the finance request on this proposal and one person decides at most one, "
    "so another department lead decides."
)


def test_slack_refuses_a_second_request_by_the_same_person(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_DANA", "U_BOTH"]), ("finance", "", ["U_BOTH"]))
    pid = core.submit("U_REQ", "slack", high_billing()).proposal_id
    reqs = requests_by_role(core, pid)
    core.decide("U_OWNER", reqs["owner"].id, "approve")  # owner first: the others are asked now

    async def scenario() -> tuple[list[str], str]:
        async with SlackHarness(core, settings) as slack:
            while await core.deliver_due({"slack": slack.sender}):
                pass
            cards = {
                int(next(b["value"] for b in buttons_of(c) if b["action_id"] == APPROVE)): message_of(c)
                for c in posted_to(slack, "U_BOTH")
                if buttons_of(c)
            }
            for role in ("finance", "department_lead"):
                rid = reqs[role].id
                await slack.click("U_BOTH", APPROVE, str(rid), message=cards[rid])
                await slack.idle()
            said = [json.dumps(c.args) for c in slack.api.calls_to("response_url")]
            return sorted(cards), said[-1]

    shown, refusal = asyncio.run(scenario())
    assert shown == sorted([reqs["finance"].id, reqs["department_lead"].id])  # a holder of both gets both cards
    assert ALREADY in refusal
    after = requests_by_role(core, pid)
    assert (after["finance"].status, after["department_lead"].status) == ("approved", "pending")


def test_teams_refuses_the_requester_on_click_and_typed(core):
    set_roles(core, ("department_lead", "Support", ["29:requester", "29:lead"]))
    teams = TeamsTurns(GovbotTeamsBot(core, core.settings))
    pid = core.submit("29:requester", "teams", high_billing(owner="29:owner")).proposal_id
    lead = requests_by_role(core, pid)["department_lead"]
    assert lead.approver == "29:lead"
    want = "Not recorded: you requested this proposal, so another department lead decides."
    card = validate_card(teams.click("29:requester", APPROVE, {"request_id": lead.id}))
    assert card_text(card).splitlines()[1] == want
    typed = teams.say("29:requester", f"approve {lead.id}")
    assert want in card_text(validate_card(typed[0]))
    with core.uow() as uow:
        refused = [e.detail for e in uow.audit.for_proposal(pid) if e.action == "decision.refused"]
        assert uow.decisions.for_request(lead.id) is None
    assert [(d["request_id"], d["separation_of_duties"]) for d in refused] == [(lead.id, True), (lead.id, True)]
    assert requests_by_role(core, pid)["department_lead"].status == "pending"
