"""Composition root: wires settings, store, clock, policy and channels.

The only module of `bot/` (with `bot.cli`) that may import `store` and `handlers`.
Tests call `build_core` with a database URL of their own and a FixedClock.
"""

from __future__ import annotations

import logging

from bot.clock import SystemClock
from bot.ports import Clock, Drafter
from bot.service.core import Govbot
from bot.service.policy import StaticPolicy
from bot.settings import Settings

logger = logging.getLogger(__name__)


def build_core(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    database_url: str | None = None,
    require_migrated: bool = True,
    instance: str = "local",
) -> Govbot:
    """Build the core on the configured database.

    Refuses an unmigrated database (store.db.DatabaseNotMigrated names `govbot db upgrade`).
    """
    from bot.domain.policy_file import load_policy
    from store.db import check_migrated, make_engine
    from store.uow import SqlUnitOfWorkFactory

    settings = settings or Settings()
    engine = make_engine(database_url or settings.database_url)
    if require_migrated:
        check_migrated(engine)
    policy = StaticPolicy(load_policy(settings.policy_file))
    uow = SqlUnitOfWorkFactory(engine)
    core = Govbot(uow, clock or SystemClock(), policy, settings, build_drafter(settings), instance=instance)
    core.bootstrap()
    return core


def build_drafter(settings: Settings) -> Drafter | None:
    """The digest's LLM (`bot.ports.Drafter`): LangChain's ChatOpenAI when
    OPENAI_API_KEY is set, else None (the template writer writes the digest)."""
    if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value().strip():
        return None
    from handlers.llm import build_openai_drafter

    return build_openai_drafter(settings)
