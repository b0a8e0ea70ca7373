"""`govbot demo`: a scripted, non-interactive tour of the whole flow.

It plays every person in turn — requester, owner, approvers, someone who clicks a
button that is not theirs, the governance lead — and prints what each one sees. The
data stays in the database, so `govbot status`, `portfolio` and `chat` can explore it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, TextIO

from bot.domain.errors import Refused
from bot.messages.message import Message, plain
from bot.service.core import Govbot
from handlers.console.sender import ConsoleSender

CAST = {
    "U_GRACE": "Grace (governance lead)",
    "U_DANA": "Dana (Support department lead, also covers finance)",
    "U_SAM": "Sam (security)",
    "U_FIONA": "Fiona (finance)",
    "U_LEO": "Leo (legal)",
    "U_EVE": "Eve (engineering)",
    "U_ALICE": "Alice (support analyst, requester)",
    "U_OMAR": "Omar (support operations, workflow owner)",
    "U_MALLORY": "Mallory (a colleague who clicks the wrong button)",
}

NAMES = {  # what Slack or Teams would tell govbot each person is called
    "U_GRACE": "Grace Okafor",
    "U_DANA": "Dana Reyes",
    "U_SAM": "Sam Jones",
    "U_FIONA": "Fiona Walsh",
    "U_LEO": "Leo Novak",
    "U_EVE": "Eve Martin",
    "U_ALICE": "Alice Chen",
    "U_OMAR": "Omar Haddad",
    "U_MALLORY": "Mallory Kim",
}

LOW_RISK = {
    "title": "Summarise weekly support themes",
    "department": "Support",
    "description": "Reads last week's closed tickets and drafts a one-page summary of recurring themes for the team meeting.",
    "current_process": "A team lead skims about 200 tickets every Friday and writes notes by hand.",
    "expected_output": "A one-page internal summary with the top five themes and example tickets.",
    "data": ["internal"],
    "actions": ["summarize", "draft"],
    "audience": "internal",
    "owner": "U_OMAR",
    "review": "every_output",
    "autonomy": "draft_only",
    "exception_path": "If the summary looks wrong the lead writes it by hand as before.",
    "escalation_path": "Omar, then the Support department lead.",
    "control_points": "The lead reads every summary before it is shared.",
    "rollback_path": "Stop the weekly job; the manual process still exists.",
    "value_metric": "Lead time for the Friday notes: 3 hours today, target 30 minutes.",
    "failure_visible": True,
    "stack": "processes",
    "capacity": "incremental",
}

HIGH_RISK = {
    "title": "Refund agent for late deliveries",
    "department": "Support",
    "description": "Reads customer complaints about late deliveries, drafts a reply and issues the refund in the "
    "payment system when the order is more than five days late.",
    "current_process": "Agents check the tracking page, then refund by hand in the payment console.",
    "expected_output": "A drafted reply and a refund of the shipping fee, logged on the ticket.",
    "data": ["customer", "financial"],
    "actions": ["draft", "send_external"],
    "audience": "customer",
    "owner": "U_OMAR",
    "review": "spot_check",
    "autonomy": "human_approves",
    "exception_path": "Orders over 200 EUR or with a prior refund go to a human agent.",
    "escalation_path": "Support lead on duty, then finance for disputed amounts.",
    "control_points": "Daily refund total capped at 2,000 EUR; every refund logged with the ticket id.",
    "rollback_path": "Switch the agent off in the helpdesk; refunds return to the manual queue.",
    "value_metric": "Handling time per late-delivery ticket: 12 minutes today, target 4.",
    "failure_visible": True,
    "stack": "automation",
    "capacity": "strategic",
    "interacts_with_people": True,
    "generates_content": True,
}


LOW_RISK_PARAGRAPH = (
    "Summarise weekly support themes for the Friday team meeting. Every Friday the AI reads last week's closed "
    "tickets and drafts a one-page summary of recurring themes for the Support team. Today a team lead skims "
    "about 200 tickets every Friday and writes notes by hand. The output is a one-page internal summary with the "
    "top five themes and example tickets. The lead reads every summary before it is shared, and the AI only "
    "drafts. A wrong summary would be noticed by the team. If the summary looks wrong the lead writes it by hand "
    "as before. Problems go to Omar, then the Support department lead. To roll back we stop the weekly job; the "
    "manual process still exists. Success is lead time for the Friday notes from 3 hours to 30 minutes."
)


FROM_WORDS = "From your words: "  # how the summary's help gives the words an answer came from


def propose_in_own_words(t: Tour, user: str, paragraph: str, means: dict[str, Any]) -> Any:
    """`propose <paragraph>`: govbot reads it, shows one summary to confirm, the requester
    answers only what is left (`means` holds what they would answer), then it is submitted."""
    from bot.domain import questions
    from bot.domain.interview import to_proposal
    from bot.messages.message import Section
    from handlers.console.intake import shown

    t.say("govbot answers at once: Reading your description…")
    start = t.core.read_paragraph(user, "console", paragraph)
    answers = dict(start.seed)
    flow = t.core.interview_flow()
    step = flow.start(answers)
    if step.page.id == questions.SUMMARY:
        prefilled, asked = step.prefilled, step.asked
    else:  # the reading fell back: the plain interview asks every page
        prefilled, asked = (), tuple(q for page in flow.pages(answers) for q in page.questions)
    understood = tuple(
        (
            q.label,
            shown(q, answers.get(q.key))
            + (f"  (from {q.help[len(FROM_WORDS) :]})" if q.help.startswith(FROM_WORDS) else ""),
        )
        for q in prefilled
        if q.key != "description"
    )
    t.sees(
        user,
        Message(
            kind="interview_summary",
            text=f"Check your proposal ({t.core.extractor.name} reading)",
            sections=(
                Section("What govbot understood (correct any in place)", fields=understood),
                Section(f"Still to answer ({len(asked)})", ", ".join(q.label for q in asked) or "nothing"),
            ),
        ),
    )
    if t.core.extractor.name != "llm":
        t.say(
            "(No LLM is configured, so the lexicon read it: the title and whatever data and actions its words "
            "plainly name. With OPENAI_API_KEY set, an LLM pre-fills every answer the paragraph gives, each with "
            "its words, and far fewer questions are left.)"
        )
    for q in asked:
        answers[q.key] = means.get(q.key, answers.get(q.key))
    t.say(f"\n{CAST.get(user, user)} confirms the summary and answers the {len(asked)} questions left.")
    return t.core.submit(user, "console", to_proposal(answers))


class Tour:
    def __init__(self, core: Govbot, out: TextIO, color: bool):
        from handlers.console.render import render_message

        self.core, self.out, self.color = core, out, color
        self.inbox = ConsoleSender()  # keeps what each person received; the tour prints it
        self._render = render_message
        self.step = 0

    # -- printing ------------------------------------------------------------------
    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def chapter(self, title: str) -> None:
        self.step += 1
        line = "=" * 78
        self.out.write(
            f"\n{self._style(line, '2')}\n{self._style(f'{self.step}. {title}', '1;36')}\n{self._style(line, '2')}\n"
        )

    def say(self, text: str) -> None:
        from handlers.console.render import plain_mentions

        self.out.write(f"{plain_mentions(text)}\n")

    def sees(self, user: str, message: Message) -> None:
        who = CAST.get(user, user)
        self.out.write(f"\n{self._style('-- ' + who + ' sees:', '1;33')}\n")
        body = self._render(self.core.named(message), color=self.color)
        self.out.write("\n".join("   " + ln for ln in body.splitlines()) + "\n")

    def deliver(self) -> None:
        async def drain() -> None:
            while await self.core.deliver_due({"console": self.inbox}):
                pass

        asyncio.run(drain())

    def show_inbox(self, user: str) -> list[Message]:
        self.deliver()
        delivered = self.inbox.unread(user)
        self.inbox.mark_read(user)
        for item in delivered:
            message = item.message
            if item.updated:  # a chat platform edits the earlier message in place
                message = replace(message, text=f"(updates the earlier message) {message.text}")
            self.sees(user, message)
        return [item.message for item in delivered]


def _incident_chapter(t: Any, core: Govbot, proposal_id: int) -> None:
    """After go-live: a high incident pauses the workflow; resume waits for the resolution."""
    t.chapter("After go-live: Mallory reports a high incident, and the refund agent pauses")
    t.deliver()
    for user in ("U_OMAR", "U_GRACE", "U_MALLORY"):  # what they saw before is not this chapter's
        t.inbox.mark_read(user)
    report = core.report_incident(
        "U_MALLORY", proposal_id, "high", "It refunded order 4411 twice: 180 EUR paid out two times."
    )
    t.sees("U_MALLORY", report)
    t.show_inbox("U_OMAR")
    t.show_inbox("U_GRACE")
    incident_id = int(report.meta["incident_id"])
    try:
        core.transition("U_OMAR", proposal_id, "resume")
    except Refused as exc:
        t.say(f"\nOmar types `resume {proposal_id}` too early -> {exc.message}")
    t.sees(
        "U_OMAR",
        core.resolve_incident(
            "U_OMAR", incident_id, "Duplicate refund reversed; refunds now check the order's refund history first."
        ),
    )
    t.sees("U_OMAR", core.transition("U_OMAR", proposal_id, "resume"))
    t.show_inbox("U_MALLORY")


def _pending(core: Govbot, proposal_id: int) -> list[dict[str, Any]]:
    """The approval requests of a proposal still waiting for a decision."""
    return [a for a in core.status_data(proposal_id)["approvals"] if a["status"] == "pending"]


def run_demo(core: Govbot, out: TextIO, color: bool = False, *, operator: str) -> None:
    """The tour on `core`. `operator` is the actor id of whoever runs `govbot demo` (the
    command line's operator), who installs govbot and names its governance lead."""
    t = Tour(core, out, color)
    t.chapter("The role directory: who approves what")
    for user, name in NAMES.items():  # in Slack and Teams the platform tells govbot people's names
        core.remember_person("console", user, name)
    core.set_role(operator, "governance", "", ["U_GRACE"])
    for role, dept, users in (
        ("department_lead", "Support", ["U_DANA"]),
        ("security", "", ["U_SAM"]),
        ("finance", "", ["U_FIONA", "U_DANA"]),
        ("legal", "", ["U_LEO"]),
        ("engineering", "", ["U_EVE"]),
    ):
        core.set_role("U_GRACE", role, dept, users)
    t.sees("U_GRACE", core.roles())

    t.chapter("Alice proposes a workflow in one paragraph, in her own words")
    t.say(f"Alice types `/aiwf propose {LOW_RISK_PARAGRAPH}`")
    low = propose_in_own_words(t, "U_ALICE", LOW_RISK_PARAGRAPH, LOW_RISK)
    t.show_inbox("U_ALICE")
    roles = ", ".join(low.classification["approver_roles"])
    t.say(f"\n{low.classification['risk_level'].capitalize()} risk: these roles must approve: {roles}.")
    for request in _pending(core, low.proposal_id):
        t.show_inbox(request["approver"])
        outcome = core.decide(request["approver"], request["id"], "approve")
        t.say(f"\n{CAST.get(request['approver'], request['approver'])} clicks Approve -> {outcome.notice}")
    t.show_inbox("U_ALICE")

    t.chapter("Alice proposes a refund agent: high risk, several owners")
    high = core.submit("U_ALICE", "console", HIGH_RISK)
    t.show_inbox("U_ALICE")

    t.chapter("The approvers get their requests")
    requests = _pending(core, high.proposal_id)
    for user in dict.fromkeys(r["approver"] for r in requests):
        t.show_inbox(user)

    finance = next(r for r in requests if r["role"] == "finance")
    t.chapter(f"Mallory clicks the Approve button meant for {CAST.get(finance['approver'], finance['approver'])}")
    refused = core.decide("U_MALLORY", finance["id"], "approve")
    t.say(f"govbot answers Mallory privately: {refused.notice}")
    t.say("The attempt is in the audit trail; nothing else changed.")

    t.chapter("The right people decide")
    for request in requests:
        result = core.decide(request["approver"], request["id"], "approve")
        t.say(f"{CAST.get(request['approver'], request['approver'])} approves -> {result.notice}")
        if request["role"] == "department_lead":
            t.chapter("Separation of duties: one person decides at most one request per proposal")
            refused = core.decide("U_DANA", finance["id"], "approve")
            t.say(f"Dana also covers finance and clicks Approve on the finance request -> {refused.notice}")
            t.say("The request stays pending for Fiona; the attempt is in the audit trail.")
    again = core.decide(finance["approver"], finance["id"], "approve")
    t.say(f"A double click on the same button -> {again.status}: {again.notice}")
    t.show_inbox("U_ALICE")

    stage = core.status_data(high.proposal_id)["proposal"]["stage"]
    if stage == "approved":
        t.chapter("A stop condition holds: governance decides, in writing")
        for code in core.status_data(high.proposal_id)["classification"]["stop_conditions"]:
            msg = core.override_stop(
                "U_GRACE",
                high.proposal_id,
                code,
                "Refunds capped at 2,000 EUR a day and spot-checked daily during the pilot.",
            )
            t.sees("U_GRACE", msg)
        t.show_inbox("U_ALICE")

    if core.status_data(high.proposal_id)["proposal"]["stage"] == "pilot":
        t.chapter("Two weeks of pilot: the value is not there yet, so the production gate says no")
        t.say("Omar types `checkin <id> 9 Measured on 240 late-delivery tickets` (a number, in the metric's unit)")
        t.sees(
            "U_OMAR",
            core.record_checkin("U_OMAR", high.proposal_id, "9", "Measured on 240 late-delivery tickets"),
        )
        t.say(f"Omar types `promote {high.proposal_id}`")
        try:
            core.transition("U_OMAR", high.proposal_id, "promote")
        except Refused as exc:
            t.say(f"govbot refuses, naming every unmet condition:\n{plain(exc.message)}")

        t.chapter("Governance overrides the value condition, in writing")
        reason = "Refunds are capped at 2,000 EUR a day; handling time is reported weekly until it reaches 4 minutes."
        t.say(f'Grace types `promote {high.proposal_id} --override "{reason}"`')
        t.sees("U_GRACE", core.transition("U_GRACE", high.proposal_id, "promote", reason=reason))
        t.show_inbox("U_ALICE")

    if core.status_data(high.proposal_id)["proposal"]["stage"] in ("pilot", "production"):
        _incident_chapter(t, core, high.proposal_id)

    t.chapter("Status of the refund agent, with its audit trail")
    t.sees("U_ALICE", core.status(high.proposal_id))

    t.chapter("The portfolio summary")
    t.sees("U_GRACE", core.portfolio())
    t.say(
        f"\nThe data stays in the database. Try: govbot status {high.proposal_id} · govbot portfolio · "
        "govbot chat --as U_ALICE"
    )
