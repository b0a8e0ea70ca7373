"""Structured value: reading baseline, target and unit from a metric sentence, numbers
as typed, and how a check-in stands against the target."""

from __future__ import annotations

import pytest

from bot.domain.errors import ProposalInvalid
from bot.domain.proposal import validate_proposal
from bot.domain.value import MetricReading, meets_target, parse_number, read_metric, standing_line, trend
from tests.support.metric_eval import score
from tests.support.proposals import make_proposal


@pytest.mark.parametrize(
    ("sentence", "reading"),
    [
        ("from 12 to 6 minutes", MetricReading(12, 6, "minutes")),
        ("raise CSAT from 4.1 to 4.5", MetricReading(4.1, 4.5, None)),
        ("under 2 hours, today 5", MetricReading(5, 2, "hours")),
        ("cut handling time by 30% from 10 minutes", MetricReading(10, 7, "minutes")),
        ("it feels faster", MetricReading(None, None, None)),
    ],
)
def test_the_sentences_of_the_issue_are_read(sentence, reading):
    assert read_metric(sentence) == reading


def test_the_labelled_sentences_are_read_with_high_precision_and_recall():
    result = score()
    assert (result.precision >= 0.95, result.recall >= 0.9, result.cases >= 30) == (True, True, True), result.wrong


@pytest.mark.parametrize(
    ("typed", "number"),
    [("11", 11.0), (" 4.5 ", 4.5), ("1,200", 1200.0), ("30%", 30.0), ("$4.50", 4.5), ("-3", -3.0)],
)
def test_numbers_as_people_type_them(typed, number):
    assert parse_number(typed) == number


@pytest.mark.parametrize("typed", ["it feels faster", "12-15", "7 min per ticket", "", "nan", "inf", True, None])
def test_what_is_no_number(typed):
    assert parse_number(typed) is None


@pytest.mark.parametrize(
    ("value", "baseline", "target", "met"),
    [(6, 12, 6, True), (5.5, 12, 6, True), (11, 12, 6, False), (4.5, 4.1, 4.5, True), (4.4, 4.1, 4.5, False)],
)
def test_a_check_in_meets_the_target_at_or_beyond_it_in_the_direction_from_the_baseline(value, baseline, target, met):
    assert meets_target(value, baseline, target) is met


def test_without_a_direction_nothing_meets_the_target():
    assert (meets_target(6, None, 6), meets_target(6, 6, 6)) == (False, False)


@pytest.mark.parametrize(
    ("latest", "previous", "expected"),
    [(9, 11, "improving"), (11, 9, "worsening"), (9, 9, "flat"), (10, None, "improving"), (13, None, "worsening")],
)
def test_the_trend_is_the_move_towards_the_target(latest, previous, expected):
    assert trend(latest, previous, 12, 6) == expected


def test_the_standing_reads_as_a_sentence():
    line = standing_line(
        {"latest": 11, "baseline": 12, "target": 6, "unit": "minutes", "meets_target": False, "trend": "improving"}
    )
    assert line == "11 minutes against target 6 minutes (from 12 minutes): improving"


def test_a_proposal_takes_its_numbers_from_the_metric_unless_given():
    read = validate_proposal(make_proposal(value_metric="Handling time from 12 to 6 minutes per ticket"))
    given = validate_proposal(make_proposal(value_metric="from 12 to 6 minutes", value_target=5))
    assert (read["value_baseline"], read["value_target"], read["value_unit"]) == (12, 6, "minutes per ticket")
    assert (given["value_baseline"], given["value_target"]) == (12, 5)


def test_a_baseline_that_is_no_number_is_refused_naming_the_field():
    with pytest.raises(ProposalInvalid) as err:
        validate_proposal(make_proposal(value_baseline="about twelve"))
    assert [str(e) for e in err.value.errors] == [
        "value_baseline: must be a number in the metric's unit (e.g. 12 or 4.5), not 'about twelve'"
    ]


def test_the_follow_up_asks_for_the_numbers_a_metric_does_not_give():
    from bot.domain.interview import followup_page, parse_answer

    answers = make_proposal(value_metric="Fewer escalations to the second line in 2 teams")
    page = followup_page(answers)
    assert [q.key for q in page.questions] == ["value_baseline", "value_target"]
    target = page.questions[1]
    assert (parse_answer(target, "4.5"), parse_answer(target, "six")) == (
        (4.5, None),
        (None, "value_target: must be a number in the metric's unit (e.g. 12 or 4.5), not 'six'"),
    )


def test_the_paragraph_summary_shows_the_numbers_read_from_the_metric_to_confirm():
    from bot.domain.extraction import Extraction
    from bot.domain.intake import start, summary_page
    from bot.domain.policy_file import load_policy

    policy = load_policy()
    extraction = Extraction(
        "llm",
        {"title": "Ticket drafts", "description": "x", "value_metric": "Handling time from 12 to 6 minutes"},
        {"title": "Ticket drafts", "value_metric": "from 12 to 6 minutes"},
    )
    answers = start(extraction, policy)
    page = summary_page(answers, policy)
    shown = {q.key: q.help for q in page.questions}
    assert (answers["value_baseline"], answers["value_target"], answers["value_unit"]) == (12, 6, "minutes")
    assert shown["value_target"] == "From your words: “from 12 to 6 minutes”"
