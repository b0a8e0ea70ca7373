"""Repositories over one SQLAlchemy session, implementing the protocols of `bot.ports`.

Every method returns the plain records of `bot.ports`, never ORM objects. Writes that
may race with another instance (job claims, outbox dedupe, decisions, upserts) use
`INSERT ... ON CONFLICT` so a lost race never poisons the surrounding transaction.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.errors import Conflict, NotFound
from bot.domain.people import first_name_key, name_key
from bot.domain.records import (
    ApprovalRequestRow,
    AuditEvent,
    Checkin,
    ClassificationRow,
    ConversationRef,
    DecisionRow,
    Delegation,
    DigestRow,
    InterviewDraft,
    JobRun,
    OutboxRow,
    Person,
    ProposalRow,
    RevisionRow,
    RoleAssignment,
    StopConditionRow,
    as_utc,
)
from store import audit_chain
from store import models as m
from store.sprawl import sprawl_key_for

R = TypeVar("R")


def _record(cls: type[R], obj: Any) -> R:
    """Copy the fields of dataclass `cls` from an ORM object."""
    return cls(**{f.name: getattr(obj, f.name) for f in fields(cls)})  # type: ignore[arg-type]


def _values(row: Any, *, skip: Sequence[str] = ("id",)) -> dict[str, Any]:
    return {f.name: getattr(row, f.name) for f in fields(row) if f.name not in skip}


def _dialect_insert(session: Session, model: Any) -> Any:
    """An INSERT that supports ON CONFLICT on SQLite and PostgreSQL."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"govbot supports SQLite and PostgreSQL, not {name}")


def _table(model: type[m.Base]) -> Table:
    """The Core table of a mapped class (for Core inserts that skip the ORM flush)."""
    return cast(Table, model.__table__)


_STATEMENTS: dict[tuple[str, ...], Any] = {}


def _cached(key: tuple[str, ...], build: Any) -> Any:
    """A statement built once per key (dialect, table, variant): executing the same
    object again skips building it and its cache key is found at once."""
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def _upsert(session: Session, model: type[m.Base], values: dict[str, Any], keys: Sequence[str]) -> None:
    stmt = _dialect_insert(session, model).values(**values)
    changes = {k: stmt.excluded[k] for k in values if k not in keys}
    session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changes))


def _as_int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


_ID_MAX = 2**31 - 1  # ids are INTEGER columns


def _known_id(value: int, what: str) -> None:
    """An id no row can have is NotFound here, not an OverflowError in the driver."""
    if isinstance(value, int) and not 0 < value <= _ID_MAX:
        raise NotFound(f"{what} {str(value)[:40]}")


class _Repo:
    def __init__(self, session: Session):
        self.session = session
        self._reads: dict[tuple[Any, ...], Any] | None = None  # look-ups kept while batching

    def keep_reads(self, on: bool) -> None:
        """While on, each distinct `_read` is answered once and then from memory
        (`SqlUnitOfWork.batch`); writes through this repository forget what was read."""
        self._reads = {} if on else None

    def _read(self, key: tuple[Any, ...], load: Callable[[], R]) -> R:
        if self._reads is None:
            return load()
        if key not in self._reads:
            self._reads[key] = load()
        found = self._reads[key]
        return cast(R, list(found)) if isinstance(found, list) else cast(R, found)

    def _forget(self) -> None:
        if self._reads is not None:
            self._reads = {}

    def _one(self, stmt: Select[Any], what: str) -> Any:
        obj = self.session.scalars(stmt.execution_options(populate_existing=True)).first()
        if obj is None:
            raise NotFound(what)
        return obj

    def _all(self, cls: type[R], stmt: Select[Any]) -> list[R]:
        return [_record(cls, o) for o in self.session.scalars(stmt.execution_options(populate_existing=True))]

    def _update(self, model: type[m.Base], where: ColumnElement[bool], values: dict[str, Any], what: str) -> None:
        result = self.session.execute(update(model).where(where).values(**values))
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(what)


