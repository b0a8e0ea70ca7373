"""Intake in one paragraph on Teams over HTTP: the real server and botbuilder client, a
fake Bot Connector recording every card, the real `openai` client against the local
OpenAI stub, the real store.

`propose <paragraph>` posts "reading your description…" at once, then the summary
card; `propose` alone starts with "Describe it in your own words" (input id
`paragraph`); a timeout continues with the plain interview and what the lexicon found.
"""

from __future__ import annotations

import httpx
import pytest

from bot.app import build_core
from handlers.teams import cards
from handlers.teams.intake import READING
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    answered,
    card_action,
    card_inputs,
    card_text,
    execute_invoke,
    forbid_internet,
    validate_card,
)
from tests.support.intake_data import GOOD, PARAGRAPH, STILL_TO_ASK, good_reply
from tests.support.openai_stub import OpenAIStub, Reply, llm_settings

USER = "29:intake-requester"
REST = {"owner": "29:owner", "capacity": "incremental", "stack": "automation", "use_area": "none"}


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def settings(database_url, stub):
    return llm_settings(stub.base_url, database_url, teams_enabled=True, govbot_env="local")


@pytest.fixture
def teams(settings, clock):
    core = build_core(settings, clock=clock)
    with FakeBotConnector() as connector, ServerThread(build_web_app(core, settings)) as server:

        def post(body):
            response = httpx.post(f"{server.url}/api/messages", json=body, timeout=30)
            assert response.status_code in (200, 201), response.text
            answered(server)  # a message is answered after its turn
            return response.json() if response.content else {}

        def say(text):
            before = len(connector.sent_to(f"a:personal-{USER}"))
            post(activity(connector.url, USER, text=text, mention_bot=True))
            sent = connector.sent_to(f"a:personal-{USER}")[before:]
            return [validate_card(a["content"]) for c in sent for a in c.body.get("attachments") or ()]

        def click(verb, data):
            before = len(connector.sent_to(f"a:personal-{USER}"))
            body = post(execute_invoke(connector.url, USER, verb, data))
            sent = connector.sent_to(f"a:personal-{USER}")[before:]
            posted = [validate_card(a["content"]) for c in sent for a in c.body.get("attachments") or ()]
            return validate_card(body["value"]), posted

        yield core, say, click


def values(card) -> dict:
    return {k: i.get("value", "") for k, i in card_inputs(card).items()}


def test_propose_with_a_paragraph_says_it_is_reading_then_sends_the_summary(teams, stub):
    _core, say, _click = teams
    stub.script(Reply(good_reply()))
    reading, summary = say("propose " + PARAGRAPH)
    assert (card_text(reading).splitlines()[0], list(card_inputs(summary))[-len(STILL_TO_ASK) :]) == (
        READING,
        STILL_TO_ASK,
    )


def test_the_summary_shows_each_answer_with_the_words_it_came_from(teams, stub):
    _core, say, _click = teams
    stub.script(Reply(good_reply()))
    _reading, summary = say("propose " + PARAGRAPH)
    assert (
        card_inputs(summary)["autonomy"]["value"],
        f"From your words: “{GOOD['autonomy'][1]}”" in card_text(summary),
    ) == (
        "human_approves",
        True,
    )


def test_confirming_the_summary_card_submits_the_proposal(teams, stub):
    core, say, click = teams
    stub.script(Reply(good_reply()))
    _reading, summary = say("propose " + PARAGRAPH)
    data = card_action(summary, cards.INTERVIEW_NEXT)["data"]
    done, _posted = click(cards.INTERVIEW_NEXT, {**data, **values(summary), **REST, "ai_act_role": "deployer"})
    with core.uow() as uow:
        row = uow.extractions.get(1)
    assert (card_text(done).splitlines()[0], row.proposal_id, row.changed) == (
        "Proposal #1 submitted: high risk.",
        1,
        [],
    )


def test_propose_alone_starts_with_describe_it_in_your_own_words(teams):
    _core, say, _click = teams
    (card,) = say("propose")
    assert (list(card_inputs(card)), card_action(card, cards.INTERVIEW_NEXT)["data"]["page"]) == (
        ["paragraph"],
        "paragraph",
    )


def test_the_paragraph_card_posts_reading_then_answers_with_the_summary(teams, stub):
    _core, say, click = teams
    stub.script(Reply(good_reply()))
    (describe,) = say("propose")
    data = card_action(describe, cards.INTERVIEW_NEXT)["data"]
    summary, posted = click(cards.INTERVIEW_NEXT, {**data, "paragraph": PARAGRAPH})
    assert (
        [card_text(c).splitlines()[0] for c in posted],
        card_action(summary, cards.INTERVIEW_NEXT)["data"]["page"],
    ) == (
        [READING],
        "summary",
    )


def test_an_empty_paragraph_card_goes_on_question_by_question(teams):
    _core, say, click = teams
    (describe,) = say("propose")
    data = card_action(describe, cards.INTERVIEW_NEXT)["data"]
    basics, _posted = click(cards.INTERVIEW_NEXT, {**data, "paragraph": ""})
    assert card_action(basics, cards.INTERVIEW_NEXT)["data"]["page"] == "basics"


def test_a_timeout_continues_with_the_plain_interview_and_what_the_lexicon_found(teams, stub):
    _core, say, _click = teams
    stub.script(Reply(good_reply(), sleep=2.0))
    _reading, form = say("propose " + PARAGRAPH)
    assert (card_action(form, cards.INTERVIEW_NEXT)["data"]["page"], "I could not read" in card_text(form)) == (
        "basics",
        True,
    )
