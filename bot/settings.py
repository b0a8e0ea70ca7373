"""Settings from the environment and `.env` (DESIGN.md, Settings), validated at start-up.

Each platform keeps its own variable names (`SLACK_BOT_TOKEN`, `MicrosoftAppId`, ...).
Secrets are `SecretStr` so they never show up in logs or reprs.

`load_settings()` reads and validates them: every bad value becomes one line naming
its variable and what is allowed (`SettingsError`). `check_startup(settings)` then
reads the files they point to (the policy and the roles file). `govbot serve`,
`run-jobs`, `digest` and every command that opens the database call both before they
do anything else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.proposal import CAPACITY
from bot.domain.roles import clean_user

DEFAULT_DB = "sqlite:///govbot.db"
DIGEST_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
# The URL schemes the store runs on (store.db.make_engine): SQLite and PostgreSQL with psycopg 3.
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
DATABASE_EXAMPLES = "sqlite:///govbot.db or postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
SHARE_TOLERANCE = 0.01


class SettingsError(ValueError):
    """Settings govbot cannot start with: one line per problem, each naming its variable."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(DEFAULT_DB, validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    govbot_env: str = Field("production", validation_alias=AliasChoices("GOVBOT_ENV", "govbot_env"))
    governance: str = Field("", validation_alias=AliasChoices("GOVBOT_GOVERNANCE", "governance"))
    roles_file: Path | None = Field(None, validation_alias=AliasChoices("GOVBOT_ROLES_FILE", "roles_file"))
    policy_file: Path | None = Field(None, validation_alias=AliasChoices("GOVBOT_POLICY_FILE", "policy_file"))
    timezone: str = Field("UTC", validation_alias=AliasChoices("GOVBOT_TIMEZONE", "timezone"))

    # Slack
    slack_bot_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    slack_api_url: str | None = Field(None, validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url"))
    slack_command: str = Field("/aiwf", validation_alias=AliasChoices("GOVBOT_SLACK_COMMAND", "slack_command"))

    # Microsoft Teams (Bot Framework)
    microsoft_app_id: str | None = Field(None, validation_alias=AliasChoices("MicrosoftAppId", "microsoft_app_id"))
    microsoft_app_password: SecretStr | None = Field(
        None, validation_alias=AliasChoices("MicrosoftAppPassword", "microsoft_app_password")
    )
    microsoft_app_tenant_id: str | None = Field(
        None, validation_alias=AliasChoices("MicrosoftAppTenantId", "microsoft_app_tenant_id")
    )
    microsoft_app_type: str = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "microsoft_app_type")
    )
    teams_enabled: bool = Field(False, validation_alias=AliasChoices("GOVBOT_TEAMS", "teams_enabled"))

    # LLM
    openai_api_key: SecretStr | None = Field(None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"))
    openai_base_url: str | None = Field(None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"))
    llm_model: str = Field("gpt-4o-mini", validation_alias=AliasChoices("GOVBOT_LLM_MODEL", "llm_model"))
    llm_timeout_s: float = Field(30.0, gt=0, validation_alias=AliasChoices("GOVBOT_LLM_TIMEOUT", "llm_timeout_s"))
    llm_max_retries: int = Field(2, ge=0, validation_alias=AliasChoices("GOVBOT_LLM_RETRIES", "llm_max_retries"))
    embeddings_model: str | None = Field(
        None, validation_alias=AliasChoices("GOVBOT_EMBEDDINGS_MODEL", "embeddings_model")
    )

    # Approvals and jobs
    reminder_after_h: float = Field(
        48.0, gt=0, validation_alias=AliasChoices("GOVBOT_REMINDER_HOURS", "reminder_after_h")
    )
    escalate_after_h: float = Field(
        120.0, gt=0, validation_alias=AliasChoices("GOVBOT_ESCALATE_HOURS", "escalate_after_h")
    )
    owner_first: bool = Field(False, validation_alias=AliasChoices("GOVBOT_OWNER_FIRST", "owner_first"))
    purgatory_days: int = Field(90, ge=0, validation_alias=AliasChoices("GOVBOT_PURGATORY_DAYS", "purgatory_days"))
    jobs_interval_s: float = Field(60.0, gt=0, validation_alias=AliasChoices("GOVBOT_JOBS_INTERVAL", "jobs_interval_s"))
    # how often (seconds) each process looks for a newly applied policy in SQL
    policy_refresh_s: float = Field(
        30.0, ge=0, le=60, validation_alias=AliasChoices("GOVBOT_POLICY_REFRESH", "policy_refresh_s")
    )

    # Digest
    digest_review: bool = Field(True, validation_alias=AliasChoices("GOVBOT_DIGEST_REVIEW", "digest_review"))
    digest_day: str = Field("mon", validation_alias=AliasChoices("GOVBOT_DIGEST_DAY", "digest_day"))
    digest_time: str = Field("09:00", validation_alias=AliasChoices("GOVBOT_DIGEST_TIME", "digest_time"))
    digest_slack_channel: str | None = Field(
        None, validation_alias=AliasChoices("GOVBOT_DIGEST_SLACK_CHANNEL", "digest_slack_channel")
    )
    digest_teams_conversation: str | None = Field(
        None, validation_alias=AliasChoices("GOVBOT_DIGEST_TEAMS_CONVERSATION", "digest_teams_conversation")
    )
    capacity_target: str = Field(
        "keep_the_lights_on=0.3,incremental=0.5,strategic=0.2",
        validation_alias=AliasChoices("GOVBOT_CAPACITY_TARGET", "capacity_target"),
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme, sep, _ = value.strip().partition("://")
        if not sep:  # never echo the value: it may hold a password
            raise ValueError(f"not a database URL; use {DATABASE_EXAMPLES}")
        if scheme.lower() not in DATABASE_SCHEMES:
            raise ValueError(
                f"{scheme[:40]!r} is not supported; allowed: {', '.join(DATABASE_SCHEMES)} (e.g. {DATABASE_EXAMPLES})"
            )
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _real_zone(cls, value: str) -> str:
        name = value.strip()
        try:
            ZoneInfo(name)
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(
                f"{name[:60]!r} is not an IANA time zone; use a name such as UTC, Europe/Berlin or America/New_York"
            ) from None
        return name

    @field_validator("digest_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        word = value.strip().lower()
        for short, full in zip(DIGEST_DAYS, _DAY_NAMES, strict=True):
            if word in (short, full):
                return short
        raise ValueError(f"{value[:40]!r} is not a day; allowed: {', '.join(DIGEST_DAYS)} (or the full English name)")

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = _TIME.match(value.strip())
        if match is None:
            raise ValueError(f"{value[:40]!r} is not a time of day; use HH:MM from 00:00 to 23:59, e.g. 09:00")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("capacity_target")
    @classmethod
    def _capacity_shares(cls, value: str) -> str:
        parse_capacity_target(value)
        return value.strip()

    @field_validator("governance")
    @classmethod
    def _user_ids(cls, value: str) -> str:
        for entry in value.split(","):
            if entry.strip() and clean_user(entry) is None:
                raise ValueError(
                    f"{entry.strip()[:40]!r} is not a user id; give ids separated by commas, e.g. U123,U456"
                )
        return value

    def governance_ids(self) -> list[str]:
        return [u.strip() for u in self.governance.split(",") if u.strip()]

    def capacity_targets(self) -> dict[str, float]:
        return parse_capacity_target(self.capacity_target)


def parse_capacity_target(text: str) -> dict[str, float]:
    """{capacity: share} from "keep_the_lights_on=0.3,incremental=0.5,strategic=0.2".

    Raises ValueError saying what is allowed: known capacities, each once, shares from
    0 to 1 that add up to 1 when all three are named (to at most 1 otherwise)."""
    allowed = f"use CAPACITY=SHARE pairs such as {','.join(f'{c}=0.3' for c in CAPACITY[:2])}"
    shares: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, number = (x.strip() for x in part.partition("="))
        if not sep:
            raise ValueError(f"{part[:40]!r} has no share; {allowed}")
        if name not in CAPACITY:
            raise ValueError(f"{name[:40]!r} is not a capacity; allowed: {', '.join(CAPACITY)}")
        if name in shares:
            raise ValueError(f"{name} is named twice")
        try:
            share = float(number)
        except ValueError:
            raise ValueError(f"{name}: {number[:20]!r} is not a number; shares are from 0 to 1, e.g. 0.3") from None
        if not 0 <= share <= 1:
            raise ValueError(f"{name}: {number} is not a share from 0 to 1")
        shares[name] = share
    total = sum(shares.values())
    if len(shares) == len(CAPACITY) and abs(total - 1) > SHARE_TOLERANCE:
        raise ValueError(f"the shares add up to {round(total, 3)}; the three shares must add up to 1")
    if total > 1 + SHARE_TOLERANCE:
        raise ValueError(f"the shares add up to {round(total, 3)}, more than 1")
    return shares


def _variable(field: str) -> str:
    """The environment variable of a settings field (or the name it was given under)."""
    for name, info in Settings.model_fields.items():
        choices = getattr(info.validation_alias, "choices", ())
        if field == name or field in choices:
            return str(choices[0]) if choices else name.upper()
    return field


def load_settings(**values: object) -> Settings:
    """Read and validate the settings (environment, `.env`, then `values`).

    Raises SettingsError with one line per bad value, naming its variable and what is
    allowed (a secret's value is never repeated)."""
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            where = _variable(str(error["loc"][0])) if error["loc"] else "settings"
            cause = error.get("ctx", {}).get("error")
            problems.append(f"{where}: {cause if isinstance(cause, ValueError) else error['msg']}")
        raise SettingsError(problems) from None


def check_startup(settings: Settings) -> None:
    """Read what the settings point to: GOVBOT_POLICY_FILE must be a valid policy and
    GOVBOT_ROLES_FILE a valid roles file. Raises SettingsError with every problem."""
    from bot.domain.policy import PolicyError
    from bot.domain.policy_file import load_policy
    from bot.domain.roles import RolesFileError, parse_roles_file

    problems: list[str] = []
    if settings.policy_file is not None:
        try:
            load_policy(settings.policy_file)
        except PolicyError as exc:
            problems += [f"GOVBOT_POLICY_FILE: {settings.policy_file}: {p}" for p in exc.problems]
    if settings.roles_file is not None:
        try:
            parse_roles_file(Path(settings.roles_file))
        except RolesFileError as exc:
            text = str(exc)
            problems.append(text if text.startswith("GOVBOT_ROLES_FILE") else f"GOVBOT_ROLES_FILE: {text}")
    if problems:
        raise SettingsError(problems)
