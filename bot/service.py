"""The service facade every channel drives (Slack, Teams, console, CLI).

Handlers only translate: a payload becomes one of these calls, and the returned
neutral `Message` is rendered for the platform. Every state change happens in one
unit of work together with its audit event and its outbox messages.

CONTRACT (written first so the channel work can proceed in parallel): the names,
parameters and result types below are what handlers call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.messages import Message


class Refused(Exception):
    """The actor may not do this (not the routed approver, not governance, ...).

    `message` is phrased for the actor; the attempt has already been audited.
    """

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class UsageError(ValueError):
    """A chat command or argument is malformed; `message` says what is allowed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class InterviewStart:
    """A command asks the channel to open the interview (modal, card form, prompts)."""

    seed: dict[str, Any]  # answers known so far (seed text, resumed draft, or the proposal for edits)
    proposal_id: int | None = None  # set when editing after "changes requested"
    resumed: bool = False


@dataclass
class Reply:
    """What a chat command produced: a message to show, and/or an interview to open."""

    message: Message | None = None
    interview: InterviewStart | None = None
    ephemeral: bool = True  # shown only to the actor where the platform allows


@dataclass
class Submitted:
    proposal_id: int
    revision: int
    classification: dict[str, Any]  # the `govbot classify` JSON
    message: Message  # the classification message (also queued to the requester)
    approval_request_ids: list[int] = field(default_factory=list)
    duplicate: bool = False  # the same submission was already recorded (retry)


@dataclass
class DecisionOutcome:
    status: str  # recorded | duplicate | refused
    request_id: int
    proposal_id: int
    decision: str | None  # approve | reject | request_changes (None when refused)
    notice: str  # one line for the actor ("Approved.", "Already approved by <@U1> at ...")
    card: Message  # the approval message as it should now look (buttons gone once decided)
    proposal_stage: str = ""


class Govbot:
    """The core, wired with its ports by `bot.app.build_core`.

    `uow` makes a new unit of work; `clock` gives the time; `policy` is the loaded
    classification policy; `settings` is `bot.settings.Settings`.
    """

    def __init__(self, uow: Any, clock: Any, policy: Any, settings: Any, instance: str = "local"):
        self.uow = uow
        self.clock = clock
        self.policy = policy
        self.settings = settings
        self.instance = instance

    # --- chat commands (Slack `/aiwf ...`, Teams typed text, console) -------------
    def handle_command(self, actor: str, channel: str, text: str) -> Reply:
        """Parse and run `propose [desc]`, `mine`, `status <id>`, `portfolio`, `roles
        [set <role> [department] <user>...]`, `digest [here]`, `help`, and the lifecycle
        commands (`pause|resume|retire|promote <id>`, `override <id> <code> <reason>`,
        `delegate <user> <until>`, `checkin <id> <value>`, `autonomy <id>`). An unknown
        subcommand answers with help. Raises nothing: usage errors and refusals come
        back as a Reply whose message says what is wrong."""
        raise NotImplementedError

    def help(self) -> Message:
        raise NotImplementedError

    # --- interview ------------------------------------------------------------------
    def load_draft(self, channel: str, actor: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def save_draft(self, channel: str, actor: str, answers: dict[str, Any], step: str | None,
                   proposal_id: int | None = None) -> None:
        raise NotImplementedError

    def edit_seed(self, actor: str, proposal_id: int) -> InterviewStart:
        """Answers of the latest revision, for reopening the interview prefilled after
        "changes requested". Only the requester (or owner) may edit; else Refused."""
        raise NotImplementedError

    def submit(self, actor: str, channel: str, answers: dict[str, Any], proposal_id: int | None = None,
               idempotency_key: str | None = None) -> Submitted:
        """Validate (ProposalInvalid names every bad key), classify, store the proposal
        and its revision, route approvals through the role directory and queue the
        classification message and approval requests in the outbox. With
        `proposal_id`, it is a resubmission after changes were requested (Refused if
        the actor may not edit it). `idempotency_key` (e.g. Slack's view id) makes a
        retried submission return the first result with duplicate=True."""
        raise NotImplementedError

    # --- approvals ------------------------------------------------------------------
    def decide(self, actor: str, request_id: int, decision: str, comment: str | None = None,
               override_reason: str | None = None) -> DecisionOutcome:
        """Record approve / reject / request_changes. Only the routed approver, their
        active delegate, or governance with `override_reason` may decide; anyone else
        gets status="refused" (and the attempt is audited). A repeated or concurrent
        decision returns status="duplicate" with the first decision's card."""
        raise NotImplementedError

    def approval_card(self, request_id: int, viewer: str | None = None) -> Message:
        """The approval message as `viewer` should see it: buttons only while pending
        and only for someone who may decide (Teams `refresh`)."""
        raise NotImplementedError

    def may_decide(self, actor: str, request_id: int) -> bool:
        raise NotImplementedError

    # --- views ----------------------------------------------------------------------
    def status(self, proposal_id: int) -> Message:
        raise NotImplementedError

    def status_data(self, proposal_id: int) -> dict[str, Any]:
        """`govbot status ID --json`: proposal, classification, stop conditions,
        approvals, decisions, check-ins, audit trail, undelivered outbox rows."""
        raise NotImplementedError

    def mine(self, actor: str) -> Message:
        raise NotImplementedError

    def home(self, actor: str) -> Message:
        """App Home / personal tab: the actor's proposals and the approvals waiting on
        them, with the approval buttons."""
        raise NotImplementedError

    def portfolio(self) -> Message:
        raise NotImplementedError

    def portfolio_data(self) -> dict[str, Any]:
        raise NotImplementedError

    def roles(self) -> Message:
        raise NotImplementedError

    def set_role(self, actor: str, role: str, department: str, users: list[str]) -> Message:
        """Governance only (Refused otherwise)."""
        raise NotImplementedError

    # --- conversation references (Teams proactive messages) -------------------------
    def remember_conversation(self, platform: str, user_id: str, conversation_id: str,
                              reference: dict[str, Any]) -> None:
        raise NotImplementedError
