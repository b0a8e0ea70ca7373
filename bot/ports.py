"""Ports: what the core needs from the outside world, as small protocols.

`store/` implements the repositories and the unit of work over SQLAlchemy; tests may
use the same SQL store on SQLite. Records are plain dataclasses so the core never sees
an ORM object. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from bot.domain.extraction import Extraction, ExtractionRow
from bot.domain.incidents import IncidentRow
from bot.domain.policy import Policy
from bot.domain.records import (
    ApprovalRequestRow,
    AuditEvent,
    Checkin,
    ClassificationRow,
    ConversationRef,
    DecisionRow,
    Delegation,
    DigestRow,
    InboundAction,
    InterviewDraft,
    JobRun,
    OutboxRow,
    Person,
    PolicyVersionRow,
    ProposalRow,
    ReassessmentRow,
    RevisionRow,
    RoleAssignment,
    StopConditionRow,
    StoredVerdict,
)
from bot.domain.similarity import Match, SimilarityRules, TextVector

# --------------------------------------------------------------------------- repositories


class ProposalRepo(Protocol):
    def add(self, row: ProposalRow, author: str) -> ProposalRow:
        """Insert a proposal and its first revision; returns it with its id."""

    def get(self, proposal_id: int, *, for_update: bool = False) -> ProposalRow:
        """Raise NotFound when missing. `for_update` locks the row (PostgreSQL)."""

    def update(self, row: ProposalRow) -> None:
        """Write stage, risk, owner, autonomy, revision, answers and timestamps."""

    def add_revision(self, proposal_id: int, answers: dict[str, Any], author: str, at: datetime) -> int:
        """Store a new revision of the answers; returns its number."""

    def revisions(self, proposal_id: int) -> list[RevisionRow]: ...

    def by_requester(self, user_id: str, limit: int = 50) -> list[ProposalRow]: ...

    def by_owner(self, user_id: str, limit: int = 50) -> list[ProposalRow]: ...

    def in_stages(self, stages: Sequence[str], limit: int | None = None) -> list[ProposalRow]: ...

    def list(self, limit: int | None = None, offset: int = 0) -> list[ProposalRow]: ...

    def count(self) -> int: ...


class ClassificationRepo(Protocol):
    def add(self, proposal_id: int, revision: int, result: dict[str, Any], at: datetime) -> ClassificationRow: ...

    def latest(self, proposal_id: int) -> ClassificationRow | None: ...

    def at_revision(self, proposal_id: int, revision: int) -> ClassificationRow | None:
        """The latest classification of that revision of the proposal (None when none)."""
        ...


class StopConditionRepo(Protocol):
    def for_proposal(self, proposal_id: int) -> list[StopConditionRow]: ...

    def set_open(self, proposal_id: int, codes: Sequence[str], at: datetime) -> None:
        """Open the given codes (keeping earlier overrides of the same code) and mark
        codes no longer present as resolved."""

    def override(self, proposal_id: int, code: str, by: str, reason: str, at: datetime) -> StopConditionRow: ...


class ApprovalRepo(Protocol):
    def add(self, row: ApprovalRequestRow) -> ApprovalRequestRow: ...

    def add_many(self, rows: Sequence[ApprovalRequestRow]) -> list[ApprovalRequestRow]:
        """Several `add`s in one statement; the stored rows in the same order."""

    def get(self, request_id: int, *, for_update: bool = False) -> ApprovalRequestRow: ...

    def update(self, row: ApprovalRequestRow) -> None:
        """Write the row's state (status, note, times...); not what its card showed."""

    def mark_shown(self, row: ApprovalRequestRow) -> None:
        """Write the row's `shown_revision` and `since_revision` (only those)."""

    def for_proposal(self, proposal_id: int) -> list[ApprovalRequestRow]: ...

    def pending_for(self, user_id: str) -> list[ApprovalRequestRow]: ...

    def pending_in_roles(self, roles: Sequence[str], *, governance_fallback: bool = False) -> list[ApprovalRequestRow]:
        """Pending requests routed as any of `roles`, and with `governance_fallback` also
        those that fell back to governance (oldest first)."""

    def pending_older_than(self, created_before: datetime) -> list[ApprovalRequestRow]: ...


