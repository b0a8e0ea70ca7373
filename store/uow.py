"""The SQL unit of work: one session and one transaction per `with` block.

    with uow_factory() as uow:
        row = uow.proposals.get(7, for_update=True)
        ...
        uow.audit.add(...)
        uow.commit()

Leaving the block without `commit()` (or because of an exception) rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import Conflict
from store import repositories as r
from store.extractions import SqlExtractionRepo
from store.facts import SqlFacts
from store.incidents import SqlIncidentRepo
from store.policy_repos import SqlPolicyRepo, SqlReassessmentRepo
from store.similarity import SqlSimilarityRepo

logger = logging.getLogger(__name__)


class SqlUnitOfWork:
    """Implements `bot.ports.UnitOfWork` over one SQLAlchemy session per `with` block."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self._session_factory = session_factory
        self.session: Session | None = None
        self._batching = False

    def __enter__(self) -> SqlUnitOfWork:
        if self.session is not None:
            raise RuntimeError("this unit of work is already in use; make a new one per `with` block")
        session = self._session_factory()
        self.session = session
        self.proposals = r.SqlProposalRepo(session)
        self.classifications = r.SqlClassificationRepo(session)
        self.stop_conditions = r.SqlStopConditionRepo(session)
        self.approvals = r.SqlApprovalRepo(session)
        self.decisions = r.SqlDecisionRepo(session)
        self.audit = r.SqlAuditRepo(session)
        self.roles = r.SqlRoleRepo(session)
        self.delegations = r.SqlDelegationRepo(session)
        self.conversations = r.SqlConversationRepo(session)
        self.people = r.SqlPeopleRepo(session)
        self.outbox = r.SqlOutboxRepo(session)
        self.message_refs = r.SqlMessageRefRepo(session)
        self.checkins = r.SqlCheckinRepo(session)
        self.jobs = r.SqlJobRepo(session)
        self.digests = r.SqlDigestRepo(session)
        self.drafts = r.SqlDraftRepo(session)
        self.keyvalues = r.SqlKeyValueRepo(session)
        self.extractions = SqlExtractionRepo(session)
        self.policies = SqlPolicyRepo(session)
        self.reassessments = SqlReassessmentRepo(session)
        self.similarity = SqlSimilarityRepo(session)
        self.handoffs = r.SqlHandoffRepo(session)
        self.incidents = SqlIncidentRepo(session)
        self._facts: SqlFacts | None = None
        self._batching = False
        return self

    def __exit__(self, *exc: object) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        try:
            session.rollback()  # a no-op after commit()
        finally:
            session.close()

    @property
    def facts(self) -> SqlFacts:
        """Portfolio and digest aggregates (`store.facts.SqlFacts`), made on first use."""
        if self._facts is None:
            self._facts = SqlFacts(self._require_session())
        self.audit.write_pending()  # the facts count audit events too
        return self._facts

    def commit(self) -> None:
        """Commit (audit events are appended to the chain first); raise Conflict when a
        uniqueness rule stopped the write."""
        session = self._require_session()
        try:
            self.audit.write_pending()
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise Conflict(str(exc.orig)) from exc

    def rollback(self) -> None:
        self.audit.restore(self.audit.pending_mark(empty=True))
        self._require_session().rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction (SAVEPOINT) inside this unit of work: leaving the block
        by an exception rolls back only what was written inside it and re-raises
        (a uniqueness violation as Conflict); the outer transaction goes on. In a
        `batch`, the audit events and outbox messages of the block are held and
        written at its end, one multi-row INSERT each."""
        session = self._require_session()
        nested = session.begin_nested()
        held = (self.audit, self.outbox) if self._batching else ()
        for repo in held:
            repo.hold()
        mark = self.audit.pending_mark()
        try:
            yield
            for repo in held:
                repo.write_held()
            session.flush()
        except IntegrityError as exc:
            nested.rollback()
            self.audit.restore(mark)
            raise Conflict(str(exc.orig)) from exc
        except BaseException:
            nested.rollback()
            self.audit.restore(mark)
            raise
        finally:
            for repo in held:
                repo.drop_held()
        nested.commit()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many similar writes in this transaction (`bot.ports.UnitOfWork.batch`):
        directory, delegation and conversation look-ups are read once, and savepoints
        hold their audit events and outbox messages for one INSERT each."""
        self._require_session()
        readers = (self.roles, self.delegations, self.conversations)
        self._batching = True
        for repo in readers:
            repo.keep_reads(True)
        try:
            yield
        finally:
            self._batching = False
            for repo in readers:
                repo.keep_reads(False)

    def _require_session(self) -> Session:
        if self.session is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self.session


class SqlUnitOfWorkFactory:
    """Callable that makes a new SqlUnitOfWork on `engine` (implements UnitOfWorkFactory)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=True)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()
