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
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.errors import Conflict
from store import repositories as r

logger = logging.getLogger(__name__)


class SqlUnitOfWork:
    """Implements `bot.ports.UnitOfWork` over one SQLAlchemy session."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self._session_factory = session_factory
        self.session: Session | None = None

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
        self.settings = r.SqlSettingRepo(session)
        self._facts: Any = None
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
    def facts(self) -> Any:
        """Portfolio and digest aggregates (`store.facts.SqlFacts`), made on first use."""
        if self._facts is None:
            from store.facts import SqlFacts

            self._facts = SqlFacts(self._require_session())
        return self._facts

    def commit(self) -> None:
        """Commit; raise Conflict when a uniqueness rule stopped the write."""
        session = self._require_session()
        try:
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise Conflict(str(exc.orig)) from exc

    def rollback(self) -> None:
        self._require_session().rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction (SAVEPOINT) inside this unit of work: leaving the block
        by an exception rolls back only what was written inside it and re-raises
        (a uniqueness violation as Conflict); the outer transaction goes on."""
        session = self._require_session()
        nested = session.begin_nested()
        try:
            yield
            session.flush()
        except IntegrityError as exc:
            nested.rollback()
            raise Conflict(str(exc.orig)) from exc
        except BaseException:
            nested.rollback()
            raise
        nested.commit()

    def flush(self) -> None:
        """Send pending writes now; raise Conflict on a uniqueness violation."""
        session = self._require_session()
        try:
            session.flush()
        except IntegrityError as exc:
            session.rollback()
            raise Conflict(str(exc.orig)) from exc

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