class DecisionRepo(Protocol):
    def add(self, row: DecisionRow) -> DecisionRow:
        """Raise Conflict if the decider already decided this request."""

    def for_request(self, request_id: int) -> DecisionRow | None:
        """The latest decision on the request (the one that decided it, with a quorum)."""

    def all_for_request(self, request_id: int) -> list[DecisionRow]:
        """Every decision on the request, oldest first (a quorum collects several)."""

    def for_proposal(self, proposal_id: int) -> list[DecisionRow]: ...


class AuditRepo(Protocol):
    """Append-only: there is no update and no delete."""

    def add(self, proposal_id: int | None, actor: str, action: str, detail: dict[str, Any], at: datetime) -> None: ...

    def for_proposal(self, proposal_id: int) -> list[AuditEvent]: ...

    def recent(self, limit: int = 100) -> list[AuditEvent]: ...

    def head(self) -> tuple[int, str] | None:
        """(id, hash) of the newest event of the hash chain; None for an empty trail."""


class RoleRepo(Protocol):
    def holders(self, role: str, department: str = "") -> list[str]: ...

    def set(self, role: str, department: str, user_ids: Sequence[str], by: str, at: datetime) -> None:
        """Replace the holders of (role, department)."""

    def all(self) -> list[RoleAssignment]: ...

    def roles_of(self, user_id: str) -> list[RoleAssignment]: ...


class DelegationRepo(Protocol):
    def add(self, row: Delegation) -> Delegation: ...

    def active_for(self, user_id: str, at: datetime) -> list[Delegation]:
        """Delegations where `user_id` is the original approver and `at` is in range."""

    def delegators_of(self, delegate_id: str, at: datetime) -> list[str]:
        """Users who delegated to `delegate_id` at `at`."""


class ConversationRepo(Protocol):
    def upsert(self, ref: ConversationRef) -> None: ...

    def get(self, platform: str, user_id: str) -> ConversationRef | None: ...


class PeopleRepo(Protocol):
    """Display names of chat users (a cache of what Slack and Teams say)."""

    def get(self, user_id: str) -> Person | None: ...

    def names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """{user id: display name} for those of `user_ids` whose name is known."""

    def put(self, person: Person) -> None:
        """Insert or replace the person's name."""

    def find(self, key: str) -> list[Person]:
        """People whose whole name, or else whose first name, has this match key
        (`bot.domain.people.name_key`)."""


class OutboxRepo(Protocol):
    def add(
        self,
        channel: str,
        recipient: str,
        kind: str,
        payload: dict[str, Any],
        at: datetime,
        *,
        ref_key: str | None = None,
        thread_key: str | None = None,
        update_key: str | None = None,
        dedupe_key: str | None = None,
    ) -> OutboxRow | None:
        """Queue a message; returns None when `dedupe_key` was already queued."""

    def due(self, channels: Sequence[str], now: datetime, limit: int = 50) -> list[OutboxRow]:
        """Pending rows for the given channels whose next attempt is due, oldest first."""

    def claim(self, outbox_id: int, now: datetime, lease_until: datetime) -> bool:
        """Take a row for delivery (moves next_attempt_at to lease_until if still due);
        False when another worker took it."""

    def mark_sent(self, outbox_id: int, at: datetime) -> None: ...

    def mark_retry(self, outbox_id: int, error: str, next_attempt_at: datetime, give_up: bool) -> None: ...

    def for_recipient(self, recipient: str, limit: int = 50) -> list[OutboxRow]: ...

    def pending_for_proposal(self, proposal_id: int) -> list[OutboxRow]:
        """Undelivered rows whose payload meta names this proposal (shown in status)."""


