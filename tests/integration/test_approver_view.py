"""Approvers see what they approve (issue 12, item 5), on the real store and channels.

Each approver's card shows the whole proposal and, after a resubmission, what changed
since the revision *they* saw — which is not always the previous one. On Slack (real
slack_bolt and slack_sdk against the fake Web API), Teams (real botbuilder against the
fake Bot Connector) and the console, the approver decides from the card alone: the
request id comes off the card, and a long proposal unfolds from its "Full proposal"
button.
"""

from __future__ import annotations

import asyncio
import io
import json
import re

import httpx
import pytest

from bot.messages.message import APPROVE, FULL_PROPOSAL, plain
from handlers.base import SENDERS_KEY
from handlers.console.chat import run_chat
from handlers.teams import cards
from handlers.web import build_web_app
from tests.support.blockkit import all_problems
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    answered,
    card_text,
    execute_invoke,
    forbid_internet,
    validate_card,
)
from tests.support.core_state import messages_for, requests_by_role, set_roles
from tests.support.proposals import long_proposal, medium
from tests.support.slack_platform import SlackHarness

TEAMS_MESSAGE_MAX = 28_000


def _titles(message) -> list[str]:
    return [s.title for s in message.sections if s.title]


def _status_of(core, request_id) -> str:
    with core.uow() as uow:
        return uow.approvals.get(int(request_id)).status


def _last_card(core, user: str):
    return [m for m in messages_for(core, user) if m.kind == "approval_request"][-1]


def _resubmitted_for_lead(core, channel: str, lead: str, second: dict) -> int:
    """Submitted on `channel`; the department lead asks for changes to revision 1; the
    requester resubmits `second` as revision 2. Returns the proposal id."""
    set_roles(core, ("department_lead", "Support", [lead]))
    pid = core.submit("U_REQ", channel, medium(owner="U_REQ")).proposal_id
    core.decide(lead, requests_by_role(core, pid)["department_lead"].id, "request_changes", comment="Rollback?")
    core.submit("U_REQ", channel, second, proposal_id=pid)
    return pid


def test_each_approver_sees_the_changes_since_the_revision_they_saw(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]), ("finance", "", ["U_FIN"]))
    pid = core.submit("U_REQ", "console", medium(data=["internal", "financial"])).proposal_id
    lead = lambda: requests_by_role(core, pid)["department_lead"].id  # noqa: E731
    core.decide("U_LEAD", lead(), "request_changes", comment="Leave the finance data out.")
    core.submit("U_REQ", "console", medium(rollback_path="Restore the export."), proposal_id=pid)  # finance dropped
    core.decide("U_LEAD", lead(), "request_changes", comment="Now it needs the ledger after all.")
    core.submit("U_REQ", "console", medium(data=["internal", "financial"]), proposal_id=pid)  # finance asked again
    fin, lead_card = _last_card(core, "U_FIN"), _last_card(core, "U_LEAD")
    assert ([t for t in _titles(fin) if t.startswith("Changed")], [t for t in _titles(lead_card) if t.startswith("Changed")]) == (
        ["Changed since revision 1 (the one you saw)"],
        ["Changed since revision 2 (the one you saw)"],
    )  # fmt: skip


def test_status_shows_what_the_last_resubmission_changed(core):
    pid = _resubmitted_for_lead(core, "console", "U_LEAD", medium(owner="U_REQ", rollback_path="Restore the export."))
    status = core.status(pid, "U_LEAD")
    changed = next(s for s in status.sections if s.title == "Changed since revision 1")
    assert plain(changed.text) == (
        "• Rollback path: “Switch the job off; the manual process still works.” → “Restore the export.”"
    )


def test_someone_not_involved_is_refused_the_whole_proposal(core):
    pid = core.submit("U_REQ", "console", medium()).proposal_id
    reply = core.handle_command("U_STRANGER", "console", f"proposal {pid}")
    assert plain(reply.message.text).startswith(f"#{pid}: the whole proposal is shown to its requester")


