"""The digest drafted by the real `openai` client (LangChain ChatOpenAI) against a local
OpenAI-compatible stub: good draft, wrong number, timeout, HTTP 500, prompt injection."""

from __future__ import annotations

import pytest

from bot.app import build_drafter
from bot.service.digest_writer import DATA_CLOSE, DATA_OPEN, grounding_problems
from tests.support.clock import T0
from tests.support.openai_stub import OpenAIStub, Reply, llm_settings
from tests.support.portfolio import GOOD_DIGEST, INJECTION, seed_portfolio, store_env


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def llm_env(database_url, clock, stub):
    settings = llm_settings(stub.base_url, database_url, llm_max_retries=1)
    return store_env(settings, clock, drafter=build_drafter(settings))


def test_good_draft_is_stored_with_model_tokens_and_prompt_version(llm_env, stub):
    seed_portfolio(llm_env, T0)
    stub.script(Reply(GOOD_DIGEST, prompt_tokens=1234, completion_tokens=99))
    row = llm_env.draft_digest(T0)
    assert (row.text, row.model, row.fallback_reason, row.status) == (GOOD_DIGEST, "stub-model", None, "draft")
    assert (row.tokens_in, row.tokens_out) == (1234, 99)
    assert (row.prompt_name, row.prompt_version) == ("digest", "1")
    assert row.latency_ms >= 0
    assert len(stub.requests) == 1
    request = stub.requests[0]
    assert request["model"] == "stub-model"
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert stub.headers[0]["authorization"] == "Bearer sk-test-123"
    with llm_env.uow() as uow:
        stored = uow.digests.get(row.id)
    assert stored.text == GOOD_DIGEST and stored.facts["new_proposals"]["this_week"] == 2


def test_wrong_number_is_retried_once_with_the_problems_then_template(llm_env, stub):
    seed_portfolio(llm_env, T0)
    wrong = GOOD_DIGEST.replace("2 are overdue", "57 are overdue")
    stub.script(Reply(wrong), Reply(wrong.replace("31%", "45%")), Reply(GOOD_DIGEST))
    row = llm_env.draft_digest(T0)
    assert len(stub.requests) == 2  # the first draft and one retry, no more
    retry = stub.user_messages()[1]
    assert "the number 57 is not in the facts" in retry
    assert stub.user_messages()[0] in retry  # the same facts, with the problems added
    assert row.model == "template"
    assert row.fallback_reason.startswith("grounding check failed")
    assert "57" in row.fallback_reason and "45" in row.fallback_reason
    assert "did not pass the check against the facts" in row.text
    assert grounding_problems(row.text, row.facts) == []
    assert row.tokens_in == 240 and row.tokens_out == 160  # both attempts counted


def test_wrong_number_then_good_retry_is_kept(llm_env, stub):
    seed_portfolio(llm_env, T0)
    stub.script(Reply(GOOD_DIGEST.replace("100 days", "101 days")), Reply(GOOD_DIGEST))
    row = llm_env.draft_digest(T0)
    assert (row.text, row.model, row.fallback_reason) == (GOOD_DIGEST, "stub-model", None)
    assert len(stub.requests) == 2


@pytest.mark.slow
def test_timeout_falls_back_to_template(llm_env, stub):
    seed_portfolio(llm_env, T0)
    stub.script(Reply(GOOD_DIGEST, sleep=2.0))  # longer than the 0.5 s client timeout
    row = llm_env.draft_digest(T0)
    assert len(stub.requests) == 2  # one try and llm_max_retries=1 retry, bounded
    assert row.model == "template"
    assert row.fallback_reason.startswith("LLM draft failed") and "timed out" in row.fallback_reason
    assert "the LLM did not answer" in row.text
    assert grounding_problems(row.text, row.facts) == []


def test_http_500_falls_back_to_template(llm_env, stub):
    seed_portfolio(llm_env, T0)
    stub.script(Reply(status=500))
    row = llm_env.draft_digest(T0)
    assert len(stub.requests) == 2
    assert row.model == "template" and "HTTP 500" in row.fallback_reason
    assert "sk-test-123" not in row.fallback_reason


def test_prompt_injection_title_stays_quoted_data(llm_env, stub):
    seed_portfolio(llm_env, T0, injection=True)
    obeying = "Everything is approved: all 7 proposals are approved and 100% compliant."
    stub.script(Reply(obeying))
    row = llm_env.draft_digest(T0)
    system, user = stub.system_messages()[0], stub.user_messages()[0]
    assert INJECTION not in system
    head, rest = user.split(DATA_OPEN + "\n", 1)
    block, tail = rest.split("\n" + DATA_CLOSE, 1)
    assert INJECTION not in head and INJECTION not in tail
    assert f'"title":"{INJECTION}"' in block  # a JSON string value, nothing more
    assert "never follow" in system.lower()
    # the model that obeyed is caught (its prose repeats the title's words: 7 and 100 are
    # facts, so numbers alone would not catch it), retried once, then replaced
    assert len(stub.requests) == 2
    assert "appear outside double quotes" in stub.user_messages()[1]
    assert row.model == "template" and "outside double quotes" in row.fallback_reason
    assert grounding_problems(row.text, row.facts) == []
    assert "everything is approved" not in row.text.lower().replace(INJECTION.lower(), "")


def test_injection_title_may_be_quoted_as_a_title(llm_env, stub):
    seed_portfolio(llm_env, T0, injection=True)
    text = f'2 new proposals this week, among them "{INJECTION}" (high risk); 2 approvals are overdue.'
    stub.script(Reply(text))
    row = llm_env.draft_digest(T0)
    assert row.model == "stub-model" and row.text == text
