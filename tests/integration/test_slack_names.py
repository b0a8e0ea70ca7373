"""Slack users' display names through the real Bolt app: `users.info` (scope
`users:read`) for the people a request names, kept by the core, shown by every channel."""

from __future__ import annotations

import asyncio

from handlers.console.render import render_message
from handlers.slack.commands import command_text
from tests.support.slack_api import FakeSlackAPI
from tests.support.slack_platform import BOT_TOKEN, SlackHarness


def run(coro):
    return asyncio.run(coro)


def api_with_people() -> FakeSlackAPI:
    api = FakeSlackAPI(token=BOT_TOKEN)
    api.users["UGOV"] = {"id": "UGOV", "name": "grace", "profile": {"display_name": "Grace Okafor"}}
    api.users["U0SAM"] = {"id": "U0SAM", "name": "sam.jones", "profile": {"display_name": "", "real_name": "Sam Jones"}}
    api.users["U0EVE"] = {"id": "U0EVE", "name": "eve", "profile": {"display_name": "*Eve* <!channel>"}}
    return api


def test_a_command_teaches_govbot_the_names_of_who_acts_and_who_is_mentioned(core, settings):
    async def scenario():
        async with SlackHarness(core, settings, api_with_people()) as slack:
            status, _ = await slack.command("UGOV", "roles set security <@U0SAM|sam.jones>")
            assert status == 200
            await slack.idle()
            return sorted(c.args["user"] for c in slack.api.calls_to("users.info"))

    assert run(scenario()) == ["U0SAM", "UGOV"]
    with core.uow() as uow:
        assert uow.people.names(["UGOV", "U0SAM"]) == {"UGOV": "Grace Okafor", "U0SAM": "Sam Jones"}
        assert uow.roles.holders("security", "") == ["U0SAM"]
    assert "• security: Sam Jones" in render_message(core.roles())


def test_each_user_is_looked_up_once_and_a_name_is_stored_without_markup(core, settings):
    async def scenario():
        async with SlackHarness(core, settings, api_with_people()) as slack:
            for _ in range(3):
                await slack.command("U0EVE", "help")
            await slack.idle()
            return len(slack.api.calls_to("users.info"))

    assert run(scenario()) == 1
    with core.uow() as uow:
        assert uow.people.get("U0EVE").name == "Eve !channel"


def test_a_failed_look_up_costs_nobody_their_answer(core, settings):
    async def scenario():
        async with SlackHarness(core, settings, api_with_people()) as slack:
            slack.api.fail_next("users.info", error="missing_scope")
            status, _ = await slack.command("UGOV", "help")
            await slack.idle()
            answered = [c for c in slack.api.calls if c.method == "response_url"]
            return status, len(answered)

    assert run(scenario()) == (200, 1)
    with core.uow() as uow:
        assert uow.people.get("UGOV") is None


def test_the_command_text_is_what_the_person_typed():
    escaped = "propose See <https://wiki.example/x|the wiki> &amp; <#C1|support> for <@U0SAM|sam> &lt;3"
    assert command_text(escaped) == "propose See the wiki & #support for <@U0SAM|sam> <3"
