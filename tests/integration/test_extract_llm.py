"""`govbot extract` and the LLM extractor: the real `openai` client (LangChain's
ChatOpenAI) against a local OpenAI-compatible stub — a good reply (as content and as
the tool call), an ungrounded answer, garbage, a timeout, HTTP 500 — and without an LLM."""

from __future__ import annotations

import io
import json

import pytest

from bot.app import build_extractor
from bot.cli import main
from bot.domain.extraction import DATA_CLOSE, DATA_OPEN
from bot.domain.policy_file import load_policy
from bot.settings import Settings
from handlers.llm.extractor import NOT_JSON, TOOL_NAME
from tests.support.intake_data import PARAGRAPH, STILL_TO_ASK, good_reply
from tests.support.openai_stub import OpenAIStub, Reply, llm_settings

POLICY = load_policy()


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def extractor(stub):
    settings = llm_settings(stub.base_url)
    return build_extractor(settings)


@pytest.fixture
def cli(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GOVBOT_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str, stdin: str = "") -> tuple[int, dict | None, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        code = main(["extract", *argv], out=out, stdin=io.StringIO(stdin))
        return code, (json.loads(out.getvalue()) if out.getvalue() else None), err.getvalue()

    return run


def llm_env(monkeypatch, stub) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
    monkeypatch.setenv("GOVBOT_LLM_MODEL", "stub-model")
    monkeypatch.setenv("GOVBOT_LLM_TIMEOUT", "0.5")
    monkeypatch.setenv("GOVBOT_LLM_RETRIES", "0")


# --------------------------------------------------------------------------- the extractor


def test_a_good_reply_prefills_every_answer_the_paragraph_gives(extractor, stub):
    stub.script(Reply(good_reply(), prompt_tokens=900, completion_tokens=300))
    extraction = extractor.extract(PARAGRAPH, POLICY)
    assert (extraction.extractor, extraction.fallback_reason, extraction.dropped) == ("llm", None, ())


def test_the_extraction_records_model_prompt_and_tokens(extractor, stub):
    stub.script(Reply(good_reply(), prompt_tokens=900, completion_tokens=300))
    extraction = extractor.extract(PARAGRAPH, POLICY)
    assert (extraction.model, extraction.prompt_name, extraction.prompt_version) == ("stub-model", "extract", "1")
    assert (extraction.tokens_in, extraction.tokens_out) == (900, 300)


def test_the_reply_may_come_as_the_one_tool_call(extractor, stub):
    stub.script(Reply(tool_arguments=good_reply()))
    extraction = extractor.extract(PARAGRAPH, POLICY)
    assert (extraction.extractor, extraction.answers["review"]) == ("llm", "every_output")


def test_the_model_is_offered_exactly_one_tool(extractor, stub):
    stub.script(Reply(good_reply()))
    extractor.extract(PARAGRAPH, POLICY)
    assert [t["function"]["name"] for t in stub.requests[0]["tools"]] == [TOOL_NAME]


def test_the_paragraph_is_sent_only_inside_the_data_block(extractor, stub):
    stub.script(Reply(good_reply()))
    extractor.extract(PARAGRAPH, POLICY)
    user = stub.user_messages()[0]
    block = user.split(DATA_OPEN + "\n", 1)[1].split("\n" + DATA_CLOSE, 1)[0]
    assert (json.loads(block), PARAGRAPH in stub.system_messages()[0]) == (PARAGRAPH, False)


def test_an_ungrounded_answer_is_dropped_and_asked(extractor, stub):
    stub.script(Reply(good_reply(escalation_path=("The CFO", "escalate to the CFO"))))
    extraction = extractor.extract(PARAGRAPH, POLICY)
    assert (extraction.dropped, "escalation_path" in extraction.answers) == (("escalation_path",), False)


def test_garbage_falls_back_to_the_lexicon_and_says_why(extractor, stub):
    stub.script(Reply("I think this workflow is low risk!"))
    extraction = extractor.extract(PARAGRAPH, POLICY)
    assert (extraction.extractor, extraction.fallback_reason) == ("lexicon", NOT_JSON)


def test_a_timeout_falls_back_to_the_lexicon(extractor, stub):
    stub.script(Reply(good_reply(), sleep=2.0))
    extraction = extractor.extract(PARAGRAPH, POLICY)
    assert (extraction.extractor, extraction.fallback_reason) == ("lexicon", "LLM timed out (OpenAITimeoutError)")


def test_an_http_500_falls_back_to_the_lexicon(extractor, stub):
    stub.script(Reply(status=500))
    extraction = extractor.extract(PARAGRAPH, POLICY)
    assert (extraction.extractor, extraction.fallback_reason) == ("lexicon", "LLM HTTP 500 (OpenAIAPIError)")


def test_the_fallback_still_prefills_what_the_words_raise(extractor, stub):
    stub.script(Reply(status=500))
    assert extractor.extract(PARAGRAPH, POLICY).answers["actions"] == ["change_billing", "send_external"]


def test_without_a_key_the_extractor_is_the_lexicon():
    assert build_extractor(Settings(_env_file=None)).name == "lexicon"


# --------------------------------------------------------------------------- govbot extract


def test_cli_prints_the_design_json_from_the_llm(cli, monkeypatch, stub):
    llm_env(monkeypatch, stub)
    stub.script(Reply(good_reply()))
    code, data, err = cli("-", stdin=PARAGRAPH)
    assert (code, err, data["extractor"], data["ask"], data["dropped"], data["fallback_reason"]) == (
        0,
        "",
        "llm",
        STILL_TO_ASK,
        [],
        None,
    )


def test_cli_lists_the_dropped_answer_among_those_to_ask(cli, monkeypatch, stub):
    llm_env(monkeypatch, stub)
    stub.script(Reply(good_reply(department=("Finance", "the finance team"))))
    _code, data, _err = cli("-", stdin=PARAGRAPH)
    assert (data["dropped"], data["ask"][:2]) == (["department"], ["department", "owner"])


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply("not json at all"), NOT_JSON),
        (Reply(status=500), "LLM HTTP 500 (OpenAIAPIError)"),
        (Reply(good_reply(), sleep=2.0), "LLM timed out (OpenAITimeoutError)"),
    ],
    ids=["garbage", "http-500", "timeout"],
)
def test_cli_falls_back_to_the_lexicon_and_says_why(cli, monkeypatch, stub, reply, reason):
    llm_env(monkeypatch, stub)
    stub.script(reply)
    _code, data, _err = cli("-", stdin=PARAGRAPH)
    assert (data["extractor"], data["fallback_reason"], data["answers"]["data"]) == (
        "lexicon",
        reason,
        ["customer", "financial"],
    )


def test_cli_without_an_llm_uses_the_lexicon(cli, tmp_path):
    (tmp_path / "idea.txt").write_text(PARAGRAPH, encoding="utf-8")
    code, data, _err = cli(str(tmp_path / "idea.txt"))
    assert (code, data["extractor"], data["answers"]["description"], data["fallback_reason"]) == (
        0,
        "lexicon",
        PARAGRAPH,
        None,
    )


def test_cli_refuses_an_empty_paragraph_naming_it(cli):
    code, data, err = cli("-", stdin="  \n")
    assert (code, data, err) == (
        2,
        None,
        "govbot extract: paragraph: is empty; describe the workflow in a few sentences\n",
    )


def test_cli_names_a_file_it_cannot_read(cli, tmp_path):
    code, _data, err = cli(str(tmp_path / "missing.txt"))
    assert (code, err) == (2, f"govbot extract: {tmp_path / 'missing.txt'}: cannot read (No such file or directory)\n")