class MessageRefRepo(Protocol):
    def put(self, key: str, channel: str, ref: dict[str, Any]) -> None: ...

    def get(self, key: str) -> dict[str, Any] | None: ...


class CheckinRepo(Protocol):
    def add(self, row: Checkin) -> Checkin: ...

    def for_proposal(self, proposal_id: int) -> list[Checkin]: ...

    def latest(self, proposal_id: int) -> Checkin | None: ...


class JobRepo(Protocol):
    def claim(self, job: str, period: str, instance: str, at: datetime) -> bool:
        """Insert the (job, period) row; False when another instance holds it."""

    def reclaim(self, job: str, period: str, instance: str, at: datetime, stale_before: datetime) -> bool:
        """Take over a (job, period) still `running` under a claim made before
        `stale_before` (its process died); race-free across instances. False when the
        run finished or its claim is fresh."""

    def finish(self, job: str, period: str, status: str, detail: dict[str, Any], at: datetime) -> None: ...

    def recent(self, limit: int = 50) -> list[JobRun]: ...


class DigestRepo(Protocol):
    def add(self, row: DigestRow) -> DigestRow: ...

    def get(self, digest_id: int) -> DigestRow: ...

    def update(self, row: DigestRow) -> None: ...

    def latest(self) -> DigestRow | None: ...


class DraftRepo(Protocol):
    def get(self, channel: str, user_id: str) -> InterviewDraft | None: ...

    def put(self, draft: InterviewDraft) -> None: ...

    def delete(self, channel: str, user_id: str) -> None: ...


class ExtractionRepo(Protocol):
    """How each paragraph was read (DESIGN.md "Intake in one paragraph"), for measuring."""

    def add(self, row: ExtractionRow) -> ExtractionRow:
        """Store one extraction; returns it with its id."""

    def get(self, extraction_id: int) -> ExtractionRow:
        """Raise NotFound when missing."""

    def settle(self, extraction_id: int, proposal_id: int, changed: Sequence[str], at: datetime) -> None:
        """Record the proposal it became and which pre-filled answers the requester changed."""

    def stats(self) -> dict[str, Any]:
        """Per extractor: extractions, settled, pre-filled and changed answers, questions
        asked (mean, max), fallbacks, mean latency and tokens."""


class KeyValueRepo(Protocol):
    """A small key-value table: idempotency records, the digest channel chosen by
    `digest here`, the hash of the last roles file applied."""

    def get(self, key: str) -> str | None: ...

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The values of those `keys` that are set."""

    def put(self, key: str, value: str) -> None: ...


class PolicyRepo(Protocol):
    """Policies stored in SQL: the newest `applied` row is the active policy; rows of
    kind `candidate` wait for a governance confirm. Also reads the live portfolio's
    stored verdicts for `policy what-if` and `policy apply`."""

    def add(self, row: PolicyVersionRow) -> PolicyVersionRow: ...

    def get(self, version_id: int) -> PolicyVersionRow:
        """Raise NotFound when missing."""

    def active_stamp(self) -> tuple[int, str] | None:
        """(id, content hash) of the active policy, None when none was applied: the
        cheap read every instance repeats to notice a change."""

    def active(self) -> PolicyVersionRow | None: ...

    def history(self, limit: int = 20) -> list[PolicyVersionRow]:
        """Applied policies, newest (the active one) first."""

    def mark(self, version_id: int, kind: str) -> None:
        """Set a row's kind (a candidate becomes `confirmed` once applied)."""

    def live_verdicts(self, exclude_stages: Sequence[str], batch: int = 1000) -> Iterator[list[StoredVerdict]]:
        """Every proposal not in `exclude_stages` with its latest stored verdict, by id,
        `batch` at a time, streamed (memory does not grow with the portfolio). Consume
        it inside the unit of work's block."""

    def live_page(
        self, exclude_stages: Sequence[str], after_id: int, limit: int
    ) -> list[tuple[ProposalRow, ClassificationRow | None]]:
        """Up to `limit` proposals not in `exclude_stages` with an id above `after_id`,
        by id, each with its latest classification."""