class SqlProposalRepo(_Repo):
    # Everything but the id, who asked and where: stage, risk, owner, answers, timestamps...
    _MUTABLE = tuple(f.name for f in fields(ProposalRow) if f.name not in ("id", "requester", "channel"))

    def add(self, row: ProposalRow, author: str) -> ProposalRow:
        # Core inserts with bound parameters (statements built once), no ORM flush
        table = _table(m.Proposal)
        values = _values(row)
        stmt = _cached(("proposals.add",), lambda: insert(table).returning(table.c.id))
        new_id = self.session.execute(stmt, values).scalar_one()
        self.session.execute(
            insert(_table(m.ProposalRevision)),
            {
                "proposal_id": new_id,
                "revision": row.revision,
                "answers": row.answers,
                "author": author,
                "created_at": row.created_at,
            },
        )
        return ProposalRow(id=new_id, **values)

    def get(self, proposal_id: int, *, for_update: bool = False) -> ProposalRow:
        _known_id(proposal_id, "proposal")
        stmt = select(m.Proposal).where(m.Proposal.id == proposal_id)
        if for_update:
            stmt = stmt.with_for_update()
        return _record(ProposalRow, self._one(stmt, f"proposal {proposal_id}"))

    def update(self, row: ProposalRow) -> None:
        values = {k: getattr(row, k) for k in self._MUTABLE}
        self._update(m.Proposal, m.Proposal.id == row.id, values, f"proposal {row.id}")

    def add_revision(self, proposal_id: int, answers: dict[str, Any], author: str, at: datetime) -> int:
        last = self.session.scalar(
            select(func.max(m.ProposalRevision.revision)).where(m.ProposalRevision.proposal_id == proposal_id)
        )
        number = (last or 0) + 1
        self.session.add(
            m.ProposalRevision(proposal_id=proposal_id, revision=number, answers=answers, author=author, created_at=at)
        )
        try:
            self.session.flush()
        except IntegrityError as exc:  # a concurrent edit took the number; lock the proposal first
            raise Conflict(f"revision {number} of proposal {proposal_id} already exists") from exc
        return number

    def revisions(self, proposal_id: int) -> list[RevisionRow]:
        stmt = (
            select(m.ProposalRevision)
            .where(m.ProposalRevision.proposal_id == proposal_id)
            .order_by(m.ProposalRevision.revision)
        )
        return self._all(RevisionRow, stmt)

    def by_requester(self, user_id: str, limit: int = 50) -> list[ProposalRow]:
        stmt = select(m.Proposal).where(m.Proposal.requester == user_id).order_by(m.Proposal.id.desc()).limit(limit)
        return self._all(ProposalRow, stmt)

    def by_owner(self, user_id: str, limit: int = 50) -> list[ProposalRow]:
        stmt = select(m.Proposal).where(m.Proposal.owner == user_id).order_by(m.Proposal.id.desc()).limit(limit)
        return self._all(ProposalRow, stmt)

    def in_stages(self, stages: Sequence[str], limit: int | None = None) -> list[ProposalRow]:
        stmt = select(m.Proposal).where(m.Proposal.stage.in_(list(stages))).order_by(m.Proposal.id).limit(limit)
        return self._all(ProposalRow, stmt)

    def list(self, limit: int | None = None, offset: int = 0) -> builtins.list[ProposalRow]:
        stmt = select(m.Proposal).order_by(m.Proposal.id).limit(limit).offset(offset)
        return self._all(ProposalRow, stmt)

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(m.Proposal)) or 0


class SqlClassificationRepo(_Repo):
    def add(self, proposal_id: int, revision: int, result: dict[str, Any], at: datetime) -> ClassificationRow:
        # Core statements with bound parameters (built once); the proposal's sprawl key
        # is written together with its classification
        table, p = _table(m.Classification), _table(m.Proposal)
        values = {
            "proposal_id": proposal_id,
            "revision": revision,
            "risk_level": result["risk_level"],
            "result": result,
            "created_at": at,
            # the policy stamp the service put into the verdict (bot.service.policy.stamped)
            "policy_version": result.get("policy_version"),
            "policy_hash": result.get("policy_hash"),
        }
        new_id = self.session.execute(
            _cached(("classifications.add",), lambda: insert(table).returning(table.c.id)), values
        ).scalar_one()
        find = _cached(("proposals.title",), lambda: select(p.c.title).where(p.c.id == bindparam("w_id")))
        title = self.session.execute(find, {"w_id": proposal_id}).scalar()
        if title is not None:
            keep = _cached(("proposals.sprawl_key",), lambda: update(p).where(p.c.id == bindparam("w_id")))
            self.session.execute(keep, {"w_id": proposal_id, "sprawl_key": sprawl_key_for(title, result)})
        return ClassificationRow(id=new_id, **values)

    def latest(self, proposal_id: int) -> ClassificationRow | None:
        stmt = (
            select(m.Classification)
            .where(m.Classification.proposal_id == proposal_id)
            .order_by(m.Classification.id.desc())
            .limit(1)
        )
        rows = self._all(ClassificationRow, stmt)
        return rows[0] if rows else None

    def at_revision(self, proposal_id: int, revision: int) -> ClassificationRow | None:
        stmt = (
            select(m.Classification)
            .where(m.Classification.proposal_id == proposal_id, m.Classification.revision == revision)
            .order_by(m.Classification.id.desc())
            .limit(1)
        )
        rows = self._all(ClassificationRow, stmt)
        return rows[0] if rows else None


