"""Wiring of the digest LLM: no key, no drafter; a key gives ChatOpenAI with the
configured model, base URL, timeout and retries, and the key stays secret."""

from __future__ import annotations

from bot.app import build_drafter
from bot.settings import Settings
from handlers.llm import OpenAIDrafter


def test_no_key_no_drafter():
    assert build_drafter(Settings(_env_file=None)) is None
    assert build_drafter(Settings(_env_file=None, openai_api_key="  ")) is None


def test_key_builds_chat_openai_from_settings():
    settings = Settings(
        _env_file=None,
        openai_api_key="sk-secret-9",
        openai_base_url="http://127.0.0.1:9/v1",
        llm_model="my-model",
        llm_timeout_s=7.5,
        llm_max_retries=3,
    )
    drafter = build_drafter(settings)
    assert isinstance(drafter, OpenAIDrafter) and drafter.model_name == "my-model"
    chat = drafter.model
    assert (chat.model_name, chat.openai_api_base, chat.request_timeout, chat.max_retries) == (
        "my-model",
        "http://127.0.0.1:9/v1",
        7.5,
        3,
    )
    assert chat.openai_api_key.get_secret_value() == "sk-secret-9"
    assert "sk-secret-9" not in repr(chat) and "sk-secret-9" not in repr(settings)


def test_environment_names(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8/v1")
    monkeypatch.setenv("GOVBOT_LLM_MODEL", "env-model")
    drafter = build_drafter(Settings(_env_file=None))
    assert drafter.model_name == "env-model" and drafter.model.openai_api_base == "http://127.0.0.1:8/v1"