class ReassessmentRepo(Protocol):
    def add(self, row: ReassessmentRow) -> ReassessmentRow: ...

    def get(self, reassessment_id: int, *, for_update: bool = False) -> ReassessmentRow: ...

    def update(self, row: ReassessmentRow) -> None: ...

    def for_proposal(self, proposal_id: int) -> list[ReassessmentRow]: ...

    def open_for(self, proposal_id: int) -> ReassessmentRow | None: ...

    def open_ids(self, proposal_ids: Sequence[int]) -> set[int]:
        """Those of `proposal_ids` with an open reassessment."""

    def last_closed_at(self, proposal_ids: Sequence[int]) -> dict[int, datetime]:
        """When each proposal's answers were last confirmed or edited in a reassessment."""

    def last_revised_at(self, proposal_ids: Sequence[int]) -> dict[int, datetime]:
        """When each proposal's newest revision of the answers was stored."""

    def close_open(self, proposal_id: int, status: str, by: str, at: datetime) -> list[int]:
        """Close the proposal's open reassessments with `status`; their ids."""


class IncidentRepo(Protocol):
    """Incidents reported on workflows after go-live (DESIGN.md "After go-live")."""

    def add(self, row: IncidentRow) -> IncidentRow:
        """Insert an incident; returns it with its id."""

    def get(self, incident_id: int, *, for_update: bool = False) -> IncidentRow:
        """Raise NotFound when missing. `for_update` locks the row (PostgreSQL)."""

    def resolve(self, incident_id: int, resolution: str, by: str, at: datetime) -> IncidentRow:
        """Mark an incident resolved with what was done, by whom and when."""

    def for_proposal(self, proposal_id: int) -> list[IncidentRow]:
        """A proposal's incidents, oldest first."""

    def for_proposals(self, proposal_ids: Sequence[int]) -> dict[int, list[IncidentRow]]:
        """The incidents of each of `proposal_ids` that has any, oldest first (export)."""

    def open_count(self, proposal_id: int) -> int:
        """How many incidents of the proposal are open (the production gate asks)."""


class SimilarityRepo(Protocol):
    """Near-duplicates across departments (DESIGN.md "Sprawl, vendors and hand-offs")."""

    def vector(self, proposal_id: int) -> TextVector | None:
        """The stored vector of a proposal (None when it has none yet)."""

    def put(self, proposal_id: int, vector: TextVector, at: datetime, *, replace: bool = True) -> None:
        """Store (replace) the vector of a proposal; `replace=False` for one that has none yet."""

    def nearest(
        self,
        vector: TextVector,
        title: str,
        description: str | None,
        *,
        department: str | None,
        rules: SimilarityRules,
        exclude_id: int | None = None,
        limit: int = 10,
    ) -> list[Match]:
        """Live proposals of other departments whose score reaches the policy's
        threshold, best first, each with a reason a person can read."""

    def link(self, proposal_id: int, matches: Sequence[Match], at: datetime, *, replace: bool = True) -> None:
        """Replace the near-duplicates recorded for a proposal (both directions);
        `replace=False` for a new proposal, which has none yet."""

    def linked(self, proposal_id: int, limit: int = 10) -> list[Match]:
        """The recorded near-duplicates of a proposal that are still live, best first."""


class HandoffRepo(Protocol):
    """The departments each proposal hands its output to (`downstream`)."""

    def set(self, proposal_id: int, departments: Sequence[str], *, replace: bool = True) -> None: ...

    def for_proposal(self, proposal_id: int) -> list[str]: ...

    def known_names(self, limit: int = 20) -> dict[str, list[str]]:
        """{"vendor", "model", "downstream"}: the names the portfolio already uses,
        most used first (the interview offers them)."""


