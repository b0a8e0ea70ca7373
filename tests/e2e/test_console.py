"""A whole conversation through the console channel (`govbot chat`), on the real store.

The script types what a person would type and, like a person, reads request ids off
the screen ("type: approve 4") instead of knowing them in advance.
"""

from __future__ import annotations

import io
import re
from collections import deque
from collections.abc import Callable

from bot.domain import interview
from handlers.console.chat import run_chat
from tests.support.core_state import requests_by_role
from tests.support.proposals import make_proposal

Line = str | Callable[[str], str]


class Script(io.StringIO):
    """Scripted stdin: each line is text, or a function of the screen so far."""

    def __init__(self, screen: io.StringIO, lines: list[Line]):
        super().__init__()
        self.screen = screen
        self.lines: deque[Line] = deque(lines)
        self.consumed = 0

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if not self.lines:
            return ""
        item = self.lines.popleft()
        self.consumed += 1
        text = item(self.screen.getvalue()) if callable(item) else item
        return text + "\n"


def chat(core, user: str, lines: list[Line]) -> tuple[str, Script]:
    screen = io.StringIO()
    stdin = Script(screen, lines)
    assert run_chat(core, user, stdin, screen) == 0
    return screen.getvalue(), stdin


def approve_from_inbox(command: str = "approve", comment: str = "") -> Callable[[str], str]:
    """Read the request id of the last inbox listing, as a person would."""

    def line(screen: str) -> str:
        listing = screen[screen.rindex("Inbox of ") :]
        found = re.findall(r"type: approve (\d+)", listing)
        assert found, listing
        return f"{command} {found[-1]} {comment}".rstrip()

    return line


def answer_by_label(answers: dict[str, str]) -> Callable[[str], str]:
    """Answer the question on screen by its label (Enter for the others; yes to submit)."""

    def line(screen: str) -> str:
        if screen.rstrip().endswith("Submit this proposal? [Y/n] >"):
            return "y"
        asked = re.findall(r"\n([^\n]+?)(?: \(required\))? — [^\n]*\n", screen)
        return answers.get(asked[-1], "") if asked else ""

    return line


INTERVIEW = [
    "propose Refund agent for late deliveries",
    # basics
    "",  # title: keep the seeded one
    "Support",
    "Reads complaints about late deliveries, drafts a reply and issues the refund in the payment system.",
    "Agents check the tracking page and refund by hand in the payment console.",
    "A drafted reply and a refund of the shipping fee, logged on the ticket.",
    "@U_OMAR",
    "Handling time per late-delivery ticket from 12 to 4 minutes",
    "3",  # capacity: strategic
    "9",  # stack: there is no 9 -> re-asked
    "automation",  # a code works too
    # data and actions
    "customers",  # not a data kind -> re-asked with what is allowed
    "4,5",  # customer, financial
    "2,12",  # draft, change_billing
    "3",  # audience: customer
    "2",  # review: spot_check
    "2",  # autonomy: human_approves
    "maybe",  # not yes/no -> re-asked
    "y",
    "OpenAI",  # vendor
    "gpt-4.1",  # model
    # controls
    "Orders over 200 EUR or with an earlier refund go to a human agent",
    "Support lead on duty, then finance for disputed amounts",
    "tbd",  # weak: asked again before submission
    "",  # rollback left blank: asked again before submission
    "",  # hands work to no other department
    # EU AI Act (customer audience and customer data make it relevant)
    "y",  # talks to people
    "y",  # makes content
    "1",  # use area: none
    "n",  # does not score people
    "",  # our role: keep the default
    # before you submit (follow-ups)
    "Daily refund total capped at 2000 EUR; every refund logged with the ticket id",
    "",  # rollback still blank: allowed, the classification reports it
    "",  # submit? yes
]


