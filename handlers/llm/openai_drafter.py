"""The digest's LLM: LangChain's `ChatOpenAI` behind `bot.ports.Drafter`.

`OPENAI_API_KEY`, `OPENAI_BASE_URL` (any OpenAI-compatible server) and
`GOVBOT_LLM_MODEL` choose the model; `settings.llm_timeout_s` bounds each request and
`settings.llm_max_retries` bounds the client's retries. Any timeout or HTTP error
becomes `DraftFailed`; the key never appears in logs or errors.
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from bot.ports import DraftFailed

logger = logging.getLogger(__name__)


class ChatModelDrafter:
    """Any LangChain chat model as a Drafter (the fake chat models in tests)."""

    def __init__(self, model: BaseChatModel, model_name: str):
        self.model = model
        self.model_name = model_name

    def draft(self, system: str, user: str) -> tuple[str, int, int]:
        """Return (text, tokens_in, tokens_out); raise DraftFailed on any failure."""
        try:
            reply = self.model.invoke([SystemMessage(content=system), HumanMessage(content=user)])
        except Exception as exc:  # the adapter boundary: every transport failure is a DraftFailed
            logger.warning("LLM %s failed: %s", self.model_name, type(exc).__name__)
            raise DraftFailed(_describe(exc)) from exc
        text = reply.content if isinstance(reply.content, str) else _join_parts(reply.content)
        tokens_in, tokens_out = _usage(reply)
        return text, tokens_in, tokens_out


class OpenAIDrafter(ChatModelDrafter):
    """`ChatOpenAI` with a timeout and bounded retries."""

    def __init__(
        self, *, api_key: str, model: str, base_url: str | None = None, timeout_s: float = 30.0, max_retries: int = 2
    ):
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        chat = ChatOpenAI(
            model=model,
            api_key=SecretStr(api_key),
            base_url=base_url,
            timeout=timeout_s,
            max_retries=max_retries,
            temperature=0,
        )
        super().__init__(chat, model)


def build_openai_drafter(settings: Any) -> OpenAIDrafter | None:
    """The drafter the settings ask for; None when no OPENAI_API_KEY is set."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key.strip():
        return None
    return OpenAIDrafter(
        api_key=key,
        model=settings.llm_model,
        base_url=settings.openai_base_url,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if "Timeout" in name:
        return f"timed out ({name})"
    if status is not None:
        return f"HTTP {status} ({name})"
    return name


def _usage(reply: Any) -> tuple[int, int]:
    usage = getattr(reply, "usage_metadata", None) or {}
    if usage:
        return int(usage.get("input_tokens", 0) or 0), int(usage.get("output_tokens", 0) or 0)
    meta = (getattr(reply, "response_metadata", None) or {}).get("token_usage") or {}
    return int(meta.get("prompt_tokens", 0) or 0), int(meta.get("completion_tokens", 0) or 0)


def _join_parts(parts: Any) -> str:
    out = []
    for part in parts or ():
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            out.append(str(part.get("text", "")))
    return "".join(out)