class InboundActionRepo(Protocol):
    """Acknowledged actions (`bot.domain.records.InboundAction`), one row per platform key."""

    def add(
        self,
        platform: str,
        key: str,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        owner: str,
        at: datetime,
        lease_until: datetime,
    ) -> tuple[InboundAction, bool]:
        """Record an action claimed by `owner`; (the row, True) when new, (the row
        already stored under this platform and key, False) for a repeated delivery."""

    def get(self, action_id: int) -> InboundAction: ...

    def unfinished(self, limit: int = 100) -> list[InboundAction]:
        """Rows still `received`, oldest first."""

    def claim(self, action_id: int, held_by: str | None, owner: str, at: datetime, lease_until: datetime) -> bool:
        """Take a `received` row over from `held_by` (its previous owner); False when
        it was finished or someone else took it first."""

    def renew(self, action_ids: Sequence[int], owner: str, lease_until: datetime) -> None:
        """Extend the lease of the rows `owner` is still working on."""

    def finish(self, action_id: int, owner: str, status: str, error: str | None, at: datetime) -> bool:
        """Mark a `received` row held by `owner` done or failed; False when it was not."""

    def retry_later(self, action_id: int, owner: str, error: str, at: datetime, retry_at: datetime) -> bool:
        """Keep a row `received` after a failed attempt, to be taken again after `retry_at`."""

    def recent(self, status: str | None = None, limit: int = 50) -> list[InboundAction]:
        """Newest first, optionally of one status."""

    def counts(self) -> dict[str, int]:
        """{status: rows}."""


class SimilarityMatcher(Protocol):
    """Turns a proposal's title and description into what near-duplicates are found by:
    the offline terms (`bot.domain.similarity`), plus an embedding where an
    OpenAI-compatible embeddings model is configured."""

    name: str  # "offline" or "embeddings:<model>"

    def describe(self, title: str, description: str | None, rules: SimilarityRules) -> TextVector:
        """The vector of one text; never raises (an embeddings failure leaves it offline)."""


class FactsReader(Protocol):
    """Aggregates computed in SQL for the portfolio and the digest. Returns JSON-ready dicts."""

    def portfolio(self, now: datetime, config: dict[str, Any]) -> dict[str, Any]: ...

    def digest(
        self, period_start: datetime, period_end: datetime, now: datetime, config: dict[str, Any]
    ) -> dict[str, Any]: ...


