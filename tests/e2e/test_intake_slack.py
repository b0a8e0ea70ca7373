"""Intake in one paragraph on Slack: signed requests to the real server, the real
slack_sdk client against the fake Web API, the real `openai` client against the local
OpenAI stub, the real store.

`/aiwf propose <paragraph>` is acknowledged at once; the modal opens saying it is
reading and is updated (`views.update`) with one summary to confirm; a timeout updates
it with the plain interview and what the lexicon found; `/aiwf propose` alone starts
with "Describe it in your own words" (`block_id` `paragraph`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.app import build_core
from tests.support.blockkit import all_problems
from tests.support.intake_data import GOOD, PARAGRAPH, STILL_TO_ASK, good_reply
from tests.support.openai_stub import OpenAIStub, Reply, llm_settings
from tests.support.slack_platform import SlackHarness

ACTIONS_READ = ["change_billing", "draft", "send_external"]  # the words raise send_external too
REST = {
    "owner": "U_OWN",
    "capacity": "incremental",
    "stack": "automation",
    "use_area": "none",
    "ai_act_role": "deployer",
}


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


def llm_core(database_url, clock, stub, timeout_s: float):
    settings = llm_settings(stub.base_url, database_url, llm_timeout_s=timeout_s)
    return build_core(settings, clock=clock), settings


@pytest.fixture
def llm(database_url, clock, stub):
    return llm_core(database_url, clock, stub, 0.5)


@pytest.fixture
def slow_llm(database_url, clock, stub):
    """A model that takes seconds and still answers within its timeout."""
    return llm_core(database_url, clock, stub, 10.0)


def inputs(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def page_of(view: dict[str, Any]) -> str:
    return json.loads(view.get("private_metadata") or "{}").get("p", "")


async def propose(slack: SlackHarness, text: str) -> tuple[tuple[int, str], dict[str, Any], dict[str, Any]]:
    """Type the command; returns (the ack, the view opened, the view it was updated to)."""
    ack = await slack.command("U_REQ", text)
    opened = (await slack.api.wait_for("views.open", 1))[-1]
    await slack.idle()
    updated = slack.api.calls_to("views.update")[-1].args["view"]
    return ack, opened.response["view"], {**updated, "id": opened.response["view"]["id"]}


def run(scenario):
    return asyncio.run(scenario())


def test_the_command_is_acknowledged_at_once_and_the_modal_says_it_is_reading(llm, stub):
    core, settings = llm
    stub.script(Reply(good_reply()))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            ack, opened, _updated = await propose(slack, "propose " + PARAGRAPH)
            return ack, opened["callback_id"], opened["blocks"][0]["text"]["text"]

    assert run(scenario) == ((200, ""), "interview.reading", "Reading your description…")


def test_the_ack_and_the_reading_modal_come_before_the_llm_has_answered(slow_llm, stub):
    core, settings = slow_llm
    stub.script(Reply(good_reply(), sleep=3.0))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            ack = await slack.command("U_REQ", "propose " + PARAGRAPH)
            await slack.api.wait_for("views.open", 1)
            before = len(slack.api.calls_to("views.update"))
            await slack.idle()
            return ack, before, page_of(slack.api.calls_to("views.update")[-1].args["view"])

    assert run(scenario) == ((200, ""), 0, "summary")


def test_the_modal_is_updated_with_the_summary_when_the_reading_is_done(llm, stub):
    core, settings = llm
    stub.script(Reply(good_reply()))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            _ack, _opened, summary = await propose(slack, "propose " + PARAGRAPH)
            return page_of(summary), inputs(summary)[-len(STILL_TO_ASK) :], summary["submit"]["text"]

    assert run(scenario) == ("summary", STILL_TO_ASK, "Submit")


def test_each_prefilled_answer_shows_the_words_it_came_from(llm, stub):
    core, settings = llm
    stub.script(Reply(good_reply()))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            _ack, _opened, summary = await propose(slack, "propose " + PARAGRAPH)
            return next(b for b in summary["blocks"] if b.get("block_id") == "escalation_path")

    block = run(scenario)
    assert (block["element"]["initial_value"], block["hint"]["text"]) == (
        GOOD["escalation_path"][0],
        f"From your words: “{GOOD['escalation_path'][1]}”",
    )


def test_confirming_the_summary_submits_the_proposal_and_settles_the_extraction(llm, stub):
    core, settings = llm
    stub.script(Reply(good_reply()))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            _ack, _opened, summary = await propose(slack, "propose " + PARAGRAPH)
            read = {k: v[0] for k, v in GOOD.items()} | {"description": PARAGRAPH, "actions": ACTIONS_READ}
            answers = {**read, **REST, "department": "Customer care"}
            status, text = await slack.submit(
                "U_REQ", summary, {k: answers[k] for k in inputs(summary) if k in answers}
            )
            await slack.idle()
            result = slack.api.calls_to("views.update")[-1].args["view"]["title"]["text"]
            return status, json.loads(text)["response_action"], result, all_problems(slack.api.calls)

    assert run(scenario) == (200, "update", "Proposal #1", [])
    with core.uow() as uow:
        row = uow.extractions.get(1)
    assert (row.proposal_id, row.changed, core.status_data(1)["proposal"]["answers"]["description"]) == (
        1,
        ["department"],
        PARAGRAPH,
    )


def test_a_timeout_updates_the_modal_with_the_plain_interview_and_what_the_lexicon_found(llm, stub):
    core, settings = llm
    stub.script(Reply(good_reply(), sleep=2.0))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            _ack, _opened, updated = await propose(slack, "propose " + PARAGRAPH)
            return page_of(updated), updated["blocks"][0]["elements"][0]["text"].startswith("I could not read")

    assert run(scenario) == ("basics", True)


def test_an_http_error_keeps_the_paragraph_as_the_description(llm, stub):
    core, settings = llm
    stub.script(Reply(status=500))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            _ack, _opened, updated = await propose(slack, "propose " + PARAGRAPH)
            return next(b for b in updated["blocks"] if b.get("block_id") == "description")

    assert run(scenario)["element"]["initial_value"] == PARAGRAPH


def test_propose_alone_opens_describe_it_in_your_own_words(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await slack.command("U_REQ", "propose")
            view = (await slack.api.wait_for("views.open", 1))[-1].response["view"]
            return page_of(view), inputs(view)

    assert run(scenario) == ("paragraph", ["paragraph"])


def test_the_paragraph_step_reads_the_words_and_updates_the_modal(llm, stub):
    core, settings = llm
    stub.script(Reply(good_reply()))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await slack.command("U_REQ", "propose")
            view = (await slack.api.wait_for("views.open", 1))[-1].response["view"]
            _status, text = await slack.submit("U_REQ", view, {"paragraph": PARAGRAPH})
            await slack.idle()
            updated = slack.api.calls_to("views.update")[-1].args
            return json.loads(text)["view"]["callback_id"], updated["view_id"] == view["id"], page_of(updated["view"])

    assert run(scenario) == ("interview.reading", True, "summary")


def test_an_empty_paragraph_step_goes_on_question_by_question(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            await slack.command("U_REQ", "propose")
            view = (await slack.api.wait_for("views.open", 1))[-1].response["view"]
            _status, text = await slack.submit("U_REQ", view, {})
            return page_of(json.loads(text)["view"])

    assert run(scenario) == "basics"


def test_without_an_llm_the_lexicon_prefills_the_data_and_actions_it_finds(core, settings):
    async def scenario():
        async with SlackHarness(core, settings) as slack:
            _ack, _opened, summary = await propose(slack, "propose " + PARAGRAPH)
            data = next(b for b in summary["blocks"] if b.get("block_id") == "data")
            return page_of(summary), sorted(o["value"] for o in data["element"]["initial_options"])

    assert run(scenario) == ("summary", ["customer", "financial"])
