"""`assess <id>` chooses the regulatory questions that decide the EU AI Act tier and were
neither answered nor settled by the words (bot.domain.assessment)."""

from __future__ import annotations

import pytest

from bot.domain import assessment
from bot.domain.policy_file import load_policy
from tests.support.proposals import make_proposal

HIRING = "Ranks job applicants for the recruiter."


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def asked(answers, policy, given=None):
    return [(q.key, q.required) for q in assessment.choose(answers, policy, given).questions]


def test_a_plain_unanswered_proposal_is_asked_every_question_the_tier_reads_and_never_its_role(policy):
    assert asked(make_proposal(), policy) == [
        ("use_area", True),
        ("profiles_people", False),  # only with a use area
        ("narrow_procedural_task", False),
        ("prohibited_practices", False),  # nothing ticked is an answer: none of these
        ("interacts_with_people", True),
        ("generates_content", True),
    ]


def test_no_use_area_drops_the_questions_that_only_matter_with_one(policy):
    keys = [k for k, _ in asked(make_proposal(), policy, {"use_area": "none"})]
    assert keys == ["prohibited_practices", "interacts_with_people", "generates_content"]


def test_what_the_words_raised_is_not_asked_but_shown_with_its_words(policy):
    chosen = assessment.choose(make_proposal(description=HIRING), policy)
    assert (chosen.tier, chosen.asked_keys()) == ("high", ("prohibited_practices",))
    assert "Employment" in assessment.describe_raise(next(r for r in chosen.raised if r.key == "use_area"))
    assert "'Ranks job applicants'" in assessment.describe_raise(chosen.raised[0])


def test_a_prohibited_practice_leaves_nothing_that_could_change_the_tier(policy):
    chosen = assessment.choose(make_proposal(prohibited_practices=["social_scoring"]), policy)
    assert (chosen.tier, chosen.questions) == ("prohibited", ())


def test_answered_questions_are_not_asked_again(policy):
    answers = make_proposal(
        use_area="none", prohibited_practices=[], interacts_with_people=False, generates_content=True
    )
    assert asked(answers, policy) == []


def test_a_bad_answer_names_its_key_and_the_allowed_values(policy):
    chosen = assessment.choose(make_proposal(), policy)
    _, errors = assessment.parse(chosen, make_proposal(), policy, {"use_area": "hr", "interacts_with_people": "maybe"})
    assert [str(e) for e in errors] == [
        "use_area: unknown value 'hr'; allowed: none, biometrics, critical_infrastructure, education, "
        "employment, essential_services, law_enforcement, migration, justice_democracy, safety_component",
        "interacts_with_people: answer yes or no (true or false), not 'maybe'; allowed: true, false",
        "generates_content: is required; allowed: true, false",
    ]


def test_a_blank_answer_the_tier_still_depends_on_is_required(policy):
    chosen = assessment.choose(make_proposal(), policy)
    raw = {"use_area": "employment", "interacts_with_people": "false", "generates_content": "false"}
    _, errors = assessment.parse(chosen, make_proposal(), policy, raw)
    assert [e.key for e in errors] == ["profiles_people", "narrow_procedural_task"]


def test_a_complete_form_gives_clean_answers_and_no_tick_means_no_practice(policy):
    chosen = assessment.choose(make_proposal(), policy)
    raw = {"use_area": "none", "interacts_with_people": "true", "generates_content": "false"}
    clean, errors = assessment.parse(chosen, make_proposal(), policy, raw)
    assert (clean, errors) == (
        {"use_area": "none", "prohibited_practices": [], "interacts_with_people": True, "generates_content": False},
        [],
    )


def test_an_answer_to_a_question_not_asked_cannot_lower_what_the_words_raised(policy):
    answers = make_proposal(description=HIRING)
    chosen = assessment.choose(answers, policy)
    clean, _ = assessment.parse(chosen, answers, policy, {"use_area": "none", "prohibited_practices": []})
    assert (clean, assessment.choose({**answers, **clean}, policy).tier) == ({"prohibited_practices": []}, "high")
