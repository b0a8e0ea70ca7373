"""Refused attempts: audited, then raised to the actor as `Refused`."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.errors import Refused
from bot.ports import Clock, UnitOfWork

logger = logging.getLogger(__name__)


def refuse(
    uow: UnitOfWork, clock: Clock, actor: str, proposal_id: int | None, action: str, message: str, **detail: object
) -> Refused:
    """Audit a refused attempt in a unit of work of its own; return the exception to raise."""
    with uow:
        refused = refuse_in(uow, actor, proposal_id, action, message, clock.now(), **detail)
        uow.commit()
    return refused


def refuse_in(
    uow: UnitOfWork, actor: str, proposal_id: int | None, action: str, message: str, now: datetime, **detail: object
) -> Refused:
    """Audit a refused attempt inside the open `uow` (the caller commits); return the exception."""
    uow.audit.add(proposal_id, actor, action, {"reason": message, **detail}, now)
    logger.info("%s for %s on %s", action, actor, proposal_id)
    return Refused(message[:1].upper() + message[1:] + ".")