def test_propose_route_refuse_approve_status(core):
    # governance (UGOV from the settings) fills the role directory from the console
    out, _ = chat(
        core,
        "UGOV",
        [
            "roles set department_lead Support @U_DANA",
            "roles set finance @U_FIONA",
            "roles",
        ],
    )
    assert "U_DANA" in out and "U_FIONA" in out

    out, stdin = chat(core, "U_ALICE", INTERVIEW + ["quit"])
    assert not stdin.lines, "the interview asked fewer questions than expected"
    # invalid answers are re-asked with an error naming the field and what is allowed
    assert "stack: 9 is not one of the numbers 1-6" in out
    assert "data: unknown value 'customers'; allowed: public, internal, employee, customer" in out
    assert "failure_visible: answer yes or no" in out
    # the regulatory questions that the answers made relevant, and only those
    assert "Do people talk to it?" in out and "Use area (EU AI Act Annex III)" in out
    assert "Only a narrow task?" not in out and "Banned practices" not in out
    # weak answers were asked again, saying why
    followup = out[out.index("── Before you submit ──") :]
    assert "Control points" in followup and "Rollback" in followup and "Why it matters:" in followup
    assert "Workflow owner —" not in followup  # a good answer is not asked again
    # the classification is shown to the requester
    assert "Submitted as proposal #1" in out
    assert "Classified #1" in out and "high risk" in out
    assert "Tier: limited" in out  # people talk to it: the EU AI Act tier and duties are shown
    assert "Risk: HIGH" in out and "change_billing" in out

    data = core.status_data(1)
    answers = data["proposal"]["answers"]
    assert answers["stack"] == "automation" and answers["data"] == ["customer", "financial"]
    assert answers["control_points"].startswith("Daily refund total")
    assert answers["interacts_with_people"] is True and answers["use_area"] == "none"
    assert answers["rollback_path"] is None
    assert (data["proposal"]["vendor"], data["proposal"]["model"], data["proposal"]["downstream"]) == (
        "OpenAI",
        "gpt-4.1",
        [],
    )
    pending = {r["role"]: r for r in data["approvals"] if r["status"] == "pending"}
    assert sorted(pending) == ["department_lead", "finance", "governance", "owner"]
    assert core.load_draft("console", "U_ALICE") is None  # submitted: no draft left

    # the approvers read their inboxes; Mallory tries Fiona's request; then the right people approve
    fiona_request = pending["finance"]["id"]
    script: list[Line] = [
        "as U_FIONA",
        "inbox",
        "as U_MALLORY",
        f"approve {fiona_request}",
    ]
    for user in ("U_FIONA", "U_OMAR", "U_DANA", "UGOV"):
        script += [f"as {user}", "inbox", approve_from_inbox()]
    script += ["as U_ALICE", "inbox", "status 1", "quit"]
    out, _ = chat(core, "U_ALICE", script)

    fiona_inbox = out[out.index("Inbox of U_FIONA") : out.index("You are now U_MALLORY")]
    assert f"type: approve {fiona_request}" in fiona_inbox
    mallory = out[out.index("You are now U_MALLORY") : out.index("You are now U_FIONA", out.index("U_MALLORY"))]
    assert "approve" in mallory and "Approved" not in mallory
    assert "may decide" in mallory, mallory  # the refusal says who may decide

    data = core.status_data(1)
    assert all(r["status"] == "approved" for r in data["approvals"] if r["status"] != "superseded")
    actions = [e["action"] for e in data["audit"]]
    assert actions.count("decision.approve") == 4
    assert [(e["action"], e["actor"]) for e in data["audit"] if e["action"] == "decision.refused"] == [
        ("decision.refused", "U_MALLORY")
    ]
    # status in the console shows the trail
    status = out[out.rindex("status 1") :]
    assert "Audit trail" in status and "U_MALLORY" in status


def test_unfinished_interview_resumes_where_it_stopped(core):
    out, _ = chat(
        core,
        "U_BEA",
        [
            "propose Summarise weekly support themes",
            "",  # keep the title
            "Support",
            "Drafts a one-page summary of recurring themes from last week's tickets for the team meeting.",
            "cancel",
        ],
    )
    assert "Your answers are saved" in out
    draft = core.load_draft("console", "U_BEA")
    assert draft is not None
    assert draft["answers"]["department"] == "Support"
    assert draft["answers"]["title"] == "Summarise weekly support themes"

    out, stdin = chat(
        core,
        "U_BEA",
        [
            "propose",
            # resumes at current_process: title, department and description are not asked again
            "A team lead skims about 200 tickets every Friday and writes notes by hand.",
            "A one-page internal summary with the top five themes.",
            "me",  # owner
            "Friday notes take 3 hours today, target 30 minutes",
            "2",
            "3",  # capacity incremental, stack processes
            "2",
            "1",
            "1",
            "3",
            "1",
            "y",  # internal data, summarize, internal audience, every output, draft only
            "",
            "",  # no vendor, no model named
            "The lead writes the summary by hand as before",
            "The lead asks the support department lead",
            "The lead reads every summary before it is shared",
            "Stop the weekly job; the manual notes still work",
            "",  # hands work to no other department
            "y",
            "quit",
        ],
    )
    assert "Resuming your unfinished proposal" in out
    assert not stdin.lines
    assert "What should we call this workflow?" not in out
    assert "Which department runs it?" not in out
    # internal data, internal audience, no profiling: no EU AI Act questions at all
    assert "── EU AI Act" not in out and "── Before you submit ──" not in out
    assert "Submitted as proposal #1" in out and "low risk" in out
    answers = core.status_data(1)["proposal"]["answers"]
    assert answers["department"] == "Support" and answers["owner"] == "U_BEA"
    assert (answers["use_area"], answers["ai_act_role"]) == (None, None)  # not asked: unanswered, defaults apply


