"""One whole Teams conversation over HTTP, like Slack's end-to-end test:

propose -> card form -> submit -> requester and approvers get cards -> a wrong user is
refused -> the approvers approve -> the requester is notified -> status shows the trail.

Real server on 127.0.0.1, real botbuilder client, a fake Bot Connector recording every
card, the real core and store; the outbox is delivered with the Teams sender.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.messages.message import APPROVE, REJECT, REQUEST_CHANGES
from handlers.base import SENDERS_KEY
from handlers.teams import cards
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    answered,
    card_inputs,
    card_text,
    card_verbs,
    execute_invoke,
    forbid_internet,
    validate_card,
)
from tests.support.proposals import high_billing

PROPOSAL = high_billing(title="Refund assistant", owner="29:owner")

REQUESTER = "29:e2e-requester"
OWNER = PROPOSAL["owner"]
LEAD = "29:lead"
FINANCE = "29:finance"
GOV = "UGOV"
STRANGER = "29:stranger"


def conv(user: str) -> str:
    return f"a:personal-{user}"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Nothing here may leave 127.0.0.1 (no token fetch from login.microsoftonline.com)."""
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def world(core, settings):
    core.set_role(GOV, "department_lead", "Support", [LEAD])
    core.set_role(GOV, "finance", "", [FINANCE])
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    app = build_web_app(core, local)
    with FakeBotConnector() as connector, ServerThread(app) as server:
        yield core, app[SENDERS_KEY]["teams"], connector, server


def _wire(value):
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def cards_in(calls) -> list[dict]:
    return [validate_card(a["content"]) for c in calls for a in (c.body.get("attachments") or ())]


@pytest.mark.slow
def test_a_proposal_from_form_to_approval_in_teams(world):
    core, sender, connector, server = world

    def post(body) -> httpx.Response:
        response = httpx.post(f"{server.url}/api/messages", json=body, timeout=30)
        assert response.status_code == (200 if body["type"] == "invoke" else 201), response.text
        answered(server)  # a message is answered after its turn
        return response

    def click(user, verb, data) -> dict:
        body = post(execute_invoke(connector.url, user, verb, data)).json()
        assert body["statusCode"] == 200 and body["type"] == cards.CARD_CONTENT_TYPE
        return validate_card(body["value"])

    def deliver() -> int:
        return asyncio.run(core.deliver_due({"teams": sender}))

    # Everybody has the app installed: the bot knows where to reach them.
    for user in (OWNER, LEAD, FINANCE, GOV, STRANGER):
        post(activity(connector.url, user, type="installationUpdate", action="add"))
    assert connector.calls == []

    # The requester proposes; the interview arrives as a card form.
    post(activity(connector.url, REQUESTER, text="propose Refund assistant", mention_bot=True))
    (form,) = cards_in(connector.sent_to(conv(REQUESTER)))
    assert card_inputs(form)["title"]["value"] == "Refund assistant"

    # A bad answer comes back on the card, with the other answers kept.
    data = next(a for a in form["actions"] if a.get("verb") == cards.INTERVIEW_NEXT)["data"]
    fields = {k: _wire(PROPOSAL.get(k)) for k in card_inputs(form)}
    retry = click(REQUESTER, cards.INTERVIEW_NEXT, {**data, **fields, "capacity": "lots"})
    assert "capacity" in card_inputs(retry)["capacity"]["errorMessage"]
    assert card_inputs(retry)["department"]["value"] == "Support"

    # Fill every page and submit.
    card = click(REQUESTER, cards.INTERVIEW_NEXT, {**data, **fields})
    for _ in range(8):
        if cards.INTERVIEW_NEXT not in card_verbs(card):
            break
        data = next(a for a in card["actions"] if a.get("verb") == cards.INTERVIEW_NEXT)["data"]
        card = click(
            REQUESTER, cards.INTERVIEW_NEXT, {**data, **{k: _wire(PROPOSAL.get(k)) for k in card_inputs(card)}}
        )
    assert "Proposal #1 submitted" in card_text(card)
    # A retried final click (same idempotency key) does not create a second proposal.
    click(REQUESTER, cards.INTERVIEW_NEXT, data)
    with core.uow() as uow:
        assert uow.proposals.count() == 1
        requests = uow.approvals.for_proposal(1)
    assert {r.role: r.approver for r in requests} == {
        "owner": OWNER,
        "department_lead": LEAD,
        "finance": FINANCE,
        "governance": GOV,
    }
    approvers = {r.approver: r.id for r in requests}

    # The outbox delivers the classification to the requester and a card to each approver.
    connector.clear()
    assert deliver() == 1 + len(approvers)
    (classification,) = cards_in(connector.sent_to(conv(REQUESTER)))
    assert "Refund assistant" in card_text(classification) and "high" in card_text(classification)
    classification_id = connector.sent_to(conv(REQUESTER))[0].response_id
    for approver in approvers:
        approval_cards = cards_in(connector.sent_to(conv(approver)))
        assert len(approval_cards) == 1, approver
        assert card_verbs(approval_cards[0]) == [APPROVE, REJECT, REQUEST_CHANGES]
        assert approver in approval_cards[0]["refresh"]["userIds"]

    # Someone who is not the routed approver is refused, and nothing is recorded.
    refused = click(STRANGER, APPROVE, {"request_id": approvers[OWNER]})
    assert (  # by the name Teams gave the owner (from.name)
        "Not recorded: this request is routed to User 29:owner; only they, their delegate, or governance with a "
        "written reason may decide it."
    ) in card_text(refused).splitlines()
    with core.uow() as uow:
        assert uow.decisions.for_request(approvers[OWNER]) is None

    # The routed approvers approve; each card turns into "Approved by ...".
    for approver, request_id in approvers.items():
        done = click(approver, APPROVE, {"request_id": request_id, "comment": "ok"})
        assert "Approved by" in card_text(done) and card_verbs(done) == []

    # The requester hears about it in the thread of their classification message.
    connector.clear()
    deliver()
    replies = [c for c in connector.sent_to(conv(REQUESTER)) if c.method == "POST"]
    assert [c.activity_id for c in replies] == [classification_id] * 5
    assert [card_text(card).splitlines()[0] for card in cards_in(replies)] == [
        "Approved by User 29:owner at 09:00 (2026-11-16 UTC) as workflow owner — #1 Refund assistant",
        "Approved by User 29:lead at 09:00 (2026-11-16 UTC) as department lead — #1 Refund assistant",
        "Approved by User 29:finance at 09:00 (2026-11-16 UTC) as finance — #1 Refund assistant",
        "Approved by User UGOV at 09:00 (2026-11-16 UTC) as governance — #1 Refund assistant",
        "All approvals are in for #1 Refund assistant, but stop conditions block pilot: "
        "changes_permissions_billing_or_production. Resolve them and resubmit, or governance may override each "
        "with a written reason: `override 1 <code> <reason>`.",
    ]

    # status shows where it stands and the trail.
    connector.clear()
    post(activity(connector.url, REQUESTER, text="status 1"))
    (status,) = cards_in(connector.sent_to(conv(REQUESTER)))
    text = card_text(status)
    assert "Refund assistant" in text
    assert core.status_data(1)["proposal"]["stage"] == "approved"  # a stop condition blocks the pilot
    with core.uow() as uow:
        decisions = uow.decisions.for_proposal(1)
        trail = [e.action for e in uow.audit.for_proposal(1)]
    assert sorted(d.actor for d in decisions) == sorted(approvers)
    assert [a for a in trail if "refus" in a] == ["decision.refused"]
