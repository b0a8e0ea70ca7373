"""What a new team does in its first hour with the console (`govbot chat`), on the real
store: the scripted input is what a person types, the assertions what they read."""

from __future__ import annotations

import io

from handlers.console.chat import run_chat
from tests.integration.approval_data import medium, proposal, requests_by_role


def chat(core, user: str, lines: list[str]) -> str:
    screen = io.StringIO()
    assert run_chat(core, user, io.StringIO("\n".join(lines) + "\n"), screen) == 0
    return screen.getvalue()


def test_approve_by_proposal_number_in_the_console(core):
    core.submit("U1", "console", medium(owner="U_OTHER"))  # requests 1 and 2 belong to others
    result = core.submit("U_ALICE", "console", proposal(title="Draft meeting notes", owner="U_OMAR"))
    out = chat(core, "U_OMAR", [f"approve #{result.proposal_id}", "quit"])
    assert f"Approved. All approvals are in: #{result.proposal_id} moves to pilot." in out
    owner = requests_by_role(core, result.proposal_id)["owner"]
    with core.uow() as uow:
        assert uow.decisions.for_request(owner.id).actor == "U_OMAR"
