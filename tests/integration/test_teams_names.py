"""Teams users' names: the activity's `from.name` and the people a message mentions are
kept by the core; a mention in a typed command names the user by id; `whoami`."""

from __future__ import annotations

import httpx
import pytest

from handlers.base import SENDERS_KEY
from handlers.teams import cards
from handlers.teams.bot import GovbotTeamsBot
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    TeamsTurns,
    activity,
    card_action,
    card_inputs,
    card_text,
    validate_card,
)

GOV = "UGOV"  # governance of the core fixture's settings


@pytest.fixture
def connector():
    with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
def server(core, settings):
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    app = build_web_app(core, local)
    assert "teams" in app[SENDERS_KEY]
    with ServerThread(app) as srv:
        yield srv


def say(server, connector, user: str, text: str, **extra) -> str:
    body = activity(connector.url, user, text=text, **extra)
    body["from"]["name"] = {GOV: "Grace Okafor", "29:ana": "Ana *Ruiz*"}.get(user, body["from"]["name"])
    before = len(connector.activities("POST"))
    response = httpx.post(f"{server.url}/api/messages", json=body, timeout=30)
    assert response.status_code in (200, 201), response.text
    reply = connector.wait_for(before + 1, method="POST")[-1].body  # answered after the turn
    return card_text(validate_card(reply["attachments"][0]["content"]))


def test_the_sender_name_is_kept_clean_and_whoami_gives_the_id(server, connector, core):
    shown = say(server, connector, "29:ana", "whoami")
    assert "You are Ana Ruiz; your user id is 29:ana" in shown
    with core.uow() as uow:
        assert uow.people.get("29:ana").name == "Ana Ruiz"


def test_a_mentioned_person_is_set_by_id_and_listed_by_name(server, connector, core):
    text = "roles set security <at>Sam Jones</at>"
    mention = {"type": "mention", "text": "<at>Sam Jones</at>", "mentioned": {"id": "29:sam", "name": "Sam Jones"}}
    say(server, connector, GOV, text, entities=[mention])
    with core.uow() as uow:
        assert uow.roles.holders("security", "") == ["29:sam"]
    assert "security: Sam Jones" in say(server, connector, GOV, "roles")


def test_the_owner_on_the_form_may_be_a_known_name_and_nobody_is_refused(core):
    teams = TeamsTurns(GovbotTeamsBot(core, core.settings))
    core.remember_person("teams", "29:omar", "Omar Haddad")
    (describe,) = teams.say("29:req", "propose")
    skip = card_action(describe, cards.INTERVIEW_NEXT)["data"]
    form = teams.click("29:req", cards.INTERVIEW_NEXT, {**skip, "paragraph": ""})  # question by question
    data = card_action(form, cards.INTERVIEW_NEXT)["data"]
    refused = teams.click("29:req", cards.INTERVIEW_NEXT, {**data, "title": "Ticket summaries", "owner": "Omar Ruiz"})
    assert card_inputs(refused)["owner"]["errorMessage"].startswith("owner: 'Omar Ruiz' is not a user govbot knows")
    teams.click("29:req", cards.INTERVIEW_NEXT, {**data, "title": "Ticket summaries", "owner": "omar"})
    assert core.load_draft("teams", "29:req")["answers"]["owner"] == "29:omar"
