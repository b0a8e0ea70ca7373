"""The intake extractor's LLM: LangChain's `ChatOpenAI` behind `bot.ports.Extractor`.

The model is offered one tool, `fill_proposal`, whose arguments are the JSON object of
DESIGN.md "Intake in one paragraph"; an endpoint without tool calling may answer with
the same object as the message content. The paragraph enters the prompt
(`prompts/extract.md`) only as a JSON string inside a data block. Whatever comes back
is grounded in the paragraph by `bot.domain.extraction.from_reply`; a timeout, an HTTP
error or a reply that is not the JSON falls back to the lexicon, saying why. The key
never appears in logs or in the reason.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot.domain.extraction import (
    LLM,
    Extraction,
    ExtractPrompt,
    build_messages,
    check_paragraph,
    from_reply,
    lexicon_extraction,
    reply_object,
)
from bot.domain.policy import Policy
from handlers.llm.openai_drafter import _describe, _join_parts, _usage

logger = logging.getLogger(__name__)

TOOL_NAME = "fill_proposal"
TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "The proposal answers the paragraph plainly gives, each with the words it came from.",
        "parameters": {
            "type": "object",
            "properties": {
                "answers": {"type": "object", "description": "proposal key -> value"},
                "evidence": {
                    "type": "object",
                    "description": "proposal key -> the words of the paragraph it comes from",
                    "additionalProperties": {"type": "string"},
                },
            },
            "required": ["answers", "evidence"],
        },
    },
}
NOT_JSON = 'the reply is not the JSON object {"answers": {...}, "evidence": {...}}'


class LLMExtractor:
    """Any LangChain chat model as the extractor (ChatOpenAI in production; tests use the
    real client against a local OpenAI-compatible stub)."""

    name = LLM

    def __init__(self, model: BaseChatModel, model_name: str, prompt: ExtractPrompt, *, tools: bool = True):
        self.model = model
        self.model_name = model_name
        self.prompt = prompt
        self._runnable: Any = model.bind_tools([TOOL]) if tools else model

    def extract(self, paragraph: str, policy: Policy) -> Extraction:
        """Read the paragraph with the LLM; on any failure, the lexicon says what it can."""
        paragraph = check_paragraph(paragraph)
        system, user = build_messages(self.prompt, paragraph)
        measured: dict[str, Any] = {
            "model": self.model_name,
            "prompt_name": self.prompt.name,
            "prompt_version": self.prompt.version,
        }
        began = time.perf_counter()
        try:
            reply = self._runnable.invoke([SystemMessage(content=system), HumanMessage(content=user)])
        except Exception as exc:  # the adapter boundary: every transport failure falls back
            measured["latency_ms"] = _since(began)
            logger.warning("extraction LLM %s failed: %s", self.model_name, type(exc).__name__)
            return lexicon_extraction(paragraph, policy, fallback_reason=f"LLM {_describe(exc)}", **measured)
        measured["latency_ms"] = _since(began)
        measured["tokens_in"], measured["tokens_out"] = _usage(reply)
        extraction = from_reply(_reply_value(reply), paragraph, policy, **measured)
        if extraction is None:
            logger.warning("extraction LLM %s: the reply is not the JSON object", self.model_name)
            return lexicon_extraction(paragraph, policy, fallback_reason=NOT_JSON, **measured)
        if extraction.dropped:
            logger.info("extraction dropped %d ungrounded answers: %s", len(extraction.dropped), extraction.dropped)
        return extraction


def _reply_value(reply: BaseMessage) -> Any:
    """The arguments of the `fill_proposal` call, else the JSON of the content (None when neither)."""
    for call in getattr(reply, "tool_calls", None) or ():
        if call.get("name") == TOOL_NAME:
            return call.get("args")
    if getattr(reply, "invalid_tool_calls", None):
        return None  # the tool was called with arguments that are not JSON
    content = reply.content if isinstance(reply.content, str) else _join_parts(reply.content)
    return reply_object(content)


def _since(began: float) -> int:
    return int((time.perf_counter() - began) * 1000)


def build_llm_extractor(settings: Any, prompt: ExtractPrompt) -> LLMExtractor | None:
    """The extractor the settings ask for: ChatOpenAI on OPENAI_BASE_URL with
    GOVBOT_LLM_MODEL, `llm_timeout_s` and `llm_max_retries`; None without OPENAI_API_KEY."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not key.strip():
        return None
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    chat = ChatOpenAI(
        model=settings.llm_model,
        api_key=SecretStr(key),
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=0,
    )
    return LLMExtractor(chat, settings.llm_model, prompt)
