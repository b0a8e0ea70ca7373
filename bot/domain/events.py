"""Domain events: what a use case changed, as plain records ("Events, then messages").

Deciding, resubmitting and closing approval requests change state and return these;
`bot.service.publish` alone turns them into outbox messages, in the same unit of work
and before it commits. An event says what happened, never whom to tell or how: the
records it carries are snapshots taken when it happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.incidents import IncidentRow
from bot.domain.records import ApprovalRequestRow, DecisionRow


@dataclass(frozen=True)
class Decided:
    """An approval request was decided (its decision row is written)."""

    request: ApprovalRequestRow
    decision: DecisionRow
    via: str  # approver | holder | delegate | governance | governance_peer


@dataclass(frozen=True)
class QuorumCounted:
    """One approval counted towards a request's quorum; it still waits for more."""

    request: ApprovalRequestRow
    decision: DecisionRow
    approvals: int  # distinct approvals so far


@dataclass(frozen=True)
class StageChanged:
    """A proposal moved from one lifecycle stage to another."""

    proposal_id: int
    before: str
    after: str
    actor: str
    request_id: int | None = None  # the decision that moved it
    comment: str | None = None  # that decision's comment
    blocking: tuple[str, ...] = ()  # open stop conditions that hold it at `approved`


@dataclass(frozen=True)
class RequestReleased:
    """A pending request's turn came (opened, or the owner approved first): its
    approvers are asked now."""

    request: ApprovalRequestRow


@dataclass(frozen=True)
class RequestRevised:
    """A kept pending request now asks about a new revision of its proposal."""

    request: ApprovalRequestRow
    revision: int


@dataclass(frozen=True)
class RequestSuperseded:
    """A request no longer needs a decision (rejected elsewhere, resubmitted, retired)."""

    request: ApprovalRequestRow
    why: str  # for people: "rejected by <@U1>"
    was_pending: bool


@dataclass(frozen=True)
class AutonomyChanged:
    """Every request of an autonomy step is approved: the workflow runs at its target."""

    request: ApprovalRequestRow  # the request whose decision completed the step
    actor: str
    before: str | None


@dataclass(frozen=True)
class AutonomyDeclined:
    """An autonomy step was rejected (or sent back); its other requests are closed."""

    request: ApprovalRequestRow
    decision: str  # reject | request_changes
    actor: str


@dataclass(frozen=True)
class IncidentReported:
    """Someone reported an incident; a high one on a running workflow paused it
    (`paused_from`: the stage it left, None when it was not paused)."""

    incident: IncidentRow
    actor: str
    paused_from: str | None = None


@dataclass(frozen=True)
class IncidentResolved:
    """The owner or governance resolved an incident; `still_open` are the proposal's
    other open incidents."""

    incident: IncidentRow
    actor: str
    still_open: tuple[int, ...] = ()


Event = (
    Decided
    | QuorumCounted
    | StageChanged
    | RequestReleased
    | RequestRevised
    | RequestSuperseded
    | AutonomyChanged
    | AutonomyDeclined
    | IncidentReported
    | IncidentResolved
)
