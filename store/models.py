"""SQLAlchemy 2.x models: one table per record in `bot.ports`.

Timestamps are stored as UTC and always come back timezone-aware (`UTCDateTime`),
whatever the backend: SQLite hands back naive values, PostgreSQL values in the session
time zone. Migrations in `store/migrations/versions` create exactly these tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.domain.records import as_utc

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON everywhere; JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored as UTC; naive input is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, list[str]: JSONType}


def _pid() -> Mapped[int]:
    return mapped_column(ForeignKey("proposals.id"), index=True)


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        Index("ix_proposals_sprawl_key_department_id", "sprawl_key", "department", "id"),
        # covering index for the portfolio facts (migration 0003): their scans read it, not the rows
        Index(
            "ix_proposals_facts",
            "stage",
            "id",
            "risk_level",
            "department",
            "capacity",
            "eu_tier",
            "sprawl_key",
            "stage_changed_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    requester: Mapped[str] = mapped_column(String(100), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    stage: Mapped[str] = mapped_column(String(40), index=True)
    risk_level: Mapped[str] = mapped_column(String(20), index=True)
    capacity: Mapped[str | None] = mapped_column(String(40), index=True)
    autonomy: Mapped[str | None] = mapped_column(String(40))
    eu_tier: Mapped[str | None] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    answers: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    stage_changed_at: Mapped[datetime] = mapped_column(index=True)
    # AI-sprawl grouping signature (migration 0002; written with each classification).
    sprawl_key: Mapped[str | None] = mapped_column(String(400))
    # who supplies the AI and which model (migration 0007; copies of the answers, for GROUP BY)
    vendor: Mapped[str | None] = mapped_column(String(120), index=True)
    model: Mapped[str | None] = mapped_column(String(120))


class ProposalTerms(Base):
    """What near-duplicates are found by (migration 0007): the offline word counts and,
    when an embeddings model is configured, the embedding. A changed text gets a new
    row (a new id), so an in-memory index catches up by reading ids it has not seen."""

    __tablename__ = "proposal_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    terms: Mapped[dict[str, Any]]
    embedding: Mapped[list[float] | None] = mapped_column(JSONType)
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SimilarPair(Base):
    """Two proposals of different departments found to be near-duplicates (migration
    0007), written when the newer one was submitted; read in both directions."""

    __tablename__ = "similar_pairs"
    __table_args__ = (UniqueConstraint("proposal_id", "other_id"), Index(None, "other_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    other_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProposalDownstream(Base):
    """A department that receives a proposal's output (`downstream`, migration 0007)."""

    __tablename__ = "proposal_downstream"
    __table_args__ = (UniqueConstraint("proposal_id", "department"), Index(None, "department"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    department: Mapped[str] = mapped_column(String(200))


class ProposalRevision(Base):
    __tablename__ = "proposal_revisions"
    __table_args__ = (UniqueConstraint("proposal_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    revision: Mapped[int]
    answers: Mapped[dict[str, Any]]
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Classification(Base):
    __tablename__ = "classifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = _pid()
    revision: Mapped[int]
    risk_level: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    # the policy that produced the verdict (migration 0011)
    policy_version: Mapped[str | None] = mapped_column(String(200))
    policy_hash: Mapped[str | None] = mapped_column(String(64))


class StopCondition(Base):
    __tablename__ = "stop_conditions"
    __table_args__ = (UniqueConstraint("proposal_id", "code"), Index(None, "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    code: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime]


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"
    __table_args__ = (Index(None, "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = _pid()
    role: Mapped[str] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(200))
    approver: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str | None] = mapped_column(String(40))
    round: Mapped[int]
    status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # fell back to governance because nobody holds the routed role (migration 0004)
    governance_fallback: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # separation of duties and quorum (migration 0012)
    quorum: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    requested_by: Mapped[str | None] = mapped_column(String(100))
    waiting: Mapped[str | None] = mapped_column(String(40))
    # what the card showed and what its approvers saw before (migration 0016)
    shown_revision: Mapped[int | None] = mapped_column(Integer)
    since_revision: Mapped[int | None] = mapped_column(Integer)


class Decision(Base):
    """One person's decision on one request: unique per (request, decider), so a quorum
    collects several and a repeated click returns the first (migration 0012)."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("request_id", "actor"), Index(None, "request_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id"))
    decision: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(100))
    on_behalf_of: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class AuditEventModel(Base):
    """Append-only: database triggers refuse UPDATE, DELETE, REPLACE and TRUNCATE
    (migrations 0001 and 0006), and each row is hash-chained to the one before it
    (`store.audit_chain`); `prev_hash` is unique, so the chain cannot fork."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the trail outlives anything
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(80), index=True)
    detail: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(index=True)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class RoleAssignmentModel(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("role", "department", "user_id"), Index(None, "user_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(40))
    department: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[str] = mapped_column(String(100))
    assigned_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class DelegationModel(Base):
    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(100), index=True)
    delegate_id: Mapped[str] = mapped_column(String(100), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class ConversationRefModel(Base):
    __tablename__ = "conversation_refs"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(String(500))
    reference: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class PersonModel(Base):
    """A chat user's display name (`people`, migration 0010)."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), index=True)
    first_key: Mapped[str] = mapped_column(String(120), index=True)
    updated_at: Mapped[datetime]


class OutboxModel(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]]
    ref_key: Mapped[str | None] = mapped_column(String(200))
    thread_key: Mapped[str | None] = mapped_column(String(200))
    update_key: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)  # NULLs never collide
    proposal_id: Mapped[int | None] = mapped_column(Integer, index=True)  # from payload["meta"]
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class MessageRefModel(Base):
    __tablename__ = "message_refs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    ref: Mapped[dict[str, Any]]


class CheckinModel(Base):
    __tablename__ = "checkins"
    __table_args__ = (Index(None, "proposal_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    value: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class JobRunModel(Base):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(60))
    claimed_by: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]]


class DigestModel(Base):
    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime] = mapped_column(index=True)
    facts: Mapped[dict[str, Any]]
    prompt_name: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    posted_to: Mapped[list[str]]
    created_at: Mapped[datetime]
    audit_head: Mapped[str | None] = mapped_column(String(80))  # the audit chain head when stored


class InterviewDraftModel(Base):
    __tablename__ = "interview_drafts"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    answers: Mapped[dict[str, Any]]
    step: Mapped[str | None] = mapped_column(String(60))
    proposal_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class KeyValueModel(Base):
    """The key-value table (`bot.ports.KeyValueRepo`); the table keeps its first name."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ExtractionModel(Base):
    """How a requester's paragraph was read (migration 0008)."""

    __tablename__ = "extractions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(200))
    proposal_id: Mapped[int | None] = mapped_column(Integer, index=True)
    extractor: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    prompt_name: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(40))
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    fallback_reason: Mapped[str | None] = mapped_column(Text)
    prefilled: Mapped[dict[str, Any]]
    dropped: Mapped[list[str]]
    asked: Mapped[list[str]]
    changed: Mapped[list[str] | None] = mapped_column(JSONType)
    prefilled_count: Mapped[int] = mapped_column(Integer)
    asked_count: Mapped[int] = mapped_column(Integer)
    changed_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(index=True)
    settled_at: Mapped[datetime | None]


class PolicyVersionModel(Base):
    """Policies stored in SQL (migration 0011): the newest `applied` row is active."""

    __tablename__ = "policy_versions"
    __table_args__ = (Index(None, "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    version: Mapped[str] = mapped_column(String(200))
    hash: Mapped[str] = mapped_column(String(64))
    toml: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    applied_by: Mapped[str | None] = mapped_column(String(100))
    applied_at: Mapped[datetime | None]


class ReassessmentModel(Base):
    """Scheduled reviews of running workflows (migration 0011)."""

    __tablename__ = "reassessments"
    __table_args__ = (Index(None, "proposal_id", "status"), Index(None, "status", "drift_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    status: Mapped[str] = mapped_column(String(20))
    risk_level: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    drift_at: Mapped[datetime]
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))


class InboundActionModel(Base):
    """Acknowledged actions, recorded before the platform is told (migration 0015)."""

    __tablename__ = "inbound_actions"
    __table_args__ = (UniqueConstraint("platform", "key"), Index(None, "status", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class IncidentModel(Base):
    """Incidents reported on a workflow after go-live (migration 0014)."""

    __tablename__ = "incidents"
    __table_args__ = (Index(None, "proposal_id", "status"), Index(None, "status", "severity"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