class SqlStopConditionRepo(_Repo):
    def for_proposal(self, proposal_id: int) -> list[StopConditionRow]:
        stmt = select(m.StopCondition).where(m.StopCondition.proposal_id == proposal_id).order_by(m.StopCondition.code)
        return self._all(StopConditionRow, stmt)

    def set_open(self, proposal_id: int, codes: Sequence[str], at: datetime) -> None:
        wanted = set(codes)
        existing = {
            o.code: o
            for o in self.session.scalars(select(m.StopCondition).where(m.StopCondition.proposal_id == proposal_id))
        }
        for code, obj in existing.items():
            if code not in wanted and obj.status != "resolved":
                obj.status, obj.changed_at = "resolved", at
            elif code in wanted and obj.status == "resolved":  # came back: a new problem, not the old override
                obj.status, obj.changed_at = "open", at
                obj.override_reason = obj.overridden_by = None
        for code in sorted(wanted - existing.keys()):
            self.session.add(m.StopCondition(proposal_id=proposal_id, code=code, status="open", changed_at=at))
        self.session.flush()

    def override(self, proposal_id: int, code: str, by: str, reason: str, at: datetime) -> StopConditionRow:
        stmt = select(m.StopCondition).where(m.StopCondition.proposal_id == proposal_id, m.StopCondition.code == code)
        obj = self._one(stmt, f"stop condition {code} of proposal {proposal_id}")
        obj.status, obj.override_reason, obj.overridden_by, obj.changed_at = "overridden", reason, by, at
        self.session.flush()
        return _record(StopConditionRow, obj)


class SqlApprovalRepo(_Repo):
    def add(self, row: ApprovalRequestRow) -> ApprovalRequestRow:
        table = _table(m.ApprovalRequest)
        stmt = _cached(("approval_requests.add",), lambda: insert(table).returning(table.c.id))
        values = _values(row)
        new_id = self.session.execute(stmt, values).scalar_one()
        return ApprovalRequestRow(id=new_id, **values)

    def add_many(self, rows: Sequence[ApprovalRequestRow]) -> list[ApprovalRequestRow]:
        """Several `add`s in one multi-row INSERT ... RETURNING, ids in the rows' order."""
        if len(rows) < 2:
            return [self.add(row) for row in rows]
        table = _table(m.ApprovalRequest)
        stmt = _cached(
            ("approval_requests.add_many",),
            lambda: insert(table).returning(table.c.id, sort_by_parameter_order=True),
        )
        values = [_values(row) for row in rows]
        ids = list(self.session.execute(stmt, values).scalars())
        return [ApprovalRequestRow(id=new_id, **v) for new_id, v in zip(ids, values, strict=True)]

    def get(self, request_id: int, *, for_update: bool = False) -> ApprovalRequestRow:
        _known_id(request_id, "approval request")
        stmt = select(m.ApprovalRequest).where(m.ApprovalRequest.id == request_id)
        if for_update:
            stmt = stmt.with_for_update()
        return _record(ApprovalRequestRow, self._one(stmt, f"approval request {request_id}"))

    # what a card showed is written only by `mark_shown`, so a copy of the row read
    # before the card went out cannot set it back
    _SHOWN = ("shown_revision", "since_revision")

    def update(self, row: ApprovalRequestRow) -> None:
        values = _values(row, skip=("id", *self._SHOWN))
        self._update(m.ApprovalRequest, m.ApprovalRequest.id == row.id, values, f"approval request {row.id}")

    def mark_shown(self, row: ApprovalRequestRow) -> None:
        values = {k: getattr(row, k) for k in self._SHOWN}
        self._update(m.ApprovalRequest, m.ApprovalRequest.id == row.id, values, f"approval request {row.id}")

    def for_proposal(self, proposal_id: int) -> list[ApprovalRequestRow]:
        stmt = (
            select(m.ApprovalRequest).where(m.ApprovalRequest.proposal_id == proposal_id).order_by(m.ApprovalRequest.id)
        )
        return self._all(ApprovalRequestRow, stmt)

    def pending_for(self, user_id: str) -> list[ApprovalRequestRow]:
        stmt = (
            select(m.ApprovalRequest)
            .where(m.ApprovalRequest.approver == user_id, m.ApprovalRequest.status == "pending")
            .order_by(m.ApprovalRequest.id)
        )
        return self._all(ApprovalRequestRow, stmt)

    def pending_in_roles(self, roles: Sequence[str], *, governance_fallback: bool = False) -> list[ApprovalRequestRow]:
        a = m.ApprovalRequest
        which: list[ColumnElement[bool]] = [a.role.in_(list(roles))] if roles else []
        if governance_fallback:
            which.append(a.governance_fallback.is_(True))
        if not which:
            return []
        stmt = select(a).where(or_(*which), a.status == "pending").order_by(a.id)
        return self._all(ApprovalRequestRow, stmt)

    def pending_older_than(self, created_before: datetime) -> list[ApprovalRequestRow]:
        stmt = (
            select(m.ApprovalRequest)
            .where(m.ApprovalRequest.status == "pending", m.ApprovalRequest.created_at < created_before)
            .order_by(m.ApprovalRequest.created_at, m.ApprovalRequest.id)
        )
        return self._all(ApprovalRequestRow, stmt)


