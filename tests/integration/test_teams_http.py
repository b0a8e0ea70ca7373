"""POST /api/messages on a real server on 127.0.0.1, with Activity JSON as Teams sends it.

The real botbuilder connector client answers through a local fake Bot Connector (the
activity's serviceUrl), which records every reply. No test reaches the internet: with
no credentials botbuilder must not fetch a token, and no request carries one.
"""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from pydantic import SecretStr

from bot.messages.message import APPROVE
from handlers.base import SENDERS_KEY, StartupError
from handlers.teams import cards
from handlers.teams.adapter import TeamsConfigError, bot_config
from handlers.teams.setup import mount
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    card_inputs,
    card_text,
    execute_invoke,
    forbid_internet,
    validate_card,
)
from tests.support.proposals import high_billing

PROPOSAL = high_billing(title="Refund assistant", owner="29:owner")

USER = "29:http-user"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Nothing here may leave 127.0.0.1 (no token fetch from login.microsoftonline.com)."""
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def connector():
    with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
def local_settings(settings):
    return settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})


@pytest.fixture
def server(core, local_settings):
    app = build_web_app(core, local_settings)
    assert "teams" in app[SENDERS_KEY]
    with ServerThread(app) as srv:
        yield srv


def post(server: ServerThread, body, **kw) -> httpx.Response:
    return httpx.post(f"{server.url}/api/messages", json=body, timeout=30, **kw)


def posted_cards(connector: FakeBotConnector) -> list[dict]:
    out = []
    for call in connector.activities("POST"):
        for att in call.body.get("attachments") or ():
            assert att["contentType"] == cards.CARD_CONTENT_TYPE
            out.append(validate_card(att["content"]))
    return out


def test_a_typed_command_is_answered_through_the_bot_connector(server, connector, core):
    response = post(server, activity(connector.url, USER, text="help", mention_bot=True, activity_id="in-help"))
    assert response.status_code == 201
    calls = connector.wait_for(1)  # answered after the turn, through the conversation reference
    assert [(c.method, c.path) for c in calls] == [("POST", f"/v3/conversations/a:personal-{USER}/activities/in-help")]
    assert calls[0].body["replyToId"] == "in-help"
    assert calls[0].body["recipient"]["id"] == USER
    (card,) = posted_cards(connector)
    assert "propose" in card_text(card)
    # no credentials: nothing was signed, so no token was ever fetched
    assert "Authorization" not in calls[0].headers and "authorization" not in calls[0].headers
    with core.uow() as uow:
        ref = uow.conversations.get("teams", USER)
    assert ref is not None and ref.reference["serviceUrl"] == connector.url


def test_an_invoke_answers_200_with_the_card(server, connector):
    """The botbuilder 4.17.1 bug: stock CloudAdapter.process answers 500 here."""
    started = post(server, activity(connector.url, USER, text="propose Summarise tickets"))
    assert started.status_code == 201
    connector.wait_for(1)
    (form,) = posted_cards(connector)
    data = next(a for a in form["actions"] if a["verb"] == cards.INTERVIEW_NEXT)["data"]
    response = post(server, execute_invoke(connector.url, USER, cards.INTERVIEW_NEXT, {**data, "title": ""}))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["statusCode"] == 200 and body["type"] == cards.CARD_CONTENT_TYPE
    card = validate_card(body["value"])
    assert "title" in card_inputs(card)["title"]["errorMessage"]


def test_the_stock_cloud_adapter_answers_500_to_the_same_invoke(core, connector, local_settings):
    """Why the workaround exists: if botbuilder fixes this, the workaround can go."""
    from handlers.teams.bot import GovbotTeamsBot

    adapter = CloudAdapter()  # no credentials: auth disabled, like GOVBOT_ENV=local
    bot = GovbotTeamsBot(core, local_settings)
    app = web.Application()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    app.router.add_post("/api/messages", messages)
    with ServerThread(app) as srv:
        response = post(srv, execute_invoke(connector.url, USER, cards.APPROVAL_REFRESH, {"request_id": 1}))
    assert response.status_code == 500


def test_card_action_with_unknown_request_is_explained_not_crashed(server, connector):
    response = post(server, execute_invoke(connector.url, USER, APPROVE, {"request_id": 4242}))
    assert response.status_code == 200
    card = validate_card(response.json()["value"])
    assert "4242" in card_text(card)


@pytest.mark.parametrize(
    "body, headers, status",
    [
        (b"not json", {"Content-Type": "application/json"}, 400),
        (b'{"text": "no type"}', {"Content-Type": "application/json"}, 400),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400),
        (b'{"type": "message"}', {"Content-Type": "text/plain"}, 415),
    ],
)
def test_malformed_requests_are_refused_and_change_nothing(server, connector, core, body, headers, status):
    response = httpx.post(f"{server.url}/api/messages", content=body, headers=headers, timeout=30)
    assert response.status_code == status
    assert connector.calls == []
    with core.uow() as uow:
        assert uow.conversations.get("teams", USER) is None


def test_with_an_app_id_an_unauthenticated_request_is_refused_with_401(core, settings, connector):
    secured = settings.model_copy(
        update={
            "microsoft_app_id": "11111111-2222-3333-4444-555555555555",
            "microsoft_app_password": SecretStr("not-a-real-secret"),
            "govbot_env": "production",
        }
    )
    app = build_web_app(core, secured)
    with ServerThread(app) as srv:
        response = post(srv, activity(connector.url, USER, text="help"))
        invoke = post(srv, execute_invoke(connector.url, USER, APPROVE, {"request_id": 1}))
    assert response.status_code == 401 and invoke.status_code == 401
    assert connector.calls == []
    with core.uow() as uow:
        assert uow.conversations.get("teams", USER) is None


def test_teams_without_credentials_refuses_to_start_outside_local(settings, core):
    enabled = settings.model_copy(update={"teams_enabled": True, "govbot_env": "production"})
    with pytest.raises(TeamsConfigError, match="MicrosoftAppId") as caught:
        mount(web.Application(), core, enabled)
    assert isinstance(caught.value, StartupError)  # `govbot serve` prints it without a traceback
    no_password = settings.model_copy(update={"microsoft_app_id": "11111111-2222-3333-4444-555555555555"})
    with pytest.raises(TeamsConfigError, match="MicrosoftAppPassword"):
        bot_config(no_password)


def test_local_mode_says_so_at_start_up(settings, caplog):
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    with caplog.at_level("WARNING", logger="handlers.teams.adapter"):
        config = bot_config(local)
    assert config.APP_ID is None
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "Teams: MicrosoftAppId is not set and GOVBOT_ENV=local: /api/messages accepts UNAUTHENTICATED requests. "
            "Never expose this server to a network.",
        )
    ]


def test_concurrent_repeated_clicks_record_one_decision(server, connector, core):
    from concurrent.futures import ThreadPoolExecutor

    owner = PROPOSAL["owner"]
    result = core.submit("29:req", "teams", dict(PROPOSAL))
    with core.uow() as uow:
        (request_id,) = [r for r in result.approval_request_ids if uow.approvals.get(r).approver == owner]
    body = execute_invoke(connector.url, owner, APPROVE, {"request_id": request_id, "comment": "ok"})
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: post(server, body), range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    for response in responses:
        assert "Approved by" in card_text(validate_card(response.json()["value"]))
    with core.uow() as uow:
        decisions = [d for d in uow.decisions.for_proposal(result.proposal_id) if d.request_id == request_id]
    assert len(decisions) == 1


def test_an_invoke_that_is_not_action_execute_gets_a_json_error_not_a_crash(server, connector):
    body = activity(
        connector.url,
        USER,
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Submit", "data": {}}},
    )
    response = post(server, body)
    assert response.status_code == 400
    error = response.json()
    assert error["statusCode"] == 400 and error["type"] == "application/vnd.microsoft.error"
    assert "Action.Submit" in error["value"]["message"]
    unknown = post(server, activity(connector.url, USER, type="invoke", name="composeExtension/query", value={}))
    assert unknown.status_code == 501
