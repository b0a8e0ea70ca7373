"""The real Bolt app over HTTP on 127.0.0.1: signatures, malformed payloads, retries,
App Home and start-up checks. The real slack_sdk client talks to a fake Web API."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from bot.messages.message import APPROVE
from handlers.base import StartupError
from handlers.web import build_web_app, check_startup
from tests.support.blockkit import all_problems
from tests.support.core_state import decisions, set_roles
from tests.support.proposals import interview_answers
from tests.support.slack_api import FakeSlackAPI
from tests.support.slack_conversation import propose_through_modal
from tests.support.slack_platform import SlackHarness

ANSWERS = interview_answers()


def run(coro):
    return asyncio.run(coro)


def _counts(core) -> tuple[int, int]:
    with core.uow() as uow:
        return uow.proposals.count(), len(uow.audit.recent(1000))


def test_unsigned_stale_and_malformed_requests_are_refused(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            before = _counts(core)
            form = {
                "command": "/aiwf",
                "text": "help",
                "user_id": "U1",
                "trigger_id": "t1",
                "response_url": slack.api.response_url(),
            }
            body = urlencode(form)
            statuses = [
                (await slack.post(body, secret="wrong-secret"))[0],
                (await slack.post(body, signature=""))[0],
                (await slack.post(body, timestamp=int(time.time()) - 600))[0],  # stale: older than 5 minutes
                (await slack.post(body, timestamp=int(time.time()) + 600))[0],  # from the future
            ]
            # a signed body that was changed after signing
            status, _ = await slack.post(
                body,
                signature=__import__("tests.support.slack_platform", fromlist=["sign"]).sign(
                    body + "x", int(time.time())
                ),
            )
            statuses.append(status)
            assert statuses == [401] * 5
            malformed = [
                await slack.post("payload=%7Bnot-json"),
                await slack.post(urlencode({"payload": json.dumps(["a", "list"])})),
                await slack.post("{not json", "application/json"),
                await slack.post(json.dumps({"no": "type"}), "application/json"),
                await slack.post(urlencode({"hello": "world"})),
                await slack.post(urlencode({"command": "/aiwf", "text": "help"})),  # no user
            ]
            assert [s for s, _ in malformed] == [400] * len(malformed)
            async with slack.session.post(
                slack.url, data=b"\xff\xfe", headers={"Content-Type": "application/x-www-form-urlencoded"}
            ) as resp:
                assert resp.status == 401  # unsigned garbage never gets as far as parsing
            await asyncio.sleep(0)
            await slack.idle()
            assert slack.api.calls == []  # nothing was sent to Slack
            assert _counts(core) == before  # and nothing changed in the database

    run(scenario())


def test_help_and_unknown_subcommand_answer_ephemerally(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            status, text = await slack.command("U1", "help")
            assert status == 200 and text == ""  # ack first, with nothing in it
            await slack.idle()
            status, _ = await slack.command("U1", "frobnicate")
            await slack.idle()
            answers = slack.api.calls_to("response_url")
            assert len(answers) == 2
            assert all(a.args["response_type"] == "ephemeral" for a in answers)
            assert "propose" in json.dumps(answers[0].args["blocks"])
            assert "propose" in json.dumps(answers[1].args["blocks"])  # unknown answers with help
            assert all_problems(slack.api.calls) == []

    run(scenario())


def test_command_retry_is_not_run_twice(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await slack.command("U1", "propose Draft support replies", trigger_id="trig.same")
            await slack.idle()
            status, _ = await slack.command(
                "U1",
                "propose Draft support replies",
                trigger_id="trig.same",
                headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
            )
            await slack.idle()
            assert status == 200
            assert len(slack.api.calls_to("views.open")) == 1

    run(scenario())


def test_app_home_shows_proposals_and_waiting_approvals(core, settings):

    async def scenario():
        set_roles(core, ("department_lead", "Support", ["U_LEAD"]))
        async with SlackHarness(core, settings) as slack:
            pid = await propose_through_modal(slack, "U_REQ", ANSWERS)
            await slack.home_opened("U_LEAD", event_id="Ev1")
            await slack.idle()
            await slack.home_opened("U_LEAD", event_id="Ev1", headers={"X-Slack-Retry-Num": "1"})
            await slack.idle()
            published = slack.api.calls_to("views.publish")
            assert len(published) == 1  # the retried event did not publish again
            view = published[0].args["view"]
            assert published[0].args["user_id"] == "U_LEAD" and view["type"] == "home"
            buttons = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
            approve = [b for b in buttons if b["action_id"] == APPROVE]
            assert len(approve) == 1
            # approving from App Home records the decision and re-publishes the home tab
            await slack.click("U_LEAD", APPROVE, approve[0]["value"], in_home=True)
            await slack.idle()
            assert len(slack.api.calls_to("views.publish")) == 2
            assert decisions(core, pid) == [("U_LEAD", "approve")]
            await slack.home_opened("U_REQ")
            await slack.idle()
            mine = slack.api.calls_to("views.publish")[-1].args["view"]
            assert ANSWERS["title"] in json.dumps(mine)
            assert all_problems(slack.api.calls) == []

    run(scenario())


def test_slow_work_failure_is_reported_to_the_user(core, settings, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("database went away")

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            monkeypatch.setattr(core, "handle_command", broken)
            status, _ = await slack.command("U1", "mine")
            assert status == 200
            await slack.idle()
            said = slack.api.calls_to("response_url")
            assert len(said) == 1 and said[0].args["response_type"] == "ephemeral"
            assert said[0].args["text"] == (
                "Sorry, running your command failed on our side (RuntimeError). Nothing was lost; please try again."
            )

    run(scenario())


def test_startup_names_missing_variables(settings):
    with pytest.raises(StartupError, match="SLACK_BOT_TOKEN.*MicrosoftAppId"):
        check_startup(settings, socket=False)
    only_token = settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-1")})
    with pytest.raises(StartupError, match="SLACK_SIGNING_SECRET"):
        check_startup(only_token, socket=False)
    with pytest.raises(StartupError, match="SLACK_APP_TOKEN"):
        check_startup(only_token, socket=True)
    only_secret = settings.model_copy(update={"slack_signing_secret": SecretStr("s")})
    with pytest.raises(StartupError, match="SLACK_BOT_TOKEN"):
        build_web_app(None, only_secret)


def test_healthz_and_slack_api_url(core, settings):
    async def scenario():
        api = FakeSlackAPI(token="xoxb-test-token")
        async with SlackHarness(core, settings, api) as slack:
            async with slack.session.get(slack.url.replace("/slack/events", "/healthz")) as resp:
                assert resp.status == 200 and (await resp.json()) == {"ok": True}
            result = await slack.front_end.client.auth_test()
            assert result["user_id"] == "UBOT"  # the real client reached the fake through SLACK_API_URL

    run(scenario())


def test_forged_interactions_are_acked_reported_and_change_nothing(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            before = _counts(core)
            forged_view = {
                "id": "VFORGED",
                "type": "modal",
                "callback_id": "interview",
                "blocks": [],
                "private_metadata": json.dumps({"p": "no_such_page", "a": {}}),
            }
            status, _ = await slack.submit("U1", forged_view, {})
            assert status == 200
            not_ours = dict(forged_view, private_metadata="garbage")
            status, text = await slack.submit("U1", not_ours, {})
            assert status == 200 and json.loads(text)["response_action"] == "update"
            status, _ = await slack.click("U1", APPROVE, "not-a-number", message={"channel": "D1", "ts": "1.1"})
            assert status == 200
            status, _ = await slack.click("U1", APPROVE, "999999", message={"channel": "D1", "ts": "1.1"})
            assert status == 200
            await slack.idle()
            told = [c.args.get("text", "") for c in slack.api.calls if c.method in ("response_url", "chat.postMessage")]
            assert len(told) == 3 and all(told), told  # each user was told what went wrong
            assert "999999" in told[-1]
            assert slack.api.calls_to("chat.update") == [] and _counts(core) == before

    run(scenario())


def test_rate_limited_web_api_is_retried_for_interactive_calls(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            slack.api.fail_next("views.open", status=429, retry_after=0)
            await slack.command("U1", "propose Tag invoices")
            await slack.idle()
            assert [c.status for c in slack.api.calls if c.method == "views.open"] == [429, 200]
            slack.api.fail_next("views.open", error="expired_trigger_id")
            await slack.command("U1", "propose Tag invoices")
            await slack.idle()
            said = slack.api.calls_to("response_url")[-1]
            assert said.args["response_type"] == "ephemeral" and "try again" in said.args["text"]

    run(scenario())


@pytest.mark.slow
def test_portfolio_comes_with_its_chart_uploaded_to_the_dm(core, settings):

    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await asyncio.to_thread(core.submit, "U_REQ", "slack", dict(ANSWERS))
            await slack.command("UGOV", "portfolio")
            await slack.idle()
            summary = slack.api.calls_to("response_url")[-1]
            assert "blocks" in summary.args and "portfolio" in summary.args["text"].lower()
            done = slack.api.calls_to("files.completeUploadExternal")
            assert len(done) == 1 and done[0].args["channel_id"] == "DGOV"
            (data,) = slack.api.uploads.values()
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            # without the files:write scope the summary still arrives, and the user hears why no chart
            slack.api.fail_next("files.getUploadURLExternal", error="missing_scope")
            await slack.command("UGOV", "portfolio")
            await slack.idle()
            said = [c.args.get("text", "") for c in slack.api.calls_to("response_url")[-2:]]
            assert "blocks" in slack.api.calls_to("response_url")[-2].args and "missing_scope" in said[-1]
            assert all_problems(slack.api.calls) == []

    run(scenario())
