"""Composition root: wires settings, store, clock, policy and channels.

The only module of `bot/` (with `bot.cli`) that may import `store` and `handlers`.
Tests call `build_core` with a database URL of their own and a FixedClock.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.clock import SystemClock
from bot.domain.policy import Policy
from bot.ports import Clock, Drafter, Extractor, SimilarityMatcher
from bot.service.core import Govbot
from bot.service.policy import ActivePolicy
from bot.settings import Settings

logger = logging.getLogger(__name__)

EXTRACT_PROMPT = "extract.md"


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
    from store.policy_store import SqlPolicyStore
    from store.uow import SqlUnitOfWorkFactory

    settings = settings or Settings()
    engine = make_engine(database_url or settings.database_url)
    if require_migrated:
        check_migrated(engine)
    # the policy applied in SQL; GOVBOT_POLICY_FILE (else the packaged default) until one is
    policy = ActivePolicy(SqlPolicyStore(engine), load_policy(settings.policy_file), settings.policy_refresh_s)
    uow = SqlUnitOfWorkFactory(engine)
    core = Govbot(
        uow,
        clock or SystemClock(),
        policy,
        settings,
        build_drafter(settings),
        extractor=build_extractor(settings),
        instance=instance,
        matcher=build_matcher(settings),
    )
    core.bootstrap()
    return core


def stored_policy(settings: Settings) -> Policy | None:
    """The policy applied in SQL, for a command that runs without the core (`govbot
    classify`); None when the database holds none or cannot be read (no SQLite file,
    not migrated, unreachable). Never creates a database."""
    from sqlalchemy.engine import make_url

    from bot.domain.policy_file import parse_policy_text
    from store.db import make_engine
    from store.policy_store import SqlPolicyStore

    url = make_url(settings.database_url)
    backend = url.get_backend_name()
    if backend == "sqlite" and (not url.database or url.database == ":memory:" or not Path(url.database).exists()):
        return None
    engine = make_engine(
        settings.database_url, **({"connect_args": {"connect_timeout": 3}} if backend != "sqlite" else {})
    )
    try:
        found = SqlPolicyStore(engine).active_text()
    except Exception as exc:  # no table, no server: the caller falls back to the packaged default
        logger.debug("no policy read from the database: %s", type(exc).__name__)
        return None
    finally:
        engine.dispose()
    return parse_policy_text(found[2], f"policy_versions row {found[0]}") if found else None


def build_drafter(settings: Settings) -> Drafter | None:
    """The digest's LLM (`bot.ports.Drafter`): LangChain's ChatOpenAI when
    OPENAI_API_KEY is set, else None (the template writer writes the digest)."""
    if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value().strip():
        return None
    from handlers.llm import build_openai_drafter

    return build_openai_drafter(settings)


def build_extractor(settings: Settings) -> Extractor:
    """The intake extractor (`bot.ports.Extractor`): the LLM (LangChain's ChatOpenAI with
    `prompts/extract.md`) when OPENAI_API_KEY is set, else the lexicon."""
    from bot.domain.extraction import ExtractPrompt, LexiconExtractor

    if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value().strip():
        return LexiconExtractor()
    from bot.service.digest_writer import load_prompt
    from handlers.llm.extractor import build_llm_extractor

    template = load_prompt(EXTRACT_PROMPT)
    prompt = ExtractPrompt(template.name, template.version, template.section("system"), template.section("user"))
    return build_llm_extractor(settings, prompt) or LexiconExtractor()


def build_matcher(settings: Settings) -> SimilarityMatcher:
    """The near-duplicate matcher (`bot.ports.SimilarityMatcher`): embeddings through
    LangChain's OpenAIEmbeddings when GOVBOT_EMBEDDINGS_MODEL and OPENAI_API_KEY are
    set, else the offline matcher of `bot.domain.similarity`."""
    from bot.domain.similarity import OfflineMatcher

    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    if not (settings.embeddings_model or "").strip() or not key:
        return OfflineMatcher()
    from handlers.llm.embeddings import build_embeddings_matcher

    return build_embeddings_matcher(settings)
