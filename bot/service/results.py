"""What use cases return to the channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.domain.approval_rules import missing_comment
from bot.domain.questions import Question
from bot.messages.message import Message


@dataclass
class InterviewStart:
    """A command asks the channel to open the interview (modal, card form, prompts)."""

    seed: dict[str, Any]  # answers known so far (seed text, resumed draft, or the proposal for edits)
    proposal_id: int | None = None  # set when editing after "changes requested"
    resumed: bool = False
    paragraph: str | None = None  # the requester's words, to read (`Govbot.read_paragraph`) before opening
    describe: bool = False  # open with "Describe it in your own words" (a new, empty interview)


@dataclass(frozen=True)
class AssessForm:
    """`assess <id>`: the regulatory questions to ask the owner (a Slack modal, a Teams
    card, console prompts), each input keyed by the proposal key it fills. `settled`
    names the answers the words already gave, with their words; `tier` and `basis`
    are the EU AI Act tier as it stands."""

    proposal_id: int
    title: str
    questions: tuple[Question, ...]
    settled: tuple[str, ...]
    tier: str
    basis: tuple[str, ...]
    answered: bool = False  # `eu_ai_act.answered`: some regulatory key was given


@dataclass
class Reply:
    """What a chat command produced: a message to show, and/or an interview or the
    regulatory questions (`assess`) to open."""

    message: Message | None = None
    interview: InterviewStart | None = None
    ephemeral: bool = True  # shown only to the actor where the platform allows
    assess: AssessForm | None = None


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
    may_override: bool = False  # refused only for want of a written governance reason: offer the form


@dataclass(frozen=True)
class DecisionForm:
    """What deciding a request asks of one person (`Govbot.decision_form`), before a
    channel shows its form: refused outright, or which inputs are required."""

    request_id: int
    decision: str  # approve | reject | request_changes
    refusal: str | None = None  # why they cannot decide it now (deciding anyway records the refusal)
    comment_required: bool = False
    reason_required: bool = False  # governance deciding in the routed approver's place

    def missing(self, comment: str | None, reason: str | None) -> dict[str, str]:
        """The required inputs left blank, as {"comment" | "override_reason": what to write}."""
        problems: dict[str, str] = {}
        problem = missing_comment(self.decision, comment) if self.comment_required else None
        if problem is not None:
            problems["comment"] = problem
        if self.reason_required and not (reason or "").strip():
            problems["override_reason"] = (
                "override reason: governance deciding in the approver's place must give a written reason"
            )
        return problems
