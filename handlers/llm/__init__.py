"""LLM adapters implementing `bot.ports.Drafter` (LangChain chat models)."""

from handlers.llm.openai_drafter import ChatModelDrafter, OpenAIDrafter, build_openai_drafter

__all__ = ["ChatModelDrafter", "OpenAIDrafter", "build_openai_drafter"]
