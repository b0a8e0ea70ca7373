"""Near-duplicates by embeddings: LangChain's `OpenAIEmbeddings` behind
`bot.ports.SimilarityMatcher`.

`GOVBOT_EMBEDDINGS_MODEL` names the model of any OpenAI-compatible server
(`OPENAI_BASE_URL`, `OPENAI_API_KEY`). The text is sent as it is (no local tokenizer,
which would have to download its encoding). A timeout or an HTTP error leaves the
proposal with its offline terms only, so the offline matcher compares it; the key
never appears in logs.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.similarity import SimilarityRules, TextVector, word_counts

logger = logging.getLogger(__name__)

TEXT_MAX = 8000  # characters sent per proposal (title and description)


def embedding_text(title: str, description: str | None) -> str:
    """What is embedded: the title, then the description."""
    return f"{title}\n\n{description or ''}".strip()[:TEXT_MAX]


class EmbeddingsMatcher:
    """Offline terms plus an embedding from any LangChain `Embeddings`."""

    def __init__(self, embeddings: Any, model: str):
        self.embeddings = embeddings
        self.model = model
        self.name = f"embeddings:{model}"

    def describe(self, title: str, description: str | None, rules: SimilarityRules) -> TextVector:
        bag = word_counts(title, description, rules)
        try:
            vector = self.embeddings.embed_query(embedding_text(title, description))
        except Exception as exc:  # the adapter boundary: any failure leaves the offline terms
            logger.warning("embeddings model %s failed (%s); using the offline terms", self.model, type(exc).__name__)
            return TextVector(bag)
        if not vector:
            return TextVector(bag)
        return TextVector(bag, tuple(float(x) for x in vector), self.model)


def build_embeddings_matcher(settings: Any) -> EmbeddingsMatcher:
    """`OpenAIEmbeddings` with the settings' key, base URL, timeout and retries."""
    from langchain_openai import OpenAIEmbeddings
    from pydantic import SecretStr

    model = settings.embeddings_model.strip()
    embeddings = OpenAIEmbeddings(
        model=model,
        openai_api_key=SecretStr(settings.openai_api_key.get_secret_value()),
        openai_api_base=settings.openai_base_url,
        request_timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        check_embedding_ctx_length=False,  # send text, not tokens: no tokenizer download
    )
    return EmbeddingsMatcher(embeddings, model)
