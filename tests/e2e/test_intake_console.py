"""Intake in one paragraph in the console (`govbot chat`), on the real store, with the
real `openai` client against the local OpenAI stub and without an LLM: a quick
"reading your description…", one summary to confirm, then only what is still to ask."""

from __future__ import annotations

import io

import pytest

from bot.app import build_core
from handlers.console.chat import run_chat
from tests.support.intake_data import PARAGRAPH, good_reply
from tests.support.openai_stub import OpenAIStub, Reply, llm_settings

STILL_TO_ANSWER = [
    "me",  # owner
    "2",  # capacity: incremental
    "6",  # stack: automation
    "1",  # use area: none
    "",  # our role: keep the default (deployer)
]


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def llm_core(database_url, clock, stub):
    settings = llm_settings(stub.base_url, database_url)
    return build_core(settings, clock=clock)


def chat(core, lines: list[str]) -> str:
    screen = io.StringIO()
    assert run_chat(core, "U_ALICE", io.StringIO("\n".join(lines) + "\n"), screen) == 0
    return screen.getvalue()


def test_a_paragraph_is_read_then_confirmed_in_one_summary(llm_core, stub):
    stub.script(Reply(good_reply()))
    out = chat(llm_core, ["propose " + PARAGRAPH, "", *STILL_TO_ANSWER, "y", "quit"])
    assert [line for line in out.splitlines() if line.startswith(("Reading", "── What", "── Still", "Submitted"))] == [
        "Reading your description…",
        "── What I understood from your description ──",
        "── Still to answer (5) ──",
        "Submitted as proposal #1 (revision 1).",
    ]


def test_a_prefilled_answer_is_corrected_in_place_by_its_number(llm_core, stub):
    stub.script(Reply(good_reply()))
    chat(llm_core, ["propose " + PARAGRAPH, "3", "Customer care", "", *STILL_TO_ANSWER, "y", "quit"])
    with llm_core.uow() as uow:
        row = uow.extractions.get(1)
    assert (llm_core.status_data(1)["proposal"]["department"], row.changed) == ("Customer care", ["department"])


def test_describe_it_in_your_own_words_comes_first(llm_core, stub):
    stub.script(Reply(good_reply()))
    out = chat(llm_core, ["propose", PARAGRAPH, "cancel", "quit"])
    assert out.index("Describe it in your own words.") < out.index("Reading your description…")


def test_without_an_llm_the_lexicon_prefills_the_data_and_actions_it_finds(core):
    out = chat(core, ["propose " + PARAGRAPH, "cancel", "quit"])
    assert "Changes billing (refunds, credits, invoices, charges); Sends messages outside the company" in out


def test_a_timeout_says_so_and_goes_on_question_by_question(llm_core, stub):
    stub.script(Reply(good_reply(), sleep=2.0))
    out = chat(llm_core, ["propose " + PARAGRAPH, "cancel", "quit"])
    assert ("I could not read your description" in out, "── Basics ──" in out) == (True, True)
