"""`assess <id>` (DESIGN.md "Regulatory mapping"): the owner answers the regulatory
questions that decide the tier, on the console, Slack and Teams; the proposal is
re-classified, `eu_ai_act.answered` turns true, the portfolio's unanswered count drops,
and a changed risk reopens its approvals."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.domain.approval_rules import current
from bot.domain.errors import ProposalInvalid
from bot.domain.proposal import regulatory_answered
from bot.domain.usertext import plain
from handlers.teams.assess import SUBMIT
from handlers.teams.bot import GovbotTeamsBot
from tests.support.blockkit import all_problems, response_action_problems
from tests.support.bot_connector import TeamsTurns, card_text
from tests.support.console import chat
from tests.support.slack_platform import SlackHarness
from tests.support.stages import OWNER, STRANGER, seed

pytestmark = pytest.mark.db

ASKED = ["use_area", "profiles_people", "narrow_procedural_task", "prohibited_practices"]
ASKED += ["interacts_with_people", "generates_content"]


def verdict(core, pid: int) -> tuple[str, bool, int]:
    """(EU AI Act tier, `eu_ai_act.answered`, revision) as stored."""
    p = core.status_data(pid)["proposal"]
    return p["eu_tier"], regulatory_answered(p["answers"]), p["revision"]


def assessed_events(core, pid: int) -> list[dict]:
    return [e["detail"] for e in core.status_data(pid)["audit"] if e["action"] == "regulatory.assessed"]


def test_the_owner_answers_in_the_console_and_the_tier_follows(core):
    row = seed(core, "in_review", risk="low", data=["internal"])
    before = core.portfolio_data()["regulatory_unanswered"]
    # use area (none drops profiling and the narrow task), practices (Enter: none), talks to people, content
    screen, _ = chat(core, OWNER, [f"assess {row.id}", "none", "", "y", "n", "quit"])
    assert (verdict(core, row.id)[:2], core.portfolio_data()["regulatory_unanswered"]) == (
        ("limited", True),
        before - 1,
    )
    assert assessed_events(core, row.id)[0]["tier_before"] == "minimal"
    assert "EU AI Act tier minimal -> limited" in screen


def test_cancel_in_the_console_stores_nothing(core):
    row = seed(core, "in_review", risk="low", data=["internal"])
    screen, _ = chat(core, OWNER, [f"assess {row.id}", "cancel", "quit"])
    assert (verdict(core, row.id)[1], f"Stopped: nothing was stored for #{row.id}." in screen) == (False, True)


def test_someone_else_is_refused_and_the_refusal_is_audited(core):
    row = seed(core, "in_review", risk="low")
    reply = core.handle_command(STRANGER, "console", f"assess {row.id}")
    refusals = [e for e in core.status_data(row.id)["audit"] if e["action"] == "assess.refused"]
    assert (reply.message.kind, reply.assess, [e["actor"] for e in refusals]) == ("refused", None, [STRANGER])


def test_a_bad_answer_names_its_field_and_writes_nothing(core):
    row = seed(core, "in_review", risk="low")
    with pytest.raises(ProposalInvalid) as caught:
        core.assess(OWNER, row.id, {"use_area": "hr", "interacts_with_people": "no", "generates_content": "no"})
    assert ([e.key for e in caught.value.errors], verdict(core, row.id)[2], assessed_events(core, row.id)) == (
        ["use_area"],
        1,
        [],
    )


def test_answers_that_raise_the_risk_reopen_every_approval(core):
    row = seed(core, "approved", risk="low")
    answers = {
        "use_area": "employment",
        "profiles_people": "true",
        "prohibited_practices": [],
        "interacts_with_people": "false",
        "generates_content": "false",
    }
    core.assess(OWNER, row.id, answers)
    with core.uow() as uow:
        stage = uow.proposals.get(row.id).stage
        roles = sorted(r.role for r in current(uow.approvals.for_proposal(row.id)))
    assert (stage, "legal" in roles, assessed_events(core, row.id)[0]["risk_after"]) == ("in_review", True, "high")


def test_nothing_left_to_ask_says_so_with_the_tier_and_its_basis(core):
    row = seed(core, "in_review", risk="low", use_area="none", prohibited_practices=[])
    core.assess(OWNER, row.id, {"interacts_with_people": "false", "generates_content": "false"})
    reply = core.handle_command(OWNER, "console", f"assess {row.id}")
    assert plain(reply.message.text).startswith(
        f"Nothing to ask for #{row.id} Refund triage assistant: all regulatory questions that decide its tier "
        "are answered; tier minimal, basis: "
    )


def test_slack_opens_a_modal_with_exactly_those_inputs_and_stores_the_submission(core, settings):
    row = seed(core, "in_review", risk="low", data=["internal"])

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await slack.command(OWNER, f"assess {row.id}")
            view = (await slack.api.wait_for("views.open"))[0].response["view"]
            ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
            _, missing = await slack.submit(OWNER, view, {"use_area": "none"})
            _, done = await slack.submit(
                OWNER, view, {"use_area": "none", "interacts_with_people": True, "generates_content": False}
            )
            await slack.idle()
            return ids, json.loads(missing), done, all_problems(slack.api.calls_to("views.open"))

    ids, missing, done, problems = asyncio.run(scenario())
    assert (ids, problems) == (ASKED, [])
    assert (missing["response_action"], sorted(missing["errors"])) == (
        "errors",
        ["generates_content", "interacts_with_people"],
    )
    assert (json.loads(done)["response_action"], response_action_problems(done), verdict(core, row.id)[:2]) == (
        "update",
        [],
        ("limited", True),
    )


def test_teams_shows_a_card_with_those_inputs_and_stores_the_answers(core):
    row = seed(core, "in_review", risk="low", data=["internal"])
    turns = TeamsTurns(GovbotTeamsBot(core, core.settings))
    card = turns.say(OWNER, f"assess {row.id}")[0]
    ids = [e["id"] for e in card["body"] if e.get("type", "").startswith("Input.")]
    again = turns.click(OWNER, SUBMIT, {"proposal_id": row.id, "user": OWNER, "use_area": "nope"})
    done = turns.click(
        OWNER,
        SUBMIT,
        {"proposal_id": row.id, "user": OWNER, "use_area": "none", "interacts_with_people": "false"}
        | {"generates_content": "true", "prohibited_practices": ""},
    )
    assert ([a["verb"] for a in card["actions"]], ids) == (["assess.submit", "assess.cancel"], ASKED)
    assert "use_area: unknown value 'nope'" in card_text(again)
    assert ("EU AI Act tier minimal -> limited" in card_text(done), verdict(core, row.id)[:2]) == (
        True,
        ("limited", True),
    )
