"""One whole conversation through Slack: the real Bolt app over HTTP, signed requests,
the real slack_sdk client against a fake Web API, the real store.

propose -> modal -> submit -> requester told -> approvers DM'd -> a wrong user's click
refused -> right users approve -> requester notified in the thread -> status shows the
trail; retries and double clicks change nothing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.messages.message import APPROVE, EDIT_PROPOSAL, REJECT, REQUEST_CHANGES
from tests.fakes.blockkit import all_problems, response_action_problems
from tests.fakes.slack_platform import SlackHarness

ANSWERS: dict[str, Any] = {
    "title": "Support reply drafter",
    "department": "Support",
    "description": "Reads each new support ticket and drafts a reply for the agent to edit and send.",
    "current_process": "Agents write every reply by hand in the helpdesk, about 12 minutes per ticket.",
    "expected_output": "A draft reply inside the ticket that the agent edits before sending.",
    "owner": "U_OWN",
    "value_metric": "Handling time from 12 to 6 minutes per ticket",
    "capacity": "incremental",
    "stack": "processes",
    "data": ["customer", "internal"],
    "actions": ["draft", "summarize"],
    "audience": "team",
    "review": "every_output",
    "autonomy": "draft_only",
    "failure_visible": True,
    "exception_path": "Tickets the model cannot handle get no draft and go to the normal queue.",
    "escalation_path": "The support lead on call, then the #support-escalations channel.",
    "control_points": "Every draft is read and edited by an agent before it is sent.",
    "rollback_path": "Switch the integration off in the helpdesk admin; agents keep writing by hand.",
    "use_area": "none",
    "profiles_people": False,
    "ai_act_role": "deployer",
}


def setup_roles(core) -> None:
    core.set_role("UGOV", "department_lead", "Support", ["U_LEAD"])


def decisions(core, pid: int) -> list[tuple[str, str]]:
    """(actor, decision) of every decision stored for the proposal."""
    with core.uow() as uow:
        return [(d.actor, d.decision) for d in uow.decisions.for_proposal(pid)]


def _dm(user: str) -> str:
    return "D" + user[1:]


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


def _posted_to(slack: SlackHarness, user: str) -> list[Any]:
    return [c for c in slack.api.calls_to("chat.postMessage") if c.args["channel"] == _dm(user)]


def _message(call: Any) -> dict[str, Any]:
    return {"channel": call.response["channel"], "ts": call.response["ts"], "blocks": call.args.get("blocks", [])}


def _buttons(call: Any) -> list[dict[str, Any]]:
    return [e for b in call.args.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def test_whole_conversation(core, settings):
    setup_roles(core)

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            # 1. propose -> modal (several steps) -> submit
            pid = await propose_through_modal(slack, "U_REQ", ANSWERS)
            with core.uow() as uow:
                row = uow.proposals.get(pid)
                assert row.requester == "U_REQ" and row.stage == "in_review" and row.channel == "slack"
                assert row.answers["data"] == ["customer", "internal"] and row.answers["owner"] == "U_OWN"
                assert uow.drafts.get("slack", "U_REQ") is None  # the submitted draft is gone

            # 2. outbox: the requester hears the classification, approvers get their requests
            sent = await core.deliver_due({"slack": slack.sender})
            assert sent >= 3
            told = _posted_to(slack, "U_REQ")
            assert len(told) == 1 and "medium" in json.dumps(told[0].args["blocks"]).lower()
            classification = _message(told[0])
            requests = {u: _posted_to(slack, u) for u in ("U_OWN", "U_LEAD")}
            assert all(len(v) == 1 for v in requests.values()), requests
            for calls in requests.values():
                assert {b["action_id"] for b in _buttons(calls[0])} == {APPROVE, REJECT, REQUEST_CHANGES}
            lead_msg = _message(requests["U_LEAD"][0])
            lead_rid = next(b["value"] for b in _buttons(requests["U_LEAD"][0]) if b["action_id"] == APPROVE)
            own_msg = _message(requests["U_OWN"][0])
            own_rid = next(b["value"] for b in _buttons(requests["U_OWN"][0]) if b["action_id"] == APPROVE)

            # 3. a wrong user's click is refused, privately, and audited
            status, _ = await slack.click("U_MALLORY", APPROVE, lead_rid, message=lead_msg)
            assert status == 200
            await slack.idle()
            refusal = slack.api.calls_to("response_url")[-2:]
            assert refusal[0].args["response_type"] == "ephemeral" and refusal[0].args["replace_original"] is False
            assert slack.api.calls_to("chat.update") == []
            data = core.status_data(pid)
            assert decisions(core, pid) == []
            assert any(e["action"] == "decision.refused" and e["actor"] == "U_MALLORY" for e in data["audit"])

            # 4. the right users approve; a double click and a Slack retry change nothing
            await slack.click("U_LEAD", APPROVE, lead_rid, message=lead_msg, trigger_id="trig.lead")
            await slack.idle()
            await slack.click("U_LEAD", APPROVE, lead_rid, message=lead_msg)  # double click
            await slack.click(
                "U_LEAD",
                APPROVE,
                lead_rid,
                message=lead_msg,
                trigger_id="trig.lead",
                headers={"X-Slack-Retry-Num": "1"},
            )  # Slack's retry of the first click
            await slack.idle()
            updated = slack.api.calls_to("chat.update")
            assert (
                updated
                and updated[0].args["channel"] == lead_msg["channel"]
                and updated[0].args["ts"] == lead_msg["ts"]
            )
            assert not [b for b in updated[0].args["blocks"] if b["type"] == "actions"]  # buttons gone
            assert "approved" in json.dumps(updated[0].args["blocks"]).lower()
            await slack.click("U_OWN", APPROVE, own_rid, message=own_msg)
            await slack.idle()
            data = core.status_data(pid)
            assert sorted(decisions(core, pid)) == [("U_LEAD", "approve"), ("U_OWN", "approve")]
            assert data["proposal"]["stage"] not in ("in_review", "draft")

            # 5. the requester is told in the thread of their classification message
            await core.deliver_due({"slack": slack.sender})
            threaded = [c for c in _posted_to(slack, "U_REQ") if c.args.get("thread_ts") == classification["ts"]]
            assert threaded, [c.args for c in _posted_to(slack, "U_REQ")]

            # 6. status shows the trail
            await slack.command("U_REQ", f"status {pid}")
            await slack.idle()
            status_msg = json.dumps(slack.api.calls_to("response_url")[-1].args["blocks"])
            assert ANSWERS["title"] in status_msg and "U_LEAD" in status_msg and "U_OWN" in status_msg

            # every payload the app sent is valid Block Kit within Slack's limits
            assert all_problems(slack.api.calls) == []

    asyncio.run(scenario())


def test_request_changes_then_edit_and_resubmit(core, settings):
    setup_roles(core)

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            pid = await propose_through_modal(slack, "U_REQ", ANSWERS)
            await core.deliver_due({"slack": slack.sender})
            call = _posted_to(slack, "U_LEAD")[0]
            rid = next(b["value"] for b in _buttons(call) if b["action_id"] == REQUEST_CHANGES)
            await slack.click("U_LEAD", REQUEST_CHANGES, rid, message=_message(call))
            opened = await slack.api.wait_for("views.open", 2)
            form = opened[-1].response["view"]
            assert form["callback_id"] == "decision"
            # an empty comment is refused inline, nothing recorded
            status, text = await slack.submit("U_LEAD", form, {"comment": "  "})
            assert json.loads(text) == {
                "response_action": "errors",
                "errors": {"comment": json.loads(text)["errors"]["comment"]},
            }
            assert decisions(core, pid) == []
            status, text = await slack.submit("U_LEAD", form, {"comment": "Say how agents report bad drafts."})
            assert json.loads(text)["response_action"] == "update"
            await slack.idle()
            assert core.status_data(pid)["proposal"]["stage"] == "changes_requested"
            await core.deliver_due({"slack": slack.sender})
            edit = [b for c in _posted_to(slack, "U_REQ") for b in _buttons(c) if b["action_id"] == EDIT_PROPOSAL]
            assert edit and edit[0]["value"] == str(pid)
            # the requester reopens the modal prefilled and resubmits
            before = len(slack.api.calls_to("views.open"))
            await slack.click("U_REQ", EDIT_PROPOSAL, str(pid), message=_message(_posted_to(slack, "U_REQ")[-1]))
            calls = await slack.api.wait_for("views.open", before + 1)
            view = calls[-1].response["view"]
            title_block = next(b for b in view["blocks"] if b.get("block_id") == "title")
            assert title_block["element"]["initial_value"] == ANSWERS["title"]
            changed = dict(
                ANSWERS, exception_path="Agents flag bad drafts with one click; the lead reviews them weekly."
            )
            updates = len(slack.api.calls_to("views.update"))
            await fill_modal(slack, "U_REQ", view, changed)
            await slack.idle()
            assert slack.api.calls_to("views.update")[updates:][-1].args["view"]["title"]["text"] == f"Proposal #{pid}"
            data = core.status_data(pid)
            assert data["proposal"]["stage"] == "in_review" and data["proposal"]["revision"] == 2
            # a stranger cannot reopen someone else's proposal
            await slack.click("U_MALLORY", EDIT_PROPOSAL, str(pid), message=_message(_posted_to(slack, "U_REQ")[-1]))
            await slack.idle()
            assert slack.api.calls_to("response_url")[-1].args["response_type"] == "ephemeral"
            assert len(slack.api.calls_to("views.open")) == before + 1
            assert all_problems(slack.api.calls) == []

    asyncio.run(scenario())