class SqlDecisionRepo(_Repo):
    def add(self, row: DecisionRow) -> DecisionRow:
        stmt = (
            _dialect_insert(self.session, m.Decision)
            .values(**_values(row))
            .on_conflict_do_nothing(index_elements=["request_id", "actor"])
            .returning(m.Decision.id)
        )
        new_id = self.session.execute(stmt).scalar()
        if new_id is None:
            raise Conflict(f"approval request {row.request_id} already has a decision by {row.actor}")
        return DecisionRow(**{**_values(row), "id": new_id})

    def for_request(self, request_id: int) -> DecisionRow | None:
        rows = self.all_for_request(request_id)
        return rows[-1] if rows else None

    def all_for_request(self, request_id: int) -> list[DecisionRow]:
        stmt = select(m.Decision).where(m.Decision.request_id == request_id).order_by(m.Decision.id)
        return self._all(DecisionRow, stmt)

    def for_proposal(self, proposal_id: int) -> list[DecisionRow]:
        stmt = (
            select(m.Decision)
            .join(m.ApprovalRequest, m.ApprovalRequest.id == m.Decision.request_id)
            .where(m.ApprovalRequest.proposal_id == proposal_id)
            .order_by(m.Decision.id)
        )
        return self._all(DecisionRow, stmt)


AuditValues = tuple[int | None, str, str, dict[str, Any], datetime]


H = TypeVar("H")


class _Held(_Repo, Generic[H]):
    """A repository whose `add`s can be held and written together with `add_many`
    (`SqlUnitOfWork.savepoint` in a batch)."""

    def __init__(self, session: Session):
        super().__init__(session)
        self._held: list[H] | None = None

    def add_many(self, items: Sequence[H]) -> None:
        raise NotImplementedError

    def hold(self) -> None:
        """Keep what is added from now on until `write_held`."""
        self._held = []

    def write_held(self) -> None:
        """Store what was held in one multi-row INSERT and stop holding."""
        held, self._held = self._held, None
        if held:
            self.add_many(held)

    def drop_held(self) -> None:
        self._held = None


