"""A Slack conversation through a `SlackHarness`: answer the interview modal as a
requester would, and read what the bot posted to a user's DM."""

from __future__ import annotations

import json
from typing import Any

from tests.support.blockkit import response_action_problems
from tests.support.slack_platform import SlackHarness


async def fill_modal(
    slack: SlackHarness, user: str, view: dict[str, Any], answers: dict[str, Any], pages_seen: list[str] | None = None
) -> dict[str, Any]:
    """Answer every step of the interview modal; return the final ack body."""
    while True:
        keys = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
        if pages_seen is not None:
            pages_seen.append(json.loads(view["private_metadata"])["p"])
        status, text = await slack.submit(user, view, {k: answers[k] for k in keys if k in answers})
        assert status == 200, text
        assert response_action_problems(text) == []
        ack = json.loads(text)
        if ack.get("response_action") != "update" or ack["view"].get("callback_id") != "interview":
            return ack
        view = {**ack["view"], "id": view["id"]}  # response_action=update keeps the view id


async def propose_through_modal(slack: SlackHarness, user: str, answers: dict[str, Any]) -> int:
    """`/aiwf propose ...`, answer the modal, wait for the result; return the proposal id."""
    opened = len(slack.api.calls_to("views.open"))
    status, text = await slack.command(user, f"propose {answers['title']}")
    assert (status, text) == (200, "")
    calls = await slack.api.wait_for("views.open", opened + 1)
    view = calls[-1].response["view"]
    updates = len(slack.api.calls_to("views.update"))
    ack = await fill_modal(slack, user, view, answers)
    assert ack["response_action"] == "update"  # a "working" view; the result follows
    await slack.idle()
    result = slack.api.calls_to("views.update")[updates:]
    assert len(result) == 1
    title = result[0].args["view"]["title"]["text"]
    assert title.startswith("Proposal #"), result[0].args["view"]
    return int(title.removeprefix("Proposal #"))


def dm_channel(user: str) -> str:
    """The fake Web API's DM channel with `user` (U_X -> D_X)."""
    return "D" + user[1:]


def posted_to(slack: SlackHarness, user: str) -> list[Any]:
    """The chat.postMessage calls into `user`'s DM, oldest first."""
    return [c for c in slack.api.calls_to("chat.postMessage") if c.args["channel"] == dm_channel(user)]


def message_of(call: Any) -> dict[str, Any]:
    """A posted message as a block_actions payload carries it (channel, ts, blocks)."""
    return {"channel": call.response["channel"], "ts": call.response["ts"], "blocks": call.args.get("blocks", [])}


def buttons_of(call: Any) -> list[dict[str, Any]]:
    """The button elements of a posted message."""
    return [e for b in call.args.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]
