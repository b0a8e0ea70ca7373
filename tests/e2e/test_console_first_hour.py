"""What a new team does in its first hour with the console (`govbot chat`), on the real
store: the scripted input is what a person types, the assertions what they read."""

from __future__ import annotations

import io
import re

from handlers.console.chat import run_chat
from tests.support.core_state import requests_by_role
from tests.support.proposals import make_proposal, medium


def chat(core, user: str, lines: list[str]) -> str:
    screen = io.StringIO()
    assert run_chat(core, user, io.StringIO("\n".join(lines) + "\n"), screen) == 0
    return screen.getvalue()


def test_approve_by_proposal_number_in_the_console(core):
    core.submit("U1", "console", medium(owner="U_OTHER"))  # requests 1 and 2 belong to others
    result = core.submit("U_ALICE", "console", make_proposal(title="Draft meeting notes", owner="U_OMAR"))
    out = chat(core, "U_OMAR", [f"approve #{result.proposal_id}", "quit"])
    assert f"Approved. All approvals are in: #{result.proposal_id} moves to pilot." in out
    owner = requests_by_role(core, result.proposal_id)["owner"]
    with core.uow() as uow:
        assert uow.decisions.for_request(owner.id).actor == "U_OMAR"


def test_quit_and_cancel_both_leave_the_interview_keeping_the_draft(core):
    for word in ("quit", "cancel"):
        user = f"U_{word.upper()}"
        out = chat(core, user, ["propose Summarise weekly support themes", "", word, "mine", "quit"])
        assert "Interview stopped. Your answers are saved" in out
        draft = core.load_draft("console", user)
        assert "department" not in draft["answers"]  # `quit` is not taken as the department
        assert 'Proposal "Summarise weekly support themes" (2 answers so far' in out  # title, description
        assert "type `propose` to resume it where you stopped." in out


def test_an_answer_being_edited_is_shown_whole(core):
    long = "Reads every closed ticket of the week, groups them by theme and drafts a one-page summary for the team."
    result = core.submit("U_BEA", "console", make_proposal(description=long))
    owner = requests_by_role(core, result.proposal_id)["owner"]
    core.decide("U_OWNER", owner.id, "request_changes", "Say who reads it")
    out = chat(core, "U_BEA", [f"edit {result.proposal_id}", "2", "", "cancel", "quit"])  # 2: what the AI does
    assert f"Current answer:\n  {long}\n[Enter keeps: the answer above] > " in out


def test_the_owner_may_be_named_and_the_summary_shows_their_name(core):
    core.remember_person("console", "U_OMAR", "Omar Haddad")
    answers = {k: v for k, v in make_proposal().items() if k != "owner"}
    core.save_draft("console", "U_BEA", answers, None)
    out = chat(core, "U_BEA", ["propose", "@nobody", "@omar"] + [""] * 12 + ["quit"])
    assert "owner: '@nobody' is not a user govbot knows" in out
    assert re.search(r"\nWorkflow owner: +Omar Haddad\n", out)
    (mine,) = core.handle_command("U_BEA", "console", "mine").message.sections[0].text.splitlines()
    pid = int(mine.split()[1].lstrip("#"))
    assert core.status_data(pid)["proposal"]["owner"] == "U_OMAR"
