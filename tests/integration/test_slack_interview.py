"""The interview modal and the decision modals over HTTP: inline errors, follow-ups,
drafts, duplicate submissions, large answers and governance overrides."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml

from bot.messages.message import APPROVE, REJECT
from tests.support.blockkit import all_problems, response_action_problems
from tests.support.core_state import decisions, set_roles
from tests.support.proposals import interview_answers
from tests.support.slack_conversation import buttons_of, fill_modal, message_of, posted_to, propose_through_modal
from tests.support.slack_platform import SlackHarness

ANSWERS = interview_answers()

ROOT = Path(__file__).resolve().parents[2]


def run(coro):
    return asyncio.run(coro)


def _count(core) -> int:
    with core.uow() as uow:
        return uow.proposals.count()


async def _open(slack: SlackHarness, user: str, text: str = "propose") -> dict:
    before = len(slack.api.calls_to("views.open"))
    await slack.command(user, text)
    view = (await slack.api.wait_for("views.open", before + 1))[-1].response["view"]
    if json.loads(view["private_metadata"])["p"] == "paragraph":  # leave "Describe it" empty: page by page
        _, text = await slack.submit(user, view, {})
        view = {**json.loads(text)["view"], "id": view["id"]}
    return view


def test_invalid_answers_come_back_inline_and_nothing_is_stored(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            view = await _open(slack, "U_REQ")
            status, text = await slack.submit("U_REQ", view, {k: v for k, v in ANSWERS.items() if k != "title"})
            assert status == 200
            ack = json.loads(text)
            assert ack["response_action"] == "errors" and set(ack["errors"]) == {"title"}
            # an enum value the form never offered (a forged payload) is refused with what is allowed
            status, text = await slack.submit("U_REQ", view, dict(ANSWERS, capacity="moonshot"))
            ack = json.loads(text)
            assert set(ack["errors"]) == {"capacity"} and "incremental" in ack["errors"]["capacity"]
            status, text = await slack.submit("U_REQ", view, dict(ANSWERS, title="x" * 200))
            assert set(json.loads(text)["errors"]) == {"title"}
            await slack.idle()
            assert _count(core) == 0
            # the same view, fixed, moves on to the next step
            status, text = await slack.submit("U_REQ", view, ANSWERS)
            ack = json.loads(text)
            assert ack["response_action"] == "update" and ack["view"]["callback_id"] == "interview"
            assert response_action_problems(text) == []

    run(scenario())


def test_followup_asks_again_for_weak_answers_then_submits(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            view = await _open(slack, "U_REQ")
            weak = dict(ANSWERS, value_metric="", rollback_path="tbd")
            seen: list[str] = []
            ack = await fill_modal(slack, "U_REQ", view, weak, seen)
            assert seen[-1] == "followup" and seen[0] == "basics"
            assert ack["response_action"] == "update"
            await slack.idle()
            result = slack.api.calls_to("views.update")[-1].args["view"]
            assert result["title"]["text"].startswith("Proposal #")
            pid = int(result["title"]["text"].removeprefix("Proposal #"))
            data = core.status_data(pid)
            assert "unmeasurable_success" in data["classification"]["stop_conditions"]
            assert data["proposal"]["answers"]["rollback_path"] == "tbd"  # asked again, kept as given

    run(scenario())


def test_followup_page_lists_only_the_weak_keys(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            view = await _open(slack, "U_REQ")
            weak = dict(ANSWERS, value_metric="tbd", rollback_path="")
            while True:
                keys = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
                _, text = await slack.submit("U_REQ", view, {k: weak[k] for k in keys if k in weak})
                nxt = json.loads(text)["view"]
                if json.loads(nxt.get("private_metadata") or "{}").get("p") == "followup":
                    break
                view = {**nxt, "id": view["id"]}
            asked = [b["block_id"] for b in nxt["blocks"] if b["type"] == "input"]
            assert sorted(asked) == ["rollback_path", "value_metric"]
            assert nxt["submit"]["text"] == "Submit"

    run(scenario())


def test_closing_saves_a_draft_and_propose_resumes_it(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            view = await _open(slack, "U_REQ", "propose Invoice tagger")
            title = next(b for b in view["blocks"] if b.get("block_id") == "title")
            assert title["element"]["initial_value"] == "Invoice tagger"  # seeded from the command text
            _, text = await slack.submit("U_REQ", view, ANSWERS)
            second = {**json.loads(text)["view"], "id": view["id"]}
            status, _ = await slack.close("U_REQ", second, {"audience": "customer"})
            assert status == 200
            await slack.idle()
            draft = core.load_draft("slack", "U_REQ")
            assert draft["answers"]["title"] == ANSWERS["title"] and draft["answers"]["audience"] == "customer"
            resumed = await _open(slack, "U_REQ")
            by_id = {b["block_id"]: b for b in resumed["blocks"] if b["type"] == "input"}
            assert by_id["title"]["element"]["initial_value"] == ANSWERS["title"]
            assert by_id["owner"]["element"]["initial_user"] == ANSWERS["owner"]
            assert _count(core) == 0

    run(scenario())


def test_double_submit_and_retries_create_one_proposal(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            view = await _open(slack, "U_REQ")
            keys_seen = []
            while True:  # walk to the last step without submitting it
                keys = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
                keys_seen.append(keys)
                if view["submit"]["text"] == "Submit":
                    break
                _, text = await slack.submit("U_REQ", view, {k: ANSWERS[k] for k in keys if k in ANSWERS})
                view = {**json.loads(text)["view"], "id": view["id"]}
            final = {k: ANSWERS[k] for k in keys_seen[-1] if k in ANSWERS}
            await asyncio.gather(*(slack.submit("U_REQ", view, final) for _ in range(3)))  # impatient clicks
            await slack.submit("U_REQ", view, final, trigger_id="trig.final")
            await slack.submit("U_REQ", view, final, trigger_id="trig.final", headers={"X-Slack-Retry-Num": "1"})
            await slack.idle()
            assert _count(core) == 1
            titles = {c.args["view"]["title"]["text"] for c in slack.api.calls_to("views.update")}
            assert titles == {"Proposal #1"}
            sent = await core.deliver_due({"slack": slack.sender})
            assert sent == 3  # one classification, two approval requests: nothing twice

    run(scenario())


def test_long_answers_travel_through_the_draft(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))
    long_answers = dict(ANSWERS, description="Reads each ticket. " * 150, current_process="By hand, slowly. " * 170)

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            view = await _open(slack, "U_REQ")
            _, text = await slack.submit("U_REQ", view, long_answers)
            nxt = json.loads(text)["view"]
            state = json.loads(nxt["private_metadata"])
            assert state.get("d") == 1 and "a" not in state  # too big for private_metadata
            await fill_modal(slack, "U_REQ", {**nxt, "id": view["id"]}, long_answers)
            await slack.idle()
            with core.uow() as uow:
                row = uow.proposals.list()[0]
            assert row.answers["description"] == long_answers["description"].strip()
            assert row.answers["current_process"] == long_answers["current_process"].strip()
            assert all_problems(slack.api.calls) == []

    run(scenario())


def test_reject_needs_a_comment_and_strangers_are_refused(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            pid = await propose_through_modal(slack, "U_REQ", ANSWERS)
            await core.deliver_due({"slack": slack.sender})
            call = posted_to(slack, "U_LEAD")[0]
            rid = next(b["value"] for b in buttons_of(call) if b["action_id"] == REJECT)
            opened = len(slack.api.calls_to("views.open"))
            # a stranger gets no form: a private refusal, audited
            await slack.click("U_MALLORY", REJECT, rid, message=message_of(call))
            await slack.idle()
            assert len(slack.api.calls_to("views.open")) == opened
            assert slack.api.calls_to("response_url")[-1].args["response_type"] == "ephemeral"
            audit = core.status_data(pid)["audit"]
            assert [(e["action"], e["actor"]) for e in audit if e["action"].startswith("decision")] == [
                ("decision.refused", "U_MALLORY")
            ]
            # the approver gets the comment form
            await slack.click("U_LEAD", REJECT, rid, message=message_of(call))
            form = (await slack.api.wait_for("views.open", opened + 1))[-1].response["view"]
            assert [b["block_id"] for b in form["blocks"] if b["type"] == "input"] == ["comment"]
            _, text = await slack.submit("U_LEAD", form, {"comment": "Too risky for customer data today."})
            assert json.loads(text)["response_action"] == "update"
            await slack.idle()
            assert decisions(core, pid) == [("U_LEAD", "reject")]
            assert core.status_data(pid)["proposal"]["stage"] == "rejected"
            shown = slack.api.calls_to("views.update")[-1].args["view"]
            assert shown["title"]["text"] == "Done"
            update = slack.api.calls_to("chat.update")[-1]
            assert update.args["ts"] == call.response["ts"]
            assert not [b for b in update.args["blocks"] if b["type"] == "actions"]

    run(scenario())


def test_governance_decides_for_the_approver_only_with_a_reason(core, settings):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            pid = await propose_through_modal(slack, "U_REQ", ANSWERS)
            await core.deliver_due({"slack": slack.sender})
            call = posted_to(slack, "U_LEAD")[0]
            rid = next(b["value"] for b in buttons_of(call) if b["action_id"] == APPROVE)
            # governance clicking Approve on someone else's request: refused, offered the override form
            await slack.click("UGOV", APPROVE, rid, message=message_of(call))
            await slack.idle()
            said = slack.api.calls_to("response_url")[-2:]
            assert all(s.args["response_type"] == "ephemeral" for s in said)
            offer = [e for s in said for b in s.args.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]
            assert [o["action_id"] for o in offer] == ["approval.override"]
            assert decisions(core, pid) == []
            opened = len(slack.api.calls_to("views.open"))
            await slack.click("UGOV", offer[0]["action_id"], offer[0]["value"], message=message_of(call))
            form = (await slack.api.wait_for("views.open", opened + 1))[-1].response["view"]
            assert [b["block_id"] for b in form["blocks"] if b["type"] == "input"] == ["comment", "override_reason"]
            _, text = await slack.submit("UGOV", form, {"comment": ""})
            assert set(json.loads(text)["errors"]) == {"override_reason"}
            _, text = await slack.submit("UGOV", form, {"override_reason": "Lead on leave; launch is due today."})
            await slack.idle()
            assert decisions(core, pid) == [("UGOV", "approve")]
            audit = [e for e in core.status_data(pid)["audit"] if e["action"].startswith("decision")]
            assert [(e["action"], e["detail"].get("override_reason")) for e in audit] == [
                ("decision.refused", None),
                ("decision.approve", "Lead on leave; launch is due today."),
            ]
            assert all_problems(slack.api.calls) == []

    run(scenario())


def test_manifest_matches_the_app():
    manifest = yaml.safe_load((ROOT / "handlers/slack/manifest.yml").read_text())
    assert (ROOT / "slack-manifest.yml").read_text() == (ROOT / "handlers/slack/manifest.yml").read_text()
    features, settings_ = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == ["/aiwf"]
    urls = {
        features["slash_commands"][0]["url"],
        settings_["interactivity"]["request_url"],
        settings_["event_subscriptions"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert settings_["interactivity"]["is_enabled"] is True
    assert settings_["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "chat:write",
        "commands",
        "files:write",
        "im:write",
        "users:read",
    ]
    assert features["slash_commands"][0]["should_escape"] is True  # mentions arrive as <@U123|name>


def test_value_checkin_form(core, settings):
    from bot.messages.message import CHECKIN_OPEN

    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            pid = await propose_through_modal(slack, "U_REQ", ANSWERS)
            for request in core.status_data(pid)["approvals"]:
                await asyncio.to_thread(core.decide, request["approver"], request["id"], "approve")
            assert core.status_data(pid)["proposal"]["stage"] == "pilot"
            message = {"channel": "D_OWN", "ts": "1.1"}
            opened = len(slack.api.calls_to("views.open"))
            await slack.click("U_OWN", CHECKIN_OPEN, str(pid), message=message)
            form = (await slack.api.wait_for("views.open", opened + 1))[-1].response["view"]
            _, text = await slack.submit("U_OWN", form, {"value": " "})
            assert set(json.loads(text)["errors"]) == {"value"}
            _, text = await slack.submit("U_OWN", form, {"value": "7"})
            await slack.idle()
            assert [c["value"] for c in core.status_data(pid)["checkins"]] == ["7"]
            # someone else's check-in is refused, in the form, and nothing is stored
            await slack.click("U_MALLORY", CHECKIN_OPEN, str(pid), message=message)
            form = (await slack.api.wait_for("views.open", opened + 2))[-1].response["view"]
            await slack.submit("U_MALLORY", form, {"value": "100"})
            await slack.idle()
            shown = slack.api.calls_to("views.update")[-1].args["view"]
            assert "owner" in json.dumps(shown).lower()
            assert len(core.status_data(pid)["checkins"]) == 1
            assert all_problems(slack.api.calls) == []

    run(scenario())
