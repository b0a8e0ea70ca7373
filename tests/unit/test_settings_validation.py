"""Settings are validated when they are read: each bad value is one line naming its
environment variable and what is allowed, and never repeats a password."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings, parse_capacity_target


def problems(**values: object) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **values)
    return caught.value.problems


def test_a_number_out_of_range_names_its_variable() -> None:
    assert problems(llm_max_retries=-1) == ["GOVBOT_LLM_RETRIES: Input should be greater than or equal to 0"]


def test_a_database_url_without_a_scheme_is_refused_without_repeating_it() -> None:
    assert problems(database_url="govbot:s3cret@db.internal/govbot") == [
        "DATABASE_URL: not a database URL; use sqlite:///govbot.db or "
        "postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
    ]


def test_governance_must_be_user_ids() -> None:
    assert problems(governance="U1,two words") == [
        "GOVBOT_GOVERNANCE: 'two words' is not a user id; give ids separated by commas, e.g. U123,U456"
    ]


def test_day_and_time_are_normalised() -> None:
    settings = load_settings(_env_file=None, digest_day="Friday", digest_time="9:05", timezone=" Europe/Berlin ")
    assert (settings.digest_day, settings.digest_time, settings.timezone) == ("fri", "09:05", "Europe/Berlin")


def test_the_default_capacity_target_is_three_shares_adding_up_to_one() -> None:
    assert parse_capacity_target("keep_the_lights_on=0.3,incremental=0.5,strategic=0.2") == {
        "keep_the_lights_on": 0.3,
        "incremental": 0.5,
        "strategic": 0.2,
    }


def test_an_unknown_capacity_is_named_with_the_allowed_ones() -> None:
    assert problems(capacity_target="moonshot=0.2") == [
        "GOVBOT_CAPACITY_TARGET: 'moonshot' is not a capacity; allowed: keep_the_lights_on, incremental, strategic"
    ]
