"""Settings from the environment and `.env` (DESIGN.md, Settings).

Each platform keeps its own variable names (`SLACK_BOT_TOKEN`, `MicrosoftAppId`, ...).
Secrets are `SecretStr` so they never show up in logs or reprs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB = "sqlite:///govbot.db"


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
    llm_timeout_s: float = Field(30.0, validation_alias=AliasChoices("GOVBOT_LLM_TIMEOUT", "llm_timeout_s"))
    llm_max_retries: int = Field(2, validation_alias=AliasChoices("GOVBOT_LLM_RETRIES", "llm_max_retries"))
    embeddings_model: str | None = Field(
        None, validation_alias=AliasChoices("GOVBOT_EMBEDDINGS_MODEL", "embeddings_model")
    )

    # Approvals and jobs
    reminder_after_h: float = Field(48.0, validation_alias=AliasChoices("GOVBOT_REMINDER_HOURS", "reminder_after_h"))
    escalate_after_h: float = Field(120.0, validation_alias=AliasChoices("GOVBOT_ESCALATE_HOURS", "escalate_after_h"))
    owner_first: bool = Field(False, validation_alias=AliasChoices("GOVBOT_OWNER_FIRST", "owner_first"))
    purgatory_days: int = Field(90, validation_alias=AliasChoices("GOVBOT_PURGATORY_DAYS", "purgatory_days"))
    jobs_interval_s: float = Field(60.0, validation_alias=AliasChoices("GOVBOT_JOBS_INTERVAL", "jobs_interval_s"))

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

    def governance_ids(self) -> list[str]:
        return [u.strip() for u in self.governance.split(",") if u.strip()]

    def capacity_targets(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part in self.capacity_target.split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                out[k.strip()] = float(v)
        return out