class UnitOfWork(Protocol):
    """One transaction per `with` block; leaving the block without commit() rolls back.

    The repositories are usable inside the block. The same object may be entered again
    once its block has ended (a new transaction), never while it is open, and serves
    one caller at a time: use cases take one and may run several transactions on it.
    """

    # Read-only: the repositories belong to the unit of work; nobody swaps them.
    @property
    def proposals(self) -> ProposalRepo: ...

    @property
    def classifications(self) -> ClassificationRepo: ...

    @property
    def stop_conditions(self) -> StopConditionRepo: ...

    @property
    def approvals(self) -> ApprovalRepo: ...

    @property
    def decisions(self) -> DecisionRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def roles(self) -> RoleRepo: ...

    @property
    def delegations(self) -> DelegationRepo: ...

    @property
    def conversations(self) -> ConversationRepo: ...

    @property
    def people(self) -> PeopleRepo: ...

    @property
    def outbox(self) -> OutboxRepo: ...

    @property
    def message_refs(self) -> MessageRefRepo: ...

    @property
    def checkins(self) -> CheckinRepo: ...

    @property
    def jobs(self) -> JobRepo: ...

    @property
    def digests(self) -> DigestRepo: ...

    @property
    def drafts(self) -> DraftRepo: ...

    @property
    def keyvalues(self) -> KeyValueRepo: ...

    @property
    def policies(self) -> PolicyRepo: ...

    @property
    def reassessments(self) -> ReassessmentRepo: ...

    @property
    def facts(self) -> FactsReader: ...

    @property
    def extractions(self) -> ExtractionRepo: ...

    @property
    def similarity(self) -> SimilarityRepo: ...

    @property
    def handoffs(self) -> HandoffRepo: ...

    @property
    def inbound(self) -> InboundActionRepo: ...

    @property
    def incidents(self) -> IncidentRepo: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc: object) -> None: ...

    def commit(self) -> None:
        """Commit; raise Conflict when a uniqueness rule stopped the write."""

    def rollback(self) -> None: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside rolls back only its writes
        (a uniqueness violation is raised as Conflict); the outer one goes on."""

    def batch(self) -> AbstractContextManager[None]:
        """Many similar writes in the open transaction (the import). Inside the block,
        look-ups of the role directory, delegations and conversation references are
        read once and then answered from memory (writing them forgets what was read),
        and the audit events and outbox messages written inside each `savepoint` are
        held and stored when it ends, one multi-row insert each (`outbox.add` returns
        None for them); a savepoint that rolls back drops them with its other writes."""


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork:
        """A new unit of work (no transaction is open until it is entered)."""


class PolicyStore(Protocol):
    """Reads the active policy in SQL outside any unit of work: a policy source asks it
    while a caller's transaction may be open, so it must neither wait for that
    transaction's locks nor take its own."""

    def active_stamp(self) -> tuple[int, str] | None:
        """(id, content hash) of the active policy; None when none was applied."""

    def active_text(self) -> tuple[int, str, str] | None:
        """(id, content hash, TOML text) of the active policy; None when none was applied."""


class PolicySource(Protocol):
    """Where the core reads the active classification policy. The active policy may
    change while the server runs, so a use case asks for it when it needs it and does
    not keep it."""

    def current(self) -> Policy:
        """The policy in force now."""

    def refresh(self) -> Policy:
        """Look for a newly applied policy now (not only every few seconds); the policy
        in force."""


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""


class Drafter(Protocol):
    """An LLM that writes the weekly digest from a prompt."""

    model_name: str

    def draft(self, system: str, user: str) -> tuple[str, int, int]:
        """Return (text, tokens_in, tokens_out); raise DraftFailed on timeout/error."""


class DraftFailed(Exception):
    """The LLM did not produce a draft (timeout, HTTP error, refusal)."""


class Extractor(Protocol):
    """Pre-fills a proposal from the requester's own paragraph (DESIGN.md "Intake in one
    paragraph"): the lexicon (`bot.domain.extraction.LexiconExtractor`) or an LLM
    (`handlers.llm.extractor.LLMExtractor`)."""

    name: str  # "llm" | "lexicon"

    def extract(self, paragraph: str, policy: Policy) -> Extraction:
        """Every pre-filled answer with the words it came from; the paragraph is the
        description as written. Raises UsageError for an empty or too long paragraph;
        never for an LLM failure (timeout, HTTP error, a reply that is not the JSON):
        the lexicon's reading comes back with `fallback_reason` saying why."""


class Sender(Protocol):
    """A channel adapter that delivers outbox messages (Slack, Teams, console)."""

    channel: str

    async def send(
        self, row: OutboxRow, thread_ref: dict[str, Any] | None, update_ref: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """Deliver one message. `thread_ref`/`update_ref` are the stored platform
        references of `row.thread_key`/`row.update_key` (None when unknown: then post
        a new message). Return the reference to remember under `row.ref_key`, e.g.
        {"channel": "D1", "ts": "123.4"}. Raise DeliveryFailed (or any error) to retry."""


class DeliveryFailed(Exception):
    """A platform refused or could not take a message; `retry_after` in seconds if known."""

    def __init__(self, message: str, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
