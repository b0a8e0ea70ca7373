"""The embeddings matcher through LangChain's OpenAIEmbeddings and the real `openai`
client, against the local OpenAI-compatible stub (tests/fakes/openai_stub.py)."""

from __future__ import annotations

import pytest

from bot.app import build_core, build_matcher
from bot.domain.policy_file import load_policy
from bot.domain.similarity import OfflineMatcher
from bot.settings import Settings
from tests.support.openai_stub import OpenAIStub
from tests.support.proposals import make_proposal as proposal

MODEL = "text-embedding-stub"


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


def _settings(stub, database_url="sqlite://", **extra):
    return Settings(
        database_url=database_url,
        governance="UGOV",
        openai_api_key="sk-test",
        openai_base_url=stub.base_url,
        embeddings_model=MODEL,
        llm_max_retries=0,
        _env_file=None,
        **extra,
    )


def test_without_an_embeddings_model_the_matcher_is_offline(stub):
    settings = _settings(stub)
    settings.embeddings_model = None
    assert isinstance(build_matcher(settings), OfflineMatcher)


def test_the_embedding_comes_from_the_endpoint_with_the_model_and_the_text(stub):
    matcher = build_matcher(_settings(stub))
    vector = matcher.describe("Invoice matching", "Matches supplier bills", load_policy().similarity)
    [request] = stub.embedding_requests
    assert (request["model"], request["input"], vector.model) == (
        MODEL,
        ["Invoice matching\n\nMatches supplier bills"],
        MODEL,
    )


def test_an_endpoint_failure_leaves_the_offline_terms(stub):
    stub.embedding_status = 500
    vector = build_matcher(_settings(stub)).describe("Invoice matching", None, load_policy().similarity)
    assert (vector.embedding, bool(vector.terms)) == (None, True)


def test_embeddings_are_stored_with_the_proposal_and_decide_near_duplicates(stub, database_url, clock):
    # two texts with no word in common, pinned to the same direction by the endpoint
    a = proposal(title="Alpha workflow", department="Sales", description="Gamma delta.", owner="U1")
    b = proposal(title="Epsilon process", department="Legal", description="Zeta eta.", owner="U2")
    for p in (a, b):
        stub.embedding_vectors[f"{p['title']}\n\n{p['description']}"] = [1.0, 0.5, 0.0, 0.25]
    core = build_core(_settings(stub, database_url), clock=clock)
    first = core.submit("UA", "slack", a).proposal_id
    second = core.submit("UB", "slack", b).proposal_id
    with core.uow() as uow:
        stored = uow.similarity.vector(second)
    assert (stored.model, stored.embedding) == (MODEL, (1.0, 0.5, 0.0, 0.25))
    assert [(x["id"], x["score"]) for x in core.status_data(second)["similar"]] == [(first, 1.0)]
