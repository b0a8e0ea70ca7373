"""Proposal validation and normalisation (bot.domain)."""

from __future__ import annotations

import pytest

from bot.domain.proposal import (
    FIELDS,
    TITLE_MAX,
    ProposalInvalid,
    check_field,
    is_blank,
    normalise,
    validate_proposal,
)


def errors_of(raw) -> dict[str, str]:
    with pytest.raises(ProposalInvalid) as info:
        validate_proposal(raw)
    return {e.key: e.message for e in info.value.errors}


@pytest.mark.parametrize("raw, kind", [([], "a list"), ("text", "a string"), (3, "a number"), (None, "null")])
def test_not_an_object_is_refused_naming_the_proposal(raw, kind):
    errs = errors_of(raw)
    assert list(errs) == ["proposal"]
    assert "JSON object" in errs["proposal"] and kind in errs["proposal"]


def test_unknown_key_names_the_key_and_lists_the_allowed_keys():
    errs = errors_of({"title": "x", "colour": "red"})
    assert list(errs) == ["colour"]
    assert "unknown key" in errs["colour"] and "value_metric" in errs["colour"]


@pytest.mark.parametrize(
    "key, value, allowed_example",
    [
        ("audience", "everyone", "customer"),
        ("review", "sometimes", "spot_check"),
        ("autonomy", "full", "human_monitors"),
        ("stack", "infra", "data_security"),
        ("capacity", "big", "keep_the_lights_on"),
        ("use_area", "medicine", "essential_services"),
        ("ai_act_role", "user", "deployer"),
    ],
)
def test_unknown_enum_value_names_key_value_and_choices(key, value, allowed_example):
    errs = errors_of({"title": "x", key: value})
    assert list(errs) == [key]
    assert repr(value) in errs[key] and allowed_example in errs[key]


@pytest.mark.parametrize(
    "key, value",
    [("data", ["customer", "gossip"]), ("actions", ["summarize", "hack"]), ("prohibited_practices", ["mind_reading"])],
)
def test_unknown_list_value_is_named(key, value):
    errs = errors_of({"title": "x", key: value})
    assert repr(value[-1]) in errs[key]


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("title", 5, "must be a string, not a number"),
        ("owner", ["U1"], "must be a string, not a list"),
        ("failure_visible", "yes", "must be true or false, not a string"),
        ("interacts_with_people", 1, "must be true or false, not a number"),
        ("data", "customer", "must be a list"),
        ("audience", {"x": 1}, "not an object"),
    ],
)
def test_wrong_type_says_what_is_expected(key, value, expected):
    errs = errors_of({"title": "ok", key: value} if key != "title" else {"title": value})
    assert expected in errs[key]


def test_title_too_long_gives_length_and_limit():
    errs = errors_of({"title": "x" * (TITLE_MAX + 1)})
    assert errs["title"] == f"is {TITLE_MAX + 1} characters; at most {TITLE_MAX} allowed"
    assert validate_proposal({"title": "x" * TITLE_MAX})["title"] == "x" * TITLE_MAX


@pytest.mark.parametrize("raw", [{}, {"title": "   "}, {"title": None}, {"description": "no title"}])
def test_title_is_required_and_must_not_be_blank(raw):
    assert "title" in errors_of(raw)


def test_every_problem_is_reported_at_once():
    errs = errors_of({"title": "", "audience": "all", "data": ["x"], "bogus": 1})
    assert set(errs) == {"title", "audience", "data", "bogus"}


def test_blank_strings_become_none_and_unanswered_regulatory_keys_stay_none():
    clean = validate_proposal(
        {
            "title": "  Summariser  ",
            "owner": "   ",
            "value_metric": None,
            "description": "\t\n",
            "data": [],
            "use_area": None,
        }
    )
    assert clean["title"] == "Summariser"
    assert clean["owner"] is None and clean["value_metric"] is None and clean["description"] is None
    assert clean["data"] == [] and clean["actions"] == []
    assert clean["use_area"] is None and clean["ai_act_role"] is None  # unanswered: defaults apply when classifying
    assert clean["interacts_with_people"] is None and clean["prohibited_practices"] is None
    assert clean["failure_visible"] is None  # no default: unanswered stays unanswered
    assert set(clean) == set(FIELDS)


def test_lists_are_sorted_and_deduplicated():
    clean = validate_proposal(
        {"title": "t", "data": ["financial", "customer", "financial"], "actions": ["draft", "change_billing", "draft"]}
    )
    assert clean["data"] == ["customer", "financial"]
    assert clean["actions"] == ["change_billing", "draft"]


def test_free_text_is_stripped_and_nul_refused():
    assert validate_proposal({"title": "t", "description": "  hello  "})["description"] == "hello"
    assert "NUL" in errors_of({"title": "t", "description": "a\x00b"})["description"]


def test_normalise_is_idempotent():
    once = validate_proposal({"title": "t", "data": ["customer"], "review": "none", "failure_visible": False})
    assert normalise(dict(once)) == once


@pytest.mark.parametrize(
    "value, blank",
    [(None, True), ("", True), ("  \n", True), ([], True), ("x", False), (False, False), (0, False), (["a"], False)],
)
def test_is_blank(value, blank):
    assert is_blank(value) is blank


def test_check_field_validates_one_answer():
    assert check_field("review", "none") == ("none", None)
    value, err = check_field("review", "never")
    assert value is None and err is not None and err.key == "review"
    assert str(err).startswith("review: unknown value 'never'")
