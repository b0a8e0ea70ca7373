"""The job lease outlasts the slowest legitimate run: the digest's two LLM drafts with
every retry at the full timeout."""

from __future__ import annotations

from datetime import timedelta

from bot.service.jobs import job_lease
from bot.settings import Settings


def slowest_digest(settings: Settings) -> timedelta:
    return timedelta(seconds=2 * (settings.llm_max_retries + 1) * settings.llm_timeout_s)


def test_the_lease_outlasts_a_digest_with_slow_llm_settings() -> None:
    settings = Settings(llm_timeout_s=900, llm_max_retries=5, _env_file=None)  # type: ignore[call-arg]
    assert job_lease(settings) > 2 * slowest_digest(settings)


def test_the_lease_is_an_hour_with_the_default_settings() -> None:
    assert job_lease(Settings(_env_file=None)) == timedelta(hours=1)  # type: ignore[call-arg]
