"""LLM adapters implementing `bot.ports.Drafter` and `bot.ports.Extractor` (LangChain chat models)."""

from handlers.llm.extractor import LLMExtractor, build_llm_extractor
from handlers.llm.openai_drafter import ChatModelDrafter, OpenAIDrafter, build_openai_drafter

__all__ = ["ChatModelDrafter", "LLMExtractor", "OpenAIDrafter", "build_llm_extractor", "build_openai_drafter"]
