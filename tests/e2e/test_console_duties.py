"""Separation of duties, quorum and the autonomy ceiling as a person meets them in the
console (`govbot chat`), on the real store: what they type, what they read, and the
audit trail that records it."""

from __future__ import annotations

import io
from collections.abc import Callable

from bot.app import build_core
from bot.settings import Settings
from handlers.console.chat import run_chat
from tests.support.core_state import GOV, requests_by_role, set_roles
from tests.support.duties import quorum_policy_file
from tests.support.proposals import high_billing, make_proposal, medium
from tests.support.stages import seed


class Typing(io.StringIO):
    """Scripted stdin: a line of text, or a function of the screen so far."""

    def __init__(self, screen: io.StringIO, lines: list[str | Callable[[str], str]]):
        super().__init__()
        self.screen, self.lines = screen, list(lines)

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if not self.lines:
            return ""
        item = self.lines.pop(0)
        return (item(self.screen.getvalue()) if callable(item) else item) + "\n"


def chat(core, user: str, lines: list[str | Callable[[str], str]]) -> str:
    screen = io.StringIO()
    assert run_chat(core, user, Typing(screen, lines), screen) == 0
    return screen.getvalue()


def trail(core, pid: int) -> list[tuple[str, str]]:
    return [
        (e["action"], e["actor"])
        for e in core.status_data(pid)["audit"]
        if e["action"].startswith(("decision", "stage"))
    ]


def test_the_requester_who_owns_and_leads_is_refused_and_governance_decides(core):
    chat(core, GOV, ["roles set department_lead Support @U_RITA", "quit"])
    pid = core.submit("U_RITA", "console", medium(owner="U_RITA")).proposal_id
    reqs = requests_by_role(core, pid)
    owner, lead = reqs["owner"].id, reqs["department_lead"].id
    out = chat(core, "U_RITA", ["mine", f"approve {owner}", f"approve {lead}", "quit"])
    assert f"type: approve {owner}" in out and f"type: approve {lead}" not in out  # `mine` offers only hers
    assert "Not recorded: you requested this proposal, so governance decides this department lead request." in out
    assert core.status_data(pid)["proposal"]["stage"] == "in_review"

    out = chat(core, GOV, ["inbox", f"approve {lead}", "quit"])
    assert f"type: approve {lead}" in out
    assert f"All approvals are in: #{pid} moves to pilot." in out
    assert trail(core, pid) == [
        ("decision.approve", "U_RITA"),
        ("decision.refused", "U_RITA"),
        ("decision.approve", GOV),
        ("stage.pilot", GOV),
    ]


def test_one_request_per_person_and_the_other_holder_decides(core):
    set_roles(core, ("department_lead", "Support", ["U_DANA", "U_BOTH"]), ("finance", "", ["U_BOTH"]))
    pid = core.submit("U_REQ", "console", high_billing()).proposal_id
    reqs = requests_by_role(core, pid)
    chat(core, "U_OWNER", [f"approve {reqs['owner'].id}", "quit"])
    out = chat(core, "U_BOTH", [f"approve {reqs['finance'].id}", f"approve {reqs['department_lead'].id}", "quit"])
    assert (
        "Not recorded: you already decided the finance request on this proposal and one person decides at most "
        "one, so another department lead decides." in out
    )
    out = chat(core, "U_DANA", [f"approve {reqs['department_lead'].id}", "quit"])
    assert "Approved." in out
    assert trail(core, pid) == [
        ("decision.approve", "U_OWNER"),
        ("decision.approve", "U_BOTH"),
        ("decision.refused", "U_BOTH"),
        ("decision.approve", "U_DANA"),
    ]


def test_a_quorum_shows_its_count_and_needs_a_second_member(database_url, clock, tmp_path_factory):
    policy = quorum_policy_file(tmp_path_factory.getbasetemp())
    core = build_core(
        Settings(database_url=database_url, governance=GOV, policy_file=str(policy), _env_file=None), clock=clock
    )
    set_roles(core, ("governance", "", [GOV, "UGOV2"]), ("department_lead", "Support", ["U_LEAD"]))
    set_roles(core, ("finance", "", ["U_FIN"]))
    pid = core.submit("U_REQ", "console", high_billing()).proposal_id
    reqs = requests_by_role(core, pid)
    for user, role in (("U_OWNER", "owner"), ("U_LEAD", "department_lead"), ("U_FIN", "finance")):
        core.decide(user, reqs[role].id, "approve")
    gov = reqs["governance"].id
    out = chat(core, GOV, [f"approve {gov}", f"approve {gov}", f"status {pid}", "as UGOV2", f"approve {gov}", "quit"])
    assert f"Approved: 1 of 2 governance approvals; #{pid} waits for more." in out
    assert "Already decided" in out  # the same member twice counts once
    assert "(1 of 2 governance approvals)" in out  # status
    assert "stop conditions block pilot" in out  # the second member completes the quorum
    assert trail(core, pid)[-3:] == [
        ("decision.approve", GOV),
        ("decision.approve", "UGOV2"),
        ("stage.approved", "UGOV2"),
    ]


def test_an_autonomy_step_is_not_approved_by_its_requester(core):
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))
    p = seed(core, "pilot", risk="medium", autonomy="draft_only")
    out = chat(core, p.owner, [f"autonomy {p.id}", "quit"])
    assert f"Asked department_lead to approve moving #{p.id}" in out
    with core.uow() as uow:
        (step,) = [r for r in uow.approvals.for_proposal(p.id) if r.kind == "autonomy"]
    out = chat(core, p.owner, [f"approve {step.id}", "as U_LEAD", f"approve {step.id}", f"status {p.id}", "quit"])
    assert (
        "Not recorded: you asked for this autonomy step, so another department lead decides; "
        "nobody approves their own autonomy step." in out
    )
    assert f"#{p.id} runs at autonomy level human_approves." in out
    assert "human_approves (ceiling human_monitors)" in out


def test_the_interview_asks_which_of_two_contradicting_answers_holds(core):
    answers = {k: v for k, v in make_proposal(review="every_output", autonomy="autonomous").items() if k != "owner"}
    core.save_draft("console", "U_BEA", answers, None)

    def answer(screen: str) -> str:
        tail = screen[screen.rfind("\n", 0, len(screen) - 2) :]
        if "Human review — " in screen[-1200:] and "both cannot hold" in screen[-1200:] and "> " in tail:
            return "" if "Autonomy — " in screen[-600:] else "2"  # a person spot-checks; keep the autonomy
        return ""

    out = chat(core, "U_BEA", ["propose", "@U_OMAR", *([answer] * 16), "quit"])
    assert 'You said "a person checks every output" and also "Fully autonomous": both cannot hold.' in out
    (pid,) = [int(line.split("#")[1].split()[0]) for line in out.splitlines() if line.startswith("Submitted as")]
    data = core.status_data(pid)
    assert (data["proposal"]["answers"]["review"], data["proposal"]["autonomy"]) == ("spot_check", "autonomous")
