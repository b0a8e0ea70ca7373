"""Teams answers typed messages after the turn (issue 18, item 4), on a real server.

The turn only queues the message and answers 201; the reply goes out afterwards through
the message's conversation reference, through the real botbuilder adapter to the local
fake Bot Connector. One person's messages are answered one at a time, in order; a
failure after the turn is told to the person; an unchanged conversation reference costs
no database work.
"""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import event

from handlers.teams import cards
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    card_text,
    forbid_internet,
    reply_cards,
    wire,
)
from tests.support.proposals import high_billing

USER = "29:typist"
PROPOSAL = high_billing(title="Refund assistant", owner=USER)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def connector():
    with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
def server(core, settings):
    app = build_web_app(core, settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"}))
    with ServerThread(app) as srv:
        yield srv


def post(server: ServerThread, body: dict, timeout: float = 30) -> int:
    return httpx.post(f"{server.url}/api/messages", json=body, timeout=timeout).status_code


def statements_on(core, table: str) -> list[str]:
    """Every SQL statement the core's engine runs from now on that names `table`."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if table in statement:
            seen.append(statement.split(None, 1)[0].upper())

    event.listen(core.uow.engine, "before_cursor_execute", note)
    return seen


def first_lines(calls) -> list[str]:
    return [card_text(card).splitlines()[0] for card in reply_cards(calls)]


def test_the_turn_answers_before_the_reply_which_comes_through_the_connector(server, connector):
    connector.hold()  # a reply made inside the turn would keep the HTTP answer waiting
    status = post(server, activity(connector.url, USER, text="help", activity_id="in-1"), timeout=5)
    connector.release()
    (reply,) = connector.wait_for(1)
    assert (status, reply.path, "propose" in card_text(reply_cards([reply])[0])) == (
        201,
        f"/v3/conversations/a:personal-{USER}/activities/in-1",
        True,
    )


def test_an_unchanged_conversation_reference_costs_no_database_work(server, connector, core):
    post(server, activity(connector.url, USER, text="help"))
    connector.wait_for(1)
    seen = statements_on(core, "conversation_refs")
    post(server, activity(connector.url, USER, text="help"))
    connector.wait_for(2)
    assert seen == []


def test_a_changed_conversation_reference_is_stored(server, connector, core):
    body = activity(connector.url, USER, text="help")
    post(server, body)
    connector.wait_for(1)
    post(server, {**body, "id": "in-renamed", "from": {**body["from"], "name": "Renamed"}})
    connector.wait_for(2)
    assert core.conversation_reference("teams", USER)["user"]["name"] == "Renamed"


def test_after_a_restart_the_same_reference_is_not_written_again(core, connector):
    reference = {"serviceUrl": connector.url, "conversation": {"id": f"a:personal-{USER}"}, "user": {"id": USER}}
    core.remember_conversation("teams", USER, f"a:personal-{USER}", reference)
    seen = statements_on(core, "conversation_refs")
    core.remember_conversation("teams", USER, f"a:personal-{USER}", dict(reference))
    assert seen == ["SELECT"]


def test_one_persons_interview_pages_are_answered_in_order(server, connector, core, monkeypatch):
    """Each page is sent without waiting for the answer to the one before (the Action.Submit
    fallback: a message whose value carries the verb); each builds on the draft the one
    before saved, so only in-order handling submits the whole proposal. Reading the draft
    is slow here, so pages handled side by side would each read a draft without the others."""
    read_draft = core.load_draft

    def slow_read(*args, **kwargs):
        time.sleep(0.1)
        return read_draft(*args, **kwargs)

    monkeypatch.setattr(core, "load_draft", slow_read)
    flow = core.interview_flow()
    answers: dict = {}
    pages = []
    step = flow.start(answers)
    while step is not None:
        pages.append(step.page)
        answers.update({q.key: PROPOSAL[q.key] for q in step.page.questions if q.key in PROPOSAL})
        step = flow.after(step.page.id, answers)
    state = {"verb": cards.INTERVIEW_NEXT, "key": "k-order", "user": USER}
    values = [{**state, "page": "paragraph", "paragraph": ""}]
    values += [{**state, "page": p.id, **{q.key: wire(PROPOSAL.get(q.key)) for q in p.questions}} for p in pages]
    with httpx.Client(base_url=server.url, timeout=30) as client:  # one connection: pages follow each other closely
        statuses = [
            client.post("/api/messages", json=activity(connector.url, USER, value=v, activity_id=f"in-{i}")).status_code
            for i, v in enumerate(values)
        ]
    assert statuses == [201] * len(values)
    replies = connector.wait_for(len(values))
    expected = [f"Propose an AI workflow: {p.title}" for p in pages] + ["Proposal #1 submitted: high risk."]
    assert first_lines(replies) == expected


def test_a_failure_after_the_turn_is_told_to_the_person(server, connector, core, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(core, "handle_command", broken)
    assert post(server, activity(connector.url, USER, text="mine")) == 201
    assert first_lines(connector.wait_for(1)) == [
        "Sorry, your last message failed on our side (RuntimeError). Nothing was lost; please try again."
    ]
