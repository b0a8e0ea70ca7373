"""The summary to confirm, as the interview stepper walks it: pre-filled answers first,
then only what is blank, weak or contradictory, in interview order; corrections that
make new questions relevant bring a further summary; edits open the same summary."""

from __future__ import annotations

from bot.domain import intake
from bot.domain.extraction import from_reply, reply_object
from bot.domain.intake import IntakeFlow
from bot.domain.interview import to_proposal
from bot.domain.policy_file import load_policy
from tests.support.intake_data import PARAGRAPH, STILL_TO_ASK, good_reply

POLICY = load_policy()
FLOW = IntakeFlow(POLICY)


def summary_after(reply: str) -> tuple[dict, list[str], list[str]]:
    answers = intake.start(from_reply(reply_object(reply), PARAGRAPH, POLICY), POLICY)
    prefilled, asked = intake.split(FLOW.start(answers).page, answers)
    return answers, [q.key for q in prefilled], [q.key for q in asked]


def test_the_flow_starts_with_the_summary_after_a_reading():
    answers, _, _ = summary_after(good_reply())
    step = FLOW.start(answers)
    assert (step.page.id, step.position, step.last) == ("summary", None, True)


def test_the_summary_lists_the_title_and_description_first_then_interview_order():
    _, prefilled, _ = summary_after(good_reply())
    assert prefilled[:5] == ["title", "description", "department", "current_process", "expected_output"]


def test_the_summary_asks_only_what_the_paragraph_does_not_say():
    assert summary_after(good_reply())[2] == STILL_TO_ASK


def test_a_weak_answer_is_asked_again_with_why():
    answers, _, asked = summary_after(good_reply(rollback_path=("tbd", "To roll back")))
    why = intake.state(answers)["why"]["rollback_path"]
    assert ("rollback_path" in asked, why) == (
        True,
        "Your answer is a placeholder (like n/a, tbd, none or ?), not an answer.",
    )


def test_answers_that_contradict_each_other_are_both_asked():
    reply = good_reply(autonomy=("autonomous", "acts only after the agent approves"))
    _, _, asked = summary_after(reply)
    assert [k for k in asked if k in ("review", "autonomy")] == ["review", "autonomy"]


def test_the_help_of_a_prefilled_question_is_the_words_it_came_from():
    answers, _, _ = summary_after(good_reply())
    page = FLOW.start(answers).page
    assert (
        next(q.help for q in page.questions if q.key == "review") == "From your words: “An agent checks every output”"
    )


def test_the_summary_page_is_shown_again_the_same_from_the_answers():
    answers, _, _ = summary_after(good_reply())
    assert FLOW.show("summary", answers).page == FLOW.start(answers).page


def test_confirming_the_summary_submits_when_nothing_new_became_relevant():
    answers, _, _ = summary_after(good_reply())
    answers.update({"owner": "U1", "capacity": "incremental", "stack": "automation", "use_area": "none"})
    assert FLOW.after("summary", answers) is None


def test_a_correction_that_makes_new_questions_relevant_brings_a_further_summary():
    answers, _, _ = summary_after(good_reply())
    answers.update({"owner": "U1", "capacity": "incremental", "stack": "automation", "use_area": "employment"})
    nxt = FLOW.after("summary", answers)
    assert [q.key for q in nxt.page.questions] == ["narrow_procedural_task", "prohibited_practices"]


def test_the_intake_state_never_reaches_the_proposal():
    answers, _, _ = summary_after(good_reply())
    assert intake.META not in to_proposal(answers)


def test_an_edit_opens_the_summary_with_every_current_answer():
    current = to_proposal({"title": "Ticket summaries", "description": "Summarises tickets.", "owner": "U1"})
    answers = intake.edit(current, POLICY)
    prefilled, _asked = intake.split(FLOW.start(answers).page, answers)
    assert [q.key for q in prefilled][:3] == ["title", "description", "owner"]


def test_an_edit_asks_what_is_blank():
    current = to_proposal({"title": "Ticket summaries", "description": "Summarises tickets.", "owner": "U1"})
    answers = intake.edit(current, POLICY)
    _prefilled, asked = intake.split(FLOW.start(answers).page, answers)
    assert [q.key for q in asked][:3] == ["department", "current_process", "expected_output"]


def test_a_short_text_after_propose_is_a_title_not_a_paragraph():
    assert (intake.is_paragraph("Refund assistant"), intake.is_paragraph(PARAGRAPH)) == (False, True)