class SqlAuditRepo(_Held[AuditValues]):
    """Append-only and hash-chained (`store.audit_chain`); the database refuses UPDATE,
    DELETE, REPLACE and TRUNCATE on audit_events.

    Events are kept in this unit of work until it commits (or until the trail is read
    in it), then written in one INSERT with their hashes: the chain lock is the last
    lock a transaction takes and is held only while it commits. Events held by a
    savepoint in a batch (`hold`) join them when the savepoint ends (`write_held`)."""

    _KEYS = ("proposal_id", "actor", "action", "detail", "created_at")

    def __init__(self, session: Session):
        super().__init__(session)
        self._pending: list[dict[str, Any]] = []

    def add(self, proposal_id: int | None, actor: str, action: str, detail: dict[str, Any], at: datetime) -> None:
        if self._held is not None:
            self._held.append((proposal_id, actor, action, detail, at))
            return
        self._pending.append(
            {"proposal_id": proposal_id, "actor": actor, "action": action, "detail": detail, "created_at": as_utc(at)}
        )

    def add_many(self, events: Sequence[AuditValues]) -> None:
        """Several `add`s, in order."""
        for event in events:
            self.add(*event)

    def write_pending(self) -> None:
        """Append the events added so far to the chain (lock, read the head, one INSERT)."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        audit_chain.lock(self.session)
        current = audit_chain.head(self.session)
        audit_chain.chain(rows, current[1] if current else audit_chain.GENESIS)
        self.session.execute(insert(_table(m.AuditEventModel)), rows)  # Core, not the ORM bulk path

    def pending_mark(self, *, empty: bool = False) -> list[dict[str, Any]]:
        """The events waiting to be written now (a copy), to `restore` when a savepoint
        rolls back: events written inside it (a read flushes them) are gone with it."""
        return [] if empty else list(self._pending)

    def restore(self, mark: list[dict[str, Any]]) -> None:
        """Wait to write exactly the events of `mark` again."""
        self._pending = [dict(row) for row in mark]

    def head(self) -> tuple[int, str] | None:
        """(id, hash) of the newest event of the chain; None for an empty trail."""
        self.write_pending()
        return audit_chain.head(self.session)

    def for_proposal(self, proposal_id: int) -> list[AuditEvent]:
        self.write_pending()
        stmt = (
            select(m.AuditEventModel).where(m.AuditEventModel.proposal_id == proposal_id).order_by(m.AuditEventModel.id)
        )
        return self._all(AuditEvent, stmt)

    def recent(self, limit: int = 100) -> list[AuditEvent]:
        """Newest first."""
        self.write_pending()
        return self._all(AuditEvent, select(m.AuditEventModel).order_by(m.AuditEventModel.id.desc()).limit(limit))


class SqlRoleRepo(_Repo):
    def holders(self, role: str, department: str = "") -> list[str]:
        def load() -> list[str]:
            a = m.RoleAssignmentModel
            stmt = select(a.user_id).where(a.role == role, a.department == department).order_by(a.id)
            return list(self.session.scalars(stmt))

        return self._read(("holders", role, department), load)

    def set(self, role: str, department: str, user_ids: Sequence[str], by: str, at: datetime) -> None:
        """Replace the holders of (role, department); holders who stay keep their record."""
        self._forget()
        wanted = list(dict.fromkeys(user_ids))
        where = (m.RoleAssignmentModel.role == role, m.RoleAssignmentModel.department == department)
        self.session.execute(delete(m.RoleAssignmentModel).where(*where, m.RoleAssignmentModel.user_id.not_in(wanted)))
        kept = set(self.session.scalars(select(m.RoleAssignmentModel.user_id).where(*where)))
        for user_id in wanted:
            if user_id not in kept:
                self.session.add(
                    m.RoleAssignmentModel(
                        role=role, department=department, user_id=user_id, assigned_by=by, created_at=at
                    )
                )
        self.session.flush()

    def all(self) -> list[RoleAssignment]:
        def load() -> list[RoleAssignment]:
            a = m.RoleAssignmentModel
            return self._all(RoleAssignment, select(a).order_by(a.role, a.department, a.id))

        return self._read(("all",), load)

    def roles_of(self, user_id: str) -> list[RoleAssignment]:
        def load() -> list[RoleAssignment]:
            a = m.RoleAssignmentModel
            return self._all(RoleAssignment, select(a).where(a.user_id == user_id).order_by(a.role, a.department))

        return self._read(("roles_of", user_id), load)


class SqlDelegationRepo(_Repo):
    def add(self, row: Delegation) -> Delegation:
        self._forget()
        obj = m.DelegationModel(**_values(row))
        self.session.add(obj)
        self.session.flush()
        return _record(Delegation, obj)

    def active_for(self, user_id: str, at: datetime) -> list[Delegation]:
        def load() -> list[Delegation]:
            d = m.DelegationModel
            stmt = select(d).where(d.user_id == user_id, d.starts_at <= at, d.ends_at > at).order_by(d.id)
            return self._all(Delegation, stmt)

        return self._read(("active_for", user_id, at), load)

    def delegators_of(self, delegate_id: str, at: datetime) -> list[str]:
        def load() -> list[str]:
            d = m.DelegationModel
            stmt = (
                select(d.user_id)
                .where(d.delegate_id == delegate_id, d.starts_at <= at, d.ends_at > at)
                .distinct()
                .order_by(d.user_id)
            )
            return list(self.session.scalars(stmt))

        return self._read(("delegators_of", delegate_id, at), load)


def _outbox_values(
    channel: str,
    recipient: str,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
    ref_key: str | None,
    thread_key: str | None,
    update_key: str | None,
    dedupe_key: str | None,
) -> dict[str, Any]:
    meta = payload.get("meta") or {}
    proposal_id = meta.get("proposal_id") if isinstance(meta, dict) else None
    return dict(
        channel=channel,
        recipient=recipient,
        kind=kind,
        payload=payload,
        ref_key=ref_key,
        thread_key=thread_key,
        update_key=update_key,
        dedupe_key=dedupe_key,
        proposal_id=_as_int(proposal_id),
        status="pending",
        attempts=0,
        next_attempt_at=at,
        last_error=None,
        created_at=at,
        sent_at=None,
    )


def _outbox_insert(session: Session, dedupe_key: str | None, *, returning: bool = True) -> Any:
    table = _table(m.OutboxModel)
    stmt = _dialect_insert(session, table)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return stmt.returning(table.c.id) if returning else stmt


class SqlConversationRepo(_Repo):
    def upsert(self, ref: ConversationRef) -> None:
        self._forget()
        _upsert(self.session, m.ConversationRefModel, _values(ref, skip=()), ("platform", "user_id"))

    def get(self, platform: str, user_id: str) -> ConversationRef | None:
        def load() -> list[ConversationRef]:
            c = m.ConversationRefModel
            return self._all(ConversationRef, select(c).where(c.platform == platform, c.user_id == user_id))

        rows = self._read(("get", platform, user_id), load)
        return rows[0] if rows else None


class SqlPeopleRepo(_Repo):
    """Implements `bot.ports.PeopleRepo` on the `people` table."""

    def get(self, user_id: str) -> Person | None:
        row = self.session.get(m.PersonModel, user_id, populate_existing=True)
        return None if row is None else Person(row.user_id, row.platform, row.name, row.updated_at)

    def names(self, user_ids: Sequence[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(u for u in user_ids if u))
        if not ids:
            return {}
        p = m.PersonModel
        return dict(self.session.execute(select(p.user_id, p.name).where(p.user_id.in_(ids))).tuples().all())

    def put(self, person: Person) -> None:
        values = {
            "user_id": person.user_id,
            "platform": person.platform,
            "name": person.name,
            "name_key": name_key(person.name)[:120],
            "first_key": first_name_key(person.name)[:120],
            "updated_at": person.updated_at,
        }
        _upsert(self.session, m.PersonModel, values, ("user_id",))

    def find(self, key: str) -> list[Person]:
        p = m.PersonModel
        for column in (p.name_key, p.first_key):
            rows = self.session.scalars(select(p).where(column == key).order_by(p.user_id).limit(20)).all()
            if rows:
                return [Person(r.user_id, r.platform, r.name, r.updated_at) for r in rows]
        return []


class SqlOutboxRepo(_Held[dict[str, Any]]):
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
        if self._held is not None:
            self._held.append(
                dict(
                    channel=channel,
                    recipient=recipient,
                    kind=kind,
                    payload=payload,
                    at=at,
                    ref_key=ref_key,
                    thread_key=thread_key,
                    update_key=update_key,
                    dedupe_key=dedupe_key,
                )
            )
            return None
        values = _outbox_values(channel, recipient, kind, payload, at, ref_key, thread_key, update_key, dedupe_key)
        dialect = self.session.get_bind().dialect.name
        # bound parameters, not .values(**values): the statement is built and compiled once
        stmt = _cached(
            ("outbox.add", dialect, str(dedupe_key is not None)), lambda: _outbox_insert(self.session, dedupe_key)
        )
        new_id = self.session.execute(stmt, values).scalar()
        if new_id is None:
            return None
        values.pop("proposal_id")
        return OutboxRow(id=new_id, **values)

    def add_many(self, messages: Sequence[dict[str, Any]]) -> None:
        """Several `add`s (keyword arguments each) in one multi-row INSERT, in order;
        a message whose dedupe key is taken is skipped, as `add` skips it."""
        if not messages:
            return
        rows = [
            _outbox_values(
                m_["channel"],
                m_["recipient"],
                m_["kind"],
                m_["payload"],
                m_["at"],
                m_.get("ref_key"),
                m_.get("thread_key"),
                m_.get("update_key"),
                m_.get("dedupe_key"),
            )
            for m_ in messages
        ]
        stmt = _dialect_insert(self.session, _table(m.OutboxModel)).on_conflict_do_nothing(
            index_elements=["dedupe_key"]
        )
        self.session.execute(stmt, rows)

    def due(self, channels: Sequence[str], now: datetime, limit: int = 50) -> list[OutboxRow]:
        o = m.OutboxModel
        stmt = (
            select(o)
            .where(o.status == "pending", o.channel.in_(list(channels)), o.next_attempt_at <= now)
            .order_by(o.id)
            .limit(limit)
        )
        return self._all(OutboxRow, stmt)

    def claim(self, outbox_id: int, now: datetime, lease_until: datetime) -> bool:
        o = m.OutboxModel
        stmt = (
            update(o)
            .where(o.id == outbox_id, o.status == "pending", o.next_attempt_at <= now)
            .values(next_attempt_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        return self.session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]

    def mark_sent(self, outbox_id: int, at: datetime) -> None:
        o = m.OutboxModel
        values = {"status": "sent", "sent_at": at, "attempts": o.attempts + 1, "last_error": None}
        self._update(o, o.id == outbox_id, values, f"outbox message {outbox_id}")

    def mark_retry(self, outbox_id: int, error: str, next_attempt_at: datetime, give_up: bool) -> None:
        o = m.OutboxModel
        values = {
            "status": "failed" if give_up else "pending",
            "attempts": o.attempts + 1,
            "last_error": error,
            "next_attempt_at": next_attempt_at,
        }
        self._update(o, o.id == outbox_id, values, f"outbox message {outbox_id}")

    def for_recipient(self, recipient: str, limit: int = 50) -> list[OutboxRow]:
        o = m.OutboxModel
        return self._all(OutboxRow, select(o).where(o.recipient == recipient).order_by(o.id.desc()).limit(limit))

    def pending_for_proposal(self, proposal_id: int) -> list[OutboxRow]:
        """Undelivered rows (pending, or failed and kept visible) about this proposal."""
        o = m.OutboxModel
        stmt = select(o).where(o.proposal_id == proposal_id, o.status != "sent").order_by(o.id)
        return self._all(OutboxRow, stmt)


class SqlMessageRefRepo(_Repo):
    def put(self, key: str, channel: str, ref: dict[str, Any]) -> None:
        _upsert(self.session, m.MessageRefModel, {"key": key, "channel": channel, "ref": ref}, ("key",))

    def get(self, key: str) -> dict[str, Any] | None:
        return self.session.scalar(select(m.MessageRefModel.ref).where(m.MessageRefModel.key == key))


class SqlCheckinRepo(_Repo):
    def add(self, row: Checkin) -> Checkin:
        obj = m.CheckinModel(**_values(row))
        self.session.add(obj)
        self.session.flush()
        return _record(Checkin, obj)

    def for_proposal(self, proposal_id: int) -> list[Checkin]:
        c = m.CheckinModel
        return self._all(Checkin, select(c).where(c.proposal_id == proposal_id).order_by(c.created_at, c.id))

    def latest(self, proposal_id: int) -> Checkin | None:
        c = m.CheckinModel
        stmt = select(c).where(c.proposal_id == proposal_id).order_by(c.created_at.desc(), c.id.desc()).limit(1)
        rows = self._all(Checkin, stmt)
        return rows[0] if rows else None


class SqlJobRepo(_Repo):
    def claim(self, job: str, period: str, instance: str, at: datetime) -> bool:
        dialect = self.session.get_bind().dialect.name

        def build() -> Any:
            table = _table(m.JobRunModel)
            stmt = _dialect_insert(self.session, table).on_conflict_do_nothing(index_elements=["job", "period"])
            return stmt.returning(table.c.id)

        values = {
            "job": job,
            "period": period,
            "claimed_by": instance,
            "claimed_at": at,
            "finished_at": None,
            "status": "running",
            "detail": {},
        }
        # bound parameters: the statement is built and compiled once
        return self.session.execute(_cached(("job_runs.claim", dialect), build), values).scalar() is not None

    def reclaim(self, job: str, period: str, instance: str, at: datetime, stale_before: datetime) -> bool:
        """One conditional UPDATE: it matches only while the run is still `running` with
        a claim older than `stale_before`, so of several instances at once one wins (the
        others wait for its row lock, then find the claim fresh and match nothing)."""

        def build() -> Any:
            t = _table(m.JobRunModel)
            where = (
                (t.c.job == bindparam("w_job"))
                & (t.c.period == bindparam("w_period"))
                & (t.c.status == "running")
                & (t.c.claimed_at < bindparam("w_stale_before"))
            )
            return update(t).where(where)

        values = {
            "w_job": job,
            "w_period": period,
            "w_stale_before": stale_before,
            "claimed_by": instance,
            "claimed_at": at,
        }
        result = self.session.execute(_cached(("job_runs.reclaim",), build), values)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def finish(self, job: str, period: str, status: str, detail: dict[str, Any], at: datetime) -> None:
        def build() -> Any:
            t = _table(m.JobRunModel)
            where = (t.c.job == bindparam("w_job")) & (t.c.period == bindparam("w_period"))
            return update(t).where(where)

        values = {"w_job": job, "w_period": period, "status": status, "detail": detail, "finished_at": at}
        result = self.session.execute(_cached(("job_runs.finish",), build), values)
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"job run {job} {period}")

    def recent(self, limit: int = 50) -> list[JobRun]:
        j = m.JobRunModel
        return self._all(JobRun, select(j).order_by(j.claimed_at.desc(), j.id.desc()).limit(limit))


class SqlDigestRepo(_Repo):
    def add(self, row: DigestRow) -> DigestRow:
        """Store a digest; it publishes the audit chain head of the moment (`audit_head`)."""
        values = _values(row)
        if values.get("audit_head") is None:
            values["audit_head"] = audit_chain.format_head(audit_chain.head(self.session))
        obj = m.DigestModel(**values)
        self.session.add(obj)
        self.session.flush()
        return _record(DigestRow, obj)

    def get(self, digest_id: int) -> DigestRow:
        _known_id(digest_id, "digest")
        return _record(
            DigestRow, self._one(select(m.DigestModel).where(m.DigestModel.id == digest_id), f"digest {digest_id}")
        )

    def update(self, row: DigestRow) -> None:
        self._update(m.DigestModel, m.DigestModel.id == row.id, _values(row), f"digest {row.id}")

    def latest(self) -> DigestRow | None:
        rows = self._all(DigestRow, select(m.DigestModel).order_by(m.DigestModel.id.desc()).limit(1))
        return rows[0] if rows else None


class SqlDraftRepo(_Repo):
    def get(self, channel: str, user_id: str) -> InterviewDraft | None:
        d = m.InterviewDraftModel
        rows = self._all(InterviewDraft, select(d).where(d.channel == channel, d.user_id == user_id))
        return rows[0] if rows else None

    def put(self, draft: InterviewDraft) -> None:
        _upsert(self.session, m.InterviewDraftModel, _values(draft, skip=()), ("channel", "user_id"))

    def delete(self, channel: str, user_id: str) -> None:
        def build() -> Any:
            t = _table(m.InterviewDraftModel)
            return delete(t).where(t.c.channel == bindparam("w_channel"), t.c.user_id == bindparam("w_user"))

        self.session.execute(_cached(("interview_drafts.delete",), build), {"w_channel": channel, "w_user": user_id})


class SqlKeyValueRepo(_Repo):
    def get(self, key: str) -> str | None:
        return self.session.scalar(select(m.KeyValueModel.value).where(m.KeyValueModel.key == key))

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        s = m.KeyValueModel
        return dict(self.session.execute(select(s.key, s.value).where(s.key.in_(list(keys)))).tuples().all())

    def put(self, key: str, value: str) -> None:
        dialect = self.session.get_bind().dialect.name

        def build() -> Any:
            stmt = _dialect_insert(self.session, _table(m.KeyValueModel))
            return stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})

        # bound parameters: the upsert is built and compiled once
        self.session.execute(_cached(("keyvalues.put", dialect), build), {"key": key, "value": value})


class SqlHandoffRepo(_Repo):
    """`proposal_downstream`: the departments a proposal hands its output to."""

    def set(self, proposal_id: int, departments: Sequence[str], *, replace: bool = True) -> None:
        d = m.ProposalDownstream
        if replace:
            self.session.execute(delete(d).where(d.proposal_id == proposal_id))
        wanted = sorted({x.strip()[:200] for x in departments if x and x.strip()})
        if wanted:
            self.session.execute(
                insert(_table(d)), [{"proposal_id": proposal_id, "department": dept} for dept in wanted]
            )

    def for_proposal(self, proposal_id: int) -> builtins.list[str]:
        d = m.ProposalDownstream
        return list(
            self.session.scalars(select(d.department).where(d.proposal_id == proposal_id).order_by(d.department))
        )

    def known_names(self, limit: int = 20) -> dict[str, builtins.list[str]]:
        """Vendors, models and departments the portfolio already uses, most used first."""
        p = m.Proposal

        def top(column: Any) -> builtins.list[str]:
            rows = self.session.execute(
                select(column, func.count().label("n")).where(column.is_not(None)).group_by(column)
            ).all()
            return [name for name, _ in sorted(rows, key=lambda r: (-r[1], str(r[0]).casefold()))][:limit]

        departments = top(p.department)
        for (dept,) in self.session.execute(
            select(m.RoleAssignmentModel.department).where(m.RoleAssignmentModel.department != "").distinct()
        ):
            if dept.casefold() not in {d.casefold() for d in departments}:
                departments.append(dept)
        return {"vendor": top(p.vendor), "model": top(p.model), "downstream": departments[:limit]}
