"""The interview's loose ends: `cancel`/`quit` typed to the bot, the draft in `mine`,
and a decision that sends a proposal back reaching the requester once."""

from __future__ import annotations

from bot.messages.message import user_text
from tests.support.core_state import messages_for, requests_by_role
from tests.support.proposals import make_proposal


def test_mine_shows_the_unfinished_proposal_and_how_to_resume_it(core):
    core.save_draft("teams", "29:bea", {"title": "Ticket themes", "department": "Support"}, "basics:description")
    mine = core.handle_command("29:bea", "teams", "mine").message
    unfinished = next(s for s in mine.sections if s.title == "Unfinished")
    assert unfinished.text == (
        'Proposal "Ticket themes" (2 answers so far, saved 2026-11-16 09:00 UTC): '
        "type `propose` to resume it where you stopped."
    )


def test_cancel_or_quit_typed_to_the_bot_keeps_the_draft(core):
    core.save_draft("teams", "29:bea", {"title": "Ticket themes"}, "basics:department")
    for word in ("cancel", "quit"):
        reply = core.handle_command("29:bea", "teams", word).message
        assert reply.text == 'Stopped. Your proposal "Ticket themes" is kept as a draft: type `propose` to resume it.'
    assert core.load_draft("teams", "29:bea")["answers"] == {"title": "Ticket themes"}


def test_changes_requested_reaches_the_requester_once(core):
    result = core.submit("U_REQ", "console", make_proposal())
    before = len(messages_for(core, "U_REQ"))
    owner = requests_by_role(core, result.proposal_id)["owner"]
    core.decide("U_OWNER", owner.id, "request_changes", "Name the reviewer")
    told = messages_for(core, "U_REQ")[before:]
    assert [(m.kind, m.text) for m in told] == [
        (
            "changes_requested",
            f"<@U_OWNER> asks for changes to #{result.proposal_id} {user_text(make_proposal()['title'])}. Edit and resubmit it.",
        )
    ]
    assert told[0].sections[0].text == user_text("Name the reviewer")


def test_a_rejection_reaches_the_requester_once(core):
    result = core.submit("U_REQ", "console", make_proposal())
    before = len(messages_for(core, "U_REQ"))
    owner = requests_by_role(core, result.proposal_id)["owner"]
    core.decide("U_OWNER", owner.id, "reject", "Not now")
    assert [m.kind for m in messages_for(core, "U_REQ")[before:]] == ["proposal_rejected"]