def test_slack_approver_decides_from_the_card_and_opens_the_full_proposal(core, settings):
    _resubmitted_for_lead(core, "slack", "U_LEAD", long_proposal(owner="U_REQ", department="Support"))

    async def scenario():
        async with SlackHarness(core, settings) as slack:
            while await core.deliver_due({"slack": slack.sender}):
                pass
            cards = [
                c
                for c in slack.api.calls_to("chat.postMessage")
                if c.args["channel"] == "D_LEAD" and c.args["text"].startswith("Approval needed")
            ]
            blocks = cards[-1].args["blocks"]
            buttons = {e["action_id"]: e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
            with core.uow() as uow:
                where = uow.message_refs.get(f"approval:{buttons[APPROVE]}")
            message = {**where, "blocks": blocks}
            await slack.click("U_LEAD", FULL_PROPOSAL, buttons[FULL_PROPOSAL], message=message)
            await slack.idle()
            await slack.click("U_LEAD", APPROVE, buttons[APPROVE], message=message)
            await slack.idle()
            views = [c.args["view"] for c in slack.api.calls_to("views.open")]
            return json.dumps(blocks, ensure_ascii=False), views, all_problems(slack.api.calls), buttons[APPROVE]

    shown, views, problems, rid = asyncio.run(scenario())
    modal = json.dumps(views[-1]["blocks"])
    assert (
        "Changed since revision 1 (the one you saw)" in shown,
        "Risk level: medium → high" in shown,
        "END-OF-DESCRIPTION" in modal,
        problems,
        _status_of(core, rid),
    ) == (True, True, True, [], "approved")


@pytest.fixture
def no_internet(monkeypatch):
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


LEAD = "29:lead"


def test_teams_approver_decides_from_the_card_and_unfolds_the_full_proposal(core, settings, no_internet):
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    app = build_web_app(core, local)
    with FakeBotConnector() as connector, ServerThread(app) as server:

        def post(body: dict) -> httpx.Response:
            return httpx.post(f"{server.url}/api/messages", json=body, timeout=30)

        post(activity(connector.url, LEAD, text="help"))  # the lead's conversation reference
        answered(server)  # stored after the turn
        _resubmitted_for_lead(core, "teams", LEAD, long_proposal(owner="U_REQ", department="Support"))
        asyncio.run(core.deliver_due({"teams": app[SENDERS_KEY]["teams"]}))
        sent = [
            a["content"]
            for c in connector.sent_to(f"a:personal-{LEAD}")
            for a in (c.body or {}).get("attachments") or []
            if "Approval needed" in json.dumps(a)
        ]
        card = validate_card(sent[-1])
        execute = next(a for a in card["actions"] if a.get("verb") == APPROVE)
        show = next(a for a in card["actions"] if a["type"] == "Action.ShowCard")
        answer = post(execute_invoke(connector.url, LEAD, APPROVE, execute["data"]))
    assert (
        "Changed since revision 1 (the one you saw)" in card_text(card),
        "END-OF-DESCRIPTION" in card_text(show["card"]),
        cards.card_size(card) <= TEAMS_MESSAGE_MAX,
        "Approved by" in card_text(validate_card(answer.json()["value"])),
        _status_of(core, execute["data"]["request_id"]),
    ) == (True, True, True, True, "approved")


def _console(core, user: str, *lines: str) -> str:
    screen = io.StringIO()
    assert run_chat(core, user, io.StringIO("".join(f"{line}\n" for line in lines)), screen) == 0
    return screen.getvalue()


def test_console_approver_decides_from_the_card_and_reads_the_whole_proposal(core):
    pid = _resubmitted_for_lead(core, "console", "U_LEAD", long_proposal(owner="U_REQ", department="Support"))
    inbox = _console(core, "U_LEAD", "inbox")
    card = inbox[inbox.rindex("Approval needed") :]
    rid = re.findall(r"type: approve (\d+)", card)[-1]  # read off the screen, as a person would
    whole = _console(core, "U_LEAD", re.findall(r"type: (proposal \d+)", card)[-1], f"approve {rid} Reads well now.")
    assert (
        "Changed since revision 1 (the one you saw)" in card,
        f"proposal {pid}" in card,
        "END-OF-DESCRIPTION" in whole,
        _status_of(core, rid),
    ) == (True, True, True, "approved")
