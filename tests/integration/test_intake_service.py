"""Intake in one paragraph through the core, on the real store: the words are kept
before reading, each extraction is stored and settled with the answers the requester
changed, a failing extractor costs nothing, and `edit` opens the summary."""

from __future__ import annotations

import pytest

from bot.app import build_core
from bot.domain import intake
from bot.domain.interview import to_proposal
from tests.support.intake_data import GOOD, PARAGRAPH, STILL_TO_ASK, good_reply
from tests.support.openai_stub import OpenAIStub, Reply, llm_settings


@pytest.fixture
def stub():
    with OpenAIStub() as server:
        yield server


@pytest.fixture
def llm_core(database_url, clock, stub):
    settings = llm_settings(stub.base_url, database_url)
    return build_core(settings, clock=clock)


def extraction_rows(core):
    """Every stored extraction, oldest first."""
    from bot.domain.errors import NotFound

    rows = []
    with core.uow() as uow:
        while True:
            try:
                rows.append(uow.extractions.get(len(rows) + 1))
            except NotFound:
                return rows


def finish(answers: dict) -> dict:
    """What a requester answers to the questions still asked after a good reading."""
    return {**answers, "owner": "U_OWN", "capacity": "incremental", "stack": "automation", "use_area": "none"}


def test_the_words_are_the_draft_before_anything_is_read(core):
    reply = core.handle_command("U_REQ", "slack", "propose " + PARAGRAPH)
    draft = core.load_draft("slack", "U_REQ")
    assert (reply.interview.paragraph, draft["answers"]["description"]) == (PARAGRAPH, PARAGRAPH)


def test_a_few_words_after_propose_are_still_a_title(core):
    reply = core.handle_command("U_REQ", "slack", "propose Refund assistant")
    assert (reply.interview.paragraph, reply.interview.seed["title"]) == (None, "Refund assistant")


def test_propose_alone_starts_with_describe_it_in_your_own_words(core):
    assert core.handle_command("U_REQ", "slack", "propose").interview.describe is True


def test_an_empty_paragraph_is_refused_naming_it(core):
    with pytest.raises(Exception, match="^paragraph: is empty"):
        core.read_paragraph("U_REQ", "slack", "   ")


def test_a_good_reading_opens_the_summary_with_only_what_is_still_to_ask(llm_core, stub):
    stub.script(Reply(good_reply()))
    start = llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH)
    step = llm_core.interview_flow().start(start.seed)
    _prefilled, asked = intake.split(step.page, start.seed)
    assert (step.page.id, [q.key for q in asked]) == ("summary", STILL_TO_ASK)


def test_each_extraction_is_stored_with_model_prompt_tokens_and_what_it_prefilled(llm_core, stub):
    stub.script(Reply(good_reply(), prompt_tokens=900, completion_tokens=300))
    llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH)
    (row,) = extraction_rows(llm_core)
    assert (row.extractor, row.model, row.prompt_name, row.prompt_version, row.tokens_in, row.tokens_out) == (
        "llm",
        "stub-model",
        "extract",
        "1",
        900,
        300,
    )
    assert (sorted(row.prefilled), row.asked, row.fallback_reason) == (sorted(GOOD), STILL_TO_ASK, None)


def test_the_draft_holds_the_summary_and_the_extraction_id(llm_core, stub):
    stub.script(Reply(good_reply()))
    llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH)
    draft = llm_core.load_draft("slack", "U_REQ")
    assert (draft["step"], intake.state(draft["answers"])["id"], draft["answers"]["description"]) == (
        "summary",
        1,
        PARAGRAPH,
    )


def test_submitting_records_which_prefilled_answers_the_requester_changed(llm_core, stub):
    stub.script(Reply(good_reply()))
    answers = llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH).seed
    corrected = finish({**answers, "department": "Customer care", "review": "spot_check"})
    result = llm_core.submit("U_REQ", "slack", to_proposal(corrected))
    (row,) = extraction_rows(llm_core)
    assert (row.proposal_id, row.changed) == (result.proposal_id, ["department", "review"])


def test_the_stats_report_questions_answered_and_the_correction_rate(llm_core, stub):
    stub.script(Reply(good_reply()))
    answers = llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH).seed
    llm_core.submit("U_REQ", "slack", to_proposal(finish({**answers, "department": "Customer care"})))
    stats = llm_core.intake_stats()["llm"]
    assert (stats["settled"], stats["answered_mean"], stats["correction_rate"]) == (1, 6.0, round(1 / 18, 3))


def test_the_portfolio_reports_the_same_intake_figures(llm_core, stub):
    stub.script(Reply(good_reply()))
    answers = llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH).seed
    llm_core.submit("U_REQ", "slack", to_proposal(finish({**answers, "department": "Customer care"})))
    (section,) = [s for s in llm_core.portfolio().sections if s.title == "Intake in one paragraph"]
    assert (llm_core.portfolio_data()["intake"], section.fields) == (
        llm_core.intake_stats(),
        (("llm reading", "1 paragraph, 1 submitted; questions answered 6.0; corrected 6%"),),
    )


def test_a_timeout_continues_as_the_plain_interview_with_what_the_lexicon_found(llm_core, stub):
    stub.script(Reply(good_reply(), sleep=2.0))
    start = llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH)
    step = llm_core.interview_flow().start(start.seed)
    assert (step.page.id, start.seed["actions"], intake.note(start.seed) is not None) == (
        "basics",
        ["change_billing", "send_external"],
        True,
    )


def test_a_failing_extractor_costs_the_requester_nothing(core):
    class Broken:
        name = "llm"

        def extract(self, paragraph, policy):
            raise RuntimeError("boom")

    core.extractor = Broken()
    start = core.read_paragraph("U_REQ", "slack", PARAGRAPH)
    (row,) = extraction_rows(core)
    assert (start.seed["description"], row.extractor, row.fallback_reason) == (
        PARAGRAPH,
        "lexicon",
        "the extractor failed (RuntimeError)",
    )


def test_edit_opens_the_summary_of_the_current_answers(core):
    pid = core.submit("U_REQ", "slack", {"title": "Ticket summaries", "description": "Summarises tickets."}).proposal_id
    with core.uow() as uow:
        row = uow.proposals.get(pid)
        row.stage = "changes_requested"
        uow.proposals.update(row)
        uow.commit()
    seed = core.edit_seed("U_REQ", pid).seed
    step = core.interview_flow().start(seed)
    prefilled, asked = intake.split(step.page, seed)
    assert (step.page.id, [q.key for q in prefilled][:2], "owner" in [q.key for q in asked]) == (
        "summary",
        ["title", "description"],
        True,
    )


def test_an_llm_that_reads_the_refund_away_cannot_lower_the_risk(llm_core, stub):
    stub.script(Reply(good_reply(actions=(["draft"], "drafts a reply"), data=(["public"], "delivery"))))
    answers = llm_core.read_paragraph("U_REQ", "slack", PARAGRAPH).seed
    result = llm_core.submit("U_REQ", "slack", to_proposal(finish(answers)))
    assert (answers["actions"], result.classification["risk_level"]) == (
        ["change_billing", "draft", "send_external"],
        "high",
    )