def test_employment_data_brings_the_annex_iii_questions(core):
    out, _ = chat(
        core,
        "U_HR",
        [
            "propose Rank job applicants for recruiters",
            "",
            "HR",
            "Reads CVs and ranks applicants for each opening.",
            "",
            "",
            "U_HRLEAD",
            "Time to shortlist from 5 days to 2",
            "",
            "",
            "3",
            "7",
            "2",
            "3",
            "1",
            "y",  # employee data, recommend, team, every output, draft only, visible
            "",
            "",  # no vendor, no model named
            "Recruiters read every CV that the ranking puts last",
            "Head of talent, then the HR director",
            "Recruiters confirm every shortlist",
            "Switch it off; recruiters shortlist by hand",
            "",  # hands work to no other department
            "5",  # use area: employment
            "y",  # scores people
            "",  # role: deployer
            "n",  # not only a narrow task
            "",  # no banned practice
            "",
            "",  # follow-ups (current process, expected output) left blank
            "",  # submit
            "quit",
        ],
    )
    page = interview.get_page("regulatory", {"data": ["employee"]}, policy=core.policy.current())
    employment = next(c for q in page.questions if q.key == "use_area" for c in q.choices if c.value == "employment")
    assert employment.help and f"{employment.label} — {employment.help}" in out  # plain-language Annex III help
    assert "Only a narrow task?" in out and "Banned practices" in out
    assert "Do people talk to it?" not in out  # a team audience is not people-facing
    assert "Submitted as proposal #1" in out
    assert "Tier: high" in out
    answers = core.status_data(1)["proposal"]["answers"]
    assert answers["use_area"] == "employment" and answers["profiles_people"] is True
    assert answers["narrow_procedural_task"] is False and answers["prohibited_practices"] is None  # left blank


def test_bad_commands_are_answered_not_crashed(core):
    out, stdin = chat(
        core,
        "U_X",
        ["approve", "approve twelve", "reject 3", "as", "status nope", "inbox", "frobnicate", "help", "quit"],
    )
    assert not stdin.lines
    assert "request id is missing" in out
    assert "request id: 'twelve' is not a number" in out
    assert "request id: there is no approval request 3" in out
    assert "as: '' is not a user id" in out
    assert "No messages for U_X." in out
    assert "In the console also:" in out and "inbox" in out
    assert "Something went wrong" not in out


LOW_RISK = make_proposal(owner="U_OMAR")


def test_a_comment_is_asked_only_of_someone_who_may_decide(core):
    rid = requests_by_role(core, core.submit("U_ALICE", "console", LOW_RISK).proposal_id)["owner"].id
    out, stdin = chat(core, "U_OMAR", ["reject", f"reject {rid}", "   ", "as U_MALLORY", f"reject {rid}", "quit"])
    assert not stdin.lines
    assert "request id is missing. Usage: reject <request id | #proposal id> <comment> [--override <reason>]" in out
    assert out.count("Comment (say why): ") == 1  # the owner is asked; Mallory is refused without a form
    assert (
        "comment: say why; a comment is required when rejecting (the requester sees it). "
        "Usage: reject <request id> <comment>"
    ) in out
    assert (
        "Not recorded: this request is routed to @U_OMAR; only they, their delegate, or governance with a "
        "written reason may decide it."
    ) in out
    assert [a["status"] for a in core.status_data(1)["approvals"]] == ["pending"]


def test_changes_requested_then_edited_in_one_summary_from_the_console(core):
    first = core.submit(
        "U_ALICE", "console", {**LOW_RISK, "vendor": "OpenAI", "model": "gpt-4.1", "downstream": ["Support"]}
    )
    assert first.classification["readiness"]["missing"] == []
    out, stdin = chat(
        core,
        "U_OMAR",
        [
            "inbox",
            approve_from_inbox("changes", "Please say how we switch it off"),
            "as U_ALICE",
            "inbox",
            # the edit opens one summary of the current answers; stopped there, it is kept ...
            "edit 1",
            "cancel",
            # ... and resumed later: the title and the rollback are corrected in place; the
            # proposal is complete, so nothing is left to ask
            "propose",
            "1,23",  # the baseline and target read from the metric come before the rollback
            "Summarise weekly support themes for the leads",
            "Stop the weekly job; the lead writes notes by hand",
            "",  # nothing else to correct
            "y",
            "quit",
        ],
    )
    assert not stdin.lines
    assert "Changes requested" in out
    resumed = out[out.index("Resuming your edit of proposal #1") :]
    assert (resumed.count("── Your current answers ──"), resumed.count("── Still to answer")) == (1, 0)
    assert "What should we call this workflow?" not in resumed.split("Anything else to correct?")[1]
    assert "Resubmitted as proposal #1 (revision 2)" in out
    answers = core.status_data(1)["proposal"]["answers"]
    assert (answers["title"], answers["rollback_path"], answers["capacity"], answers["data"]) == (
        "Summarise weekly support themes for the leads",
        "Stop the weekly job; the lead writes notes by hand",
        "incremental",
        ["internal"],
    )


def test_similar_workflows_of_other_departments_are_shown_before_submitting(core):
    earlier = core.submit(
        "U_FIN",
        "console",
        {
            **LOW_RISK,
            "title": "Late delivery refund replies",
            "department": "Finance",
            "description": "Drafts replies to complaints about late deliveries and issues the refund in the payment system.",
            "owner": "U_FRED",
        },
    )
    out, _ = chat(core, "U_ALICE", INTERVIEW + ["quit"])
    before = out[: out.index("Submit this proposal?")]
    assert "1 similar workflow exists in other departments" in before
    assert f"#{earlier.proposal_id} Late delivery refund replies (Finance, in_review; owner @U_FRED;" in before
    assert "Talk to their owners before you build" in before
