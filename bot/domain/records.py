"""Plain records the store returns and the core reads (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def as_utc(value: datetime) -> datetime:
    """A record's moment in UTC. Records hold UTC; a database that hands back naive
    datetimes (SQLite) means UTC by them."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class ProposalRow:
    id: int
    title: str
    requester: str
    channel: str  # slack | teams | console | import
    department: str | None
    owner: str | None
    stage: str
    risk_level: str
    capacity: str | None
    autonomy: str | None
    eu_tier: str | None
    revision: int
    answers: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    stage_changed_at: datetime
    vendor: str | None = None  # who supplies the AI (copied from the answers)
    model: str | None = None  # which model or product


@dataclass
class RevisionRow:
    proposal_id: int
    revision: int
    answers: dict[str, Any]
    author: str
    created_at: datetime


@dataclass
class ClassificationRow:
    id: int
    proposal_id: int
    revision: int
    risk_level: str
    result: dict[str, Any]  # the `govbot classify` JSON, with "regulatory" when present
    created_at: datetime
    # the policy that produced it (also in `result`); None on rows stored before 0011
    policy_version: str | None = None
    policy_hash: str | None = None


@dataclass
class StopConditionRow:
    id: int
    proposal_id: int
    code: str
    status: str  # open | overridden | resolved
    override_reason: str | None
    overridden_by: str | None
    changed_at: datetime


@dataclass
class ApprovalRequestRow:
    id: int
    proposal_id: int
    role: str
    department: str | None
    approver: str  # user id who must decide (governance fallback when unassigned)
    kind: str  # proposal | autonomy
    target: str | None  # autonomy level asked for, when kind == autonomy
    round: int  # classification revision that opened it
    status: str  # pending | approved | rejected | changes_requested | superseded
    note: str | None  # for people: e.g. "no department_lead assigned for Finance; routed to governance"
    created_at: datetime
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    decided_at: datetime | None = None
    sequence: int = 0  # 0 = parallel; owner-first policy puts the owner at 0, others at 1
    governance_fallback: bool = False  # routed to governance because nobody holds the role (or no owner named)
    quorum: int = 1  # approvals by distinct holders it needs (policy `quorum`)
    requested_by: str | None = None  # who asked for an autonomy step (never decides it)
    waiting: str | None = None  # why nobody may decide it yet (bot.domain.duties.WAITING_NO_ELIGIBLE); approver ""
    # the proposal revision its card last showed, and the revision its approvers saw before
    # that (on this request or an earlier one for the same role): the card shows the changes between
    shown_revision: int | None = None
    since_revision: int | None = None


@dataclass
class DecisionRow:
    id: int
    request_id: int
    decision: str  # approve | reject | request_changes
    actor: str
    on_behalf_of: str | None  # the routed approver, when a delegate or governance decided
    comment: str | None
    override_reason: str | None
    created_at: datetime


@dataclass
class AuditEvent:
    id: int
    proposal_id: int | None
    actor: str
    action: str  # e.g. proposal.submitted, decision.approve, decision.refused, stage.pilot
    detail: dict[str, Any]
    created_at: datetime


@dataclass
class RoleAssignment:
    role: str
    department: str  # "" for roles that are not per department
    user_id: str
    assigned_by: str
    created_at: datetime


@dataclass
class Delegation:
    id: int
    user_id: str
    delegate_id: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime


@dataclass
class ConversationRef:
    platform: str
    user_id: str
    conversation_id: str
    reference: dict[str, Any]
    updated_at: datetime


@dataclass
class Person:
    """A chat user's display name, as their platform last told it (cleaned)."""

    user_id: str
    platform: str  # slack | teams | console
    name: str
    updated_at: datetime


@dataclass
class OutboxRow:
    id: int
    channel: str
    recipient: str
    kind: str
    payload: dict[str, Any]  # Message.to_json()
    ref_key: str | None
    thread_key: str | None
    update_key: str | None
    dedupe_key: str | None
    status: str  # pending | sent | failed (gave up; kept visible)
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None = None


@dataclass
class Checkin:
    id: int
    proposal_id: int
    value: str
    note: str | None
    reported_by: str
    period: str  # e.g. "2026-W47"
    created_at: datetime


@dataclass
class JobRun:
    id: int
    job: str
    period: str
    claimed_by: str
    claimed_at: datetime
    finished_at: datetime | None
    status: str  # running | done | failed
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class DigestRow:
    id: int
    period_start: datetime
    period_end: datetime
    facts: dict[str, Any]
    prompt_name: str
    prompt_version: str
    model: str
    text: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    status: str  # draft | in_review | posted | failed
    fallback_reason: str | None
    posted_to: list[str]
    created_at: datetime
    audit_head: str | None = None  # "#<id> <sha256>": the audit chain head when the digest was stored


@dataclass
class InterviewDraft:
    channel: str
    user_id: str
    answers: dict[str, Any]
    step: str | None
    proposal_id: int | None  # set when editing an existing proposal
    updated_at: datetime


@dataclass
class PolicyVersionRow:
    """A policy stored in SQL: `applied` (the newest applied row is the active policy)
    or a `candidate` uploaded in chat and waiting for a governance confirm."""

    id: int
    kind: str  # applied | candidate
    version: str
    hash: str  # content hash (bot.domain.policy_file.content_hash)
    toml: str
    created_by: str
    created_at: datetime
    applied_by: str | None = None
    applied_at: datetime | None = None


@dataclass
class ReassessmentRow:
    """A running workflow's scheduled review: the owner confirms its answers or edits them."""

    id: int
    proposal_id: int
    status: str  # open | confirmed | edited | closed (the workflow stopped running)
    risk_level: str  # when it was opened
    due_at: datetime
    drift_at: datetime  # still open after this: governance drift
    opened_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None


@dataclass(frozen=True)
class StoredVerdict:
    """What a live proposal's stored verdict says, next to its answers (what-if)."""

    proposal_id: int
    answers: dict[str, Any]
    risk_level: str
    tier: str | None
    stop_conditions: tuple[str, ...]
    approver_roles: tuple[str, ...]


@dataclass
class InboundAction:
    """An action a person took in a channel (an approval click), recorded before the
    platform was told it was received, and processed from this record (migration 0015).
    `key` is the platform's idempotency key: a repeated delivery finds the same row."""

    id: int
    platform: str  # slack | teams
    key: str
    actor: str
    kind: str  # decide
    payload: dict[str, Any]  # validated, minimal (`bot.service.inbound.check_payload`)
    status: str  # received | done | failed
    attempts: int
    claimed_by: str | None  # the process working on it ("host:pid:token")
    lease_until: datetime | None  # another process may take it over after this
    last_error: str | None
    received_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
