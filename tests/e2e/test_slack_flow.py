"""One whole conversation through Slack: the real Bolt app over HTTP, signed requests,
the real slack_sdk client against a fake Web API, the real store.

propose -> modal -> submit -> requester told -> approvers DM'd -> a wrong user's click
refused -> right users approve -> requester notified in the thread -> status shows the
trail; retries and double clicks change nothing.
"""

from __future__ import annotations

import asyncio
import json

from bot.messages.message import APPROVE, EDIT_PROPOSAL, REJECT, REQUEST_CHANGES
from tests.support.blockkit import all_problems
from tests.support.core_state import decisions, set_roles
from tests.support.proposals import interview_answers
from tests.support.slack_conversation import buttons_of, fill_modal, message_of, posted_to, propose_through_modal
from tests.support.slack_platform import SlackHarness

ANSWERS = interview_answers()


def test_whole_conversation(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

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
            assert sent == 3  # the classification to the requester, a request to each approver
            told = posted_to(slack, "U_REQ")
            assert len(told) == 1 and "medium" in json.dumps(told[0].args["blocks"]).lower()
            classification = message_of(told[0])
            requests = {u: posted_to(slack, u) for u in ("U_OWN", "U_LEAD")}
            assert all(len(v) == 1 for v in requests.values()), requests
            for calls in requests.values():
                assert {b["action_id"] for b in buttons_of(calls[0])} == {APPROVE, REJECT, REQUEST_CHANGES}
            lead_msg = message_of(requests["U_LEAD"][0])
            lead_rid = next(b["value"] for b in buttons_of(requests["U_LEAD"][0]) if b["action_id"] == APPROVE)
            own_msg = message_of(requests["U_OWN"][0])
            own_rid = next(b["value"] for b in buttons_of(requests["U_OWN"][0]) if b["action_id"] == APPROVE)

            # 3. a wrong user's click is refused, privately, and audited
            status, _ = await slack.click("U_MALLORY", APPROVE, lead_rid, message=lead_msg)
            assert status == 200
            await slack.idle()
            refusal = slack.api.calls_to("response_url")[-2:]
            assert refusal[0].args["response_type"] == "ephemeral" and refusal[0].args["replace_original"] is False
            assert slack.api.calls_to("chat.update") == []
            data = core.status_data(pid)
            assert decisions(core, pid) == []
            refused = [e["actor"] for e in data["audit"] if e["action"] == "decision.refused"]
            assert refused == ["U_MALLORY"]

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
            assert {(u.args["channel"], u.args["ts"]) for u in updated} == {(lead_msg["channel"], lead_msg["ts"])}
            assert updated[0].args["blocks"] == [  # buttons gone
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*Approved by &lt;@U_LEAD&gt; at 09:00 (2026-11-16 UTC)*",
                        "verbatim": True,
                    },
                },
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": f"*Proposal*\n#{pid} {ANSWERS['title']}", "verbatim": True},
                        {"type": "mrkdwn", "text": "*Role*\ndepartment lead", "verbatim": True},
                        {"type": "mrkdwn", "text": f"*Request id*\n{lead_rid}", "verbatim": True},
                    ],
                },
            ]
            await slack.click("U_OWN", APPROVE, own_rid, message=own_msg)
            await slack.idle()
            data = core.status_data(pid)
            assert sorted(decisions(core, pid)) == [("U_LEAD", "approve"), ("U_OWN", "approve")]
            assert data["proposal"]["stage"] == "pilot"

            # 5. the requester is told in the thread of their classification message
            await core.deliver_due({"slack": slack.sender})
            threaded = [c for c in posted_to(slack, "U_REQ") if c.args.get("thread_ts") == classification["ts"]]
            assert [c.args["text"] for c in threaded] == [
                f"Approved by &lt;@U_LEAD&gt; at 09:00 (2026-11-16 UTC) as department lead — #{pid} {ANSWERS['title']}",
                f"Approved by &lt;@U_OWN&gt; at 09:00 (2026-11-16 UTC) as workflow owner — #{pid} {ANSWERS['title']}",
                f"All approvals are in: #{pid} {ANSWERS['title']} moves to pilot.",
            ]

            # 6. status shows the trail
            await slack.command("U_REQ", f"status {pid}")
            await slack.idle()
            status_msg = json.dumps(slack.api.calls_to("response_url")[-1].args["blocks"])
            assert ANSWERS["title"] in status_msg and "U_LEAD" in status_msg and "U_OWN" in status_msg

            # every payload the app sent is valid Block Kit within Slack's limits
            assert all_problems(slack.api.calls) == []

    asyncio.run(scenario())


def test_request_changes_then_edit_and_resubmit(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            pid = await propose_through_modal(slack, "U_REQ", ANSWERS)
            await core.deliver_due({"slack": slack.sender})
            call = posted_to(slack, "U_LEAD")[0]
            rid = next(b["value"] for b in buttons_of(call) if b["action_id"] == REQUEST_CHANGES)
            await slack.click("U_LEAD", REQUEST_CHANGES, rid, message=message_of(call))
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
            edit = [b for c in posted_to(slack, "U_REQ") for b in buttons_of(c) if b["action_id"] == EDIT_PROPOSAL]
            assert [b["value"] for b in edit] == [str(pid)]
            # the requester reopens the modal prefilled and resubmits
            before = len(slack.api.calls_to("views.open"))
            await slack.click("U_REQ", EDIT_PROPOSAL, str(pid), message=message_of(posted_to(slack, "U_REQ")[-1]))
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
            await slack.click("U_MALLORY", EDIT_PROPOSAL, str(pid), message=message_of(posted_to(slack, "U_REQ")[-1]))
            await slack.idle()
            assert slack.api.calls_to("response_url")[-1].args["response_type"] == "ephemeral"
            assert len(slack.api.calls_to("views.open")) == before + 1
            assert all_problems(slack.api.calls) == []

    asyncio.run(scenario())
