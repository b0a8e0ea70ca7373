"""One approval click updates each copy of the approval card once (real Slack client,
fake Web API, real store): the clicked copy in place by the listener, every other copy
through the outbox — never the same message twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bot.messages.message import APPROVE
from tests.support.core_state import requests_by_role, set_roles
from tests.support.proposals import medium
from tests.support.slack_platform import SlackHarness


@pytest.fixture
def security_request(core):
    """A proposal whose security request went to two holders; every card delivered by
    the test itself. Returns the request id."""
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("security", "", ["U_SEC1", "U_SEC2"]))
    result = core.submit("U_REQ", "slack", medium(data=["internal", "security"]))
    return requests_by_role(core, result.proposal_id)["security"].id


def _ref(core, key: str) -> dict[str, str]:
    with core.uow() as uow:
        ref = uow.message_refs.get(key)
    assert ref is not None, f"no message was delivered under {key}"
    return ref


async def _deliver_all(core, slack) -> None:
    while await core.deliver_due({"slack": slack.sender}):
        pass


def _updates_per_message(slack) -> Counter[tuple[str, str]]:
    return Counter((c.args["channel"], c.args["ts"]) for c in slack.api.calls_to("chat.update"))


def test_one_click_updates_each_copy_of_the_card_once(core, settings, security_request):
    rid = security_request

    async def scenario() -> tuple[Counter[tuple[str, str]], list[tuple[str, str]]]:
        async with SlackHarness(core, settings) as slack:
            await _deliver_all(core, slack)
            clicked, other = _ref(core, f"approval:{rid}"), _ref(core, f"approval:{rid}:U_SEC2")
            await slack.click("U_SEC1", APPROVE, str(rid), message=clicked)
            await slack.idle()
            await _deliver_all(core, slack)
            return _updates_per_message(slack), [(m["channel"], m["ts"]) for m in (clicked, other)]

    updates, (clicked, other) = asyncio.run(scenario())
    assert updates == {clicked: 1, other: 1}


def test_when_slack_refuses_the_in_place_update_the_outbox_updates_that_copy_once(core, settings, security_request):
    rid = security_request

    async def scenario() -> tuple[Counter[tuple[str, str]], list[tuple[str, str]]]:
        async with SlackHarness(core, settings) as slack:
            await _deliver_all(core, slack)
            clicked, other = _ref(core, f"approval:{rid}"), _ref(core, f"approval:{rid}:U_SEC2")
            slack.api.fail_next("chat.update", status=503, times=3)  # more than the client retries
            await slack.click("U_SEC1", APPROVE, str(rid), message=clicked)
            await slack.idle()
            await _deliver_all(core, slack)
            return _updates_per_message(slack), [(m["channel"], m["ts"]) for m in (clicked, other)]

    updates, (clicked, other) = asyncio.run(scenario())
    assert updates == {clicked: 1, other: 1}
