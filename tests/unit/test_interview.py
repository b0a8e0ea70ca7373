"""The platform-neutral interview: pages, progressive disclosure, validation, follow-ups."""

from __future__ import annotations

import pytest

from bot.domain import interview, proposal, questions


def keys_of(answers: dict) -> dict[str, list[str]]:
    return {p.id: [q.key for q in p.questions] for p in interview.pages(answers)}


# --------------------------------------------------------------------------- pages


def test_base_pages_ask_every_core_key_once():
    asked = [k for ks in keys_of({}).values() for k in ks]
    core_keys = [
        k
        for k in proposal.FIELDS
        if k
        not in dict.fromkeys(
            (
                "use_area",
                "interacts_with_people",
                "generates_content",
                "profiles_people",
                "narrow_procedural_task",
                "prohibited_practices",
                "ai_act_role",
                # read from the value metric; asked in the follow-up only when it gives no numbers
                "value_baseline",
                "value_target",
                "value_unit",
            )
        )
    ]
    assert sorted(asked) == sorted(core_keys)
    assert len(asked) == len(set(asked))


def test_page_order_and_contents_match_the_brief():
    pages = keys_of({})
    assert list(pages) == ["basics", "data_actions", "controls"]
    assert pages["basics"] == [
        "title",
        "department",
        "description",
        "current_process",
        "expected_output",
        "owner",
        "value_metric",
        "capacity",
        "stack",
    ]
    assert pages["data_actions"] == [
        "data",
        "actions",
        "audience",
        "review",
        "autonomy",
        "failure_visible",
        "vendor",
        "model",
    ]
    assert pages["controls"] == ["exception_path", "escalation_path", "control_points", "rollback_path", "downstream"]
    owner = interview.get_page("basics", {}).questions[5]
    assert owner.kind == "user"


def test_internal_low_risk_answers_get_no_regulatory_questions():
    answers = {"audience": "internal", "data": ["internal", "public"], "actions": ["summarize", "draft"]}
    assert "regulatory" not in keys_of(answers)
    assert interview.next_page("controls", answers) is None


@pytest.mark.parametrize("audience", ["customer", "public"])
def test_people_facing_audience_asks_about_interaction_and_content(audience):
    pages = keys_of({"audience": audience, "data": ["internal"], "actions": ["draft"]})
    assert pages["regulatory"] == ["interacts_with_people", "generates_content", "ai_act_role"]
    assert "regulatory_detail" not in pages


@pytest.mark.parametrize("audience", ["internal", "team"])
def test_internal_audience_does_not_ask_about_interaction(audience):
    pages = keys_of({"audience": audience, "data": ["employee"], "actions": ["draft"]})
    assert "interacts_with_people" not in pages["regulatory"]
    assert "generates_content" not in pages["regulatory"]


@pytest.mark.parametrize("data", [["employee"], ["customer"], ["regulated"], ["public", "customer"]])
def test_personal_data_asks_use_area_and_profiling(data):
    pages = keys_of({"audience": "internal", "data": data, "actions": ["summarize"]})
    assert pages["regulatory"] == ["use_area", "profiles_people", "ai_act_role"]


@pytest.mark.parametrize("action", ["classify_route", "recommend"])
def test_profiling_like_actions_ask_use_area_and_prohibited_practices(action):
    answers = {"audience": "internal", "data": ["internal"], "actions": [action]}
    pages = keys_of(answers)
    assert pages["regulatory"] == ["use_area", "profiles_people", "ai_act_role"]
    # profiling-like actions: banned practices asked even with use_area none
    assert pages["regulatory_detail"] == ["prohibited_practices"]


def test_use_area_none_without_profiling_skips_the_details():
    answers = {
        "audience": "internal",
        "data": ["employee"],
        "actions": ["summarize"],
        "use_area": "none",
        "profiles_people": False,
    }
    assert "regulatory_detail" not in keys_of(answers)
    assert interview.next_page("regulatory", answers) is None


def test_use_area_set_asks_narrow_task_and_prohibited_practices():
    answers = {"data": ["employee"], "use_area": "employment"}
    page = interview.next_page("regulatory", answers)
    assert page is not None and page.id == "regulatory_detail"
    assert [q.key for q in page.questions] == ["narrow_procedural_task", "prohibited_practices"]


def test_safety_component_skips_narrow_task_exception():
    answers = {"data": ["customer"], "use_area": "safety_component"}
    assert keys_of(answers)["regulatory_detail"] == ["prohibited_practices"]


def test_profiles_people_yes_asks_prohibited_practices():
    answers = {"data": ["customer"], "actions": ["analyze"], "use_area": "none", "profiles_people": True}
    assert keys_of(answers)["regulatory_detail"] == ["prohibited_practices"]


def test_existing_regulatory_answers_stay_visible_when_editing():
    # e.g. an imported proposal or an edit: a non-default answer is never hidden
    answers = {"audience": "internal", "data": ["internal"], "actions": ["draft"], "generates_content": True}
    assert keys_of(answers)["regulatory"] == ["interacts_with_people", "generates_content", "ai_act_role"]


def test_next_page_walks_the_sequence_and_get_page_rejects_unknown_ids():
    answers = {"audience": "customer", "data": ["customer"], "use_area": "essential_services"}
    seen = []
    page: questions.Page | None = interview.first_page(answers)
    while page is not None:
        seen.append(page.id)
        page = interview.next_page(page.id, answers)
    assert seen == ["basics", "data_actions", "controls", "regulatory", "regulatory_detail"]
    with pytest.raises(KeyError, match="basics"):
        interview.get_page("nope", {})


def test_use_area_choices_have_plain_help_for_every_annex_iii_area():
    page = interview.get_page("regulatory", {"data": ["employee"]})
    use_area = next(q for q in page.questions if q.key == "use_area")
    assert [c.value for c in use_area.choices] == list(proposal.USE_AREA)
    for c in use_area.choices:
        assert c.help, c.value
        assert len(c.help) <= questions.CHOICE_HELP_MAX
    helps = interview.area_help()
    assert set(helps) == set(proposal.USE_AREA)


def test_area_and_practice_help_come_from_the_policy_when_it_has_them():
    # the shape of bot/policy.toml: [eu_ai_act.areas.<code>] help = "..."
    areas = {code: {"label": code, "help": f"Custom help for {code}."} for code in proposal.USE_AREA}
    practices = {code: {"help": f"Banned: {code}."} for code in proposal.PROHIBITED_PRACTICES}
    policy = {"risk": {"rules": []}, "eu_ai_act": {"areas": areas, "prohibited_practices": practices}}
    helps = interview.area_help(policy)
    assert helps["employment"] == "Custom help for employment."
    page = interview.get_page("regulatory", {"data": ["employee"]}, policy=policy)
    use_area = next(q for q in page.questions if q.key == "use_area")
    assert next(c for c in use_area.choices if c.value == "employment").help == "Custom help for employment."
    detail = interview.get_page("regulatory_detail", {"use_area": "employment"}, policy=policy)
    banned = next(q for q in detail.questions if q.key == "prohibited_practices")
    assert [c.help for c in banned.choices] == [f"Banned: {c}." for c in proposal.PROHIBITED_PRACTICES]
    # a policy without them falls back to the built-in texts
    assert interview.area_help({"risk": {}})["employment"] == interview._AREA_HELP["employment"]


# --------------------------------------------------------------------------- labels and limits


def all_questions():
    rich = {"audience": "customer", "data": ["customer"], "actions": ["recommend"], "use_area": "employment"}
    for page in interview.pages(rich):
        yield page, from_page(page)
    weak = interview.followup_page({})
    assert weak is not None
    yield weak, from_page(weak)


def from_page(page):
    return list(page.questions)


def test_every_enum_value_has_a_plain_label_that_is_not_the_code():
    for key, spec in proposal.FIELDS.items():
        for code in spec.choices:
            label = questions.label_of(key, code)
            assert label != code, (key, code)
            assert 0 < len(label) <= questions.OPTION_MAX, (key, code)
    assert questions.label_of("actions", "change_billing") == "Changes billing (refunds, credits, invoices, charges)"


def test_text_fits_slack_and_teams_limits():
    for page, asked in all_questions():
        assert len(page.title) <= questions.PAGE_TITLE_MAX, page.title
        # input + hint/context + a divider per question, a header and an intro: well under 100 blocks
        assert 2 + 3 * len(asked) <= 100
        for q in asked:
            assert q.kind in questions.KINDS
            assert q.key in proposal.FIELDS
            assert 0 < len(q.label) <= questions.LABEL_MAX, q.label
            assert 0 < len(q.prompt) <= 2000
            assert 0 < len(q.help) <= questions.HELP_MAX, (q.key, len(q.help))
            assert len(q.placeholder) <= questions.PLACEHOLDER_MAX
            for c in q.choices:
                assert 0 < len(c.label) <= questions.OPTION_MAX
                if q.kind in ("single", "multi"):
                    assert c.value in proposal.FIELDS[q.key].choices


def test_choice_questions_offer_exactly_the_enum_codes():
    for _page, asked in all_questions():
        for q in asked:
            if q.kind in ("single", "multi"):
                assert tuple(c.value for c in q.choices) == proposal.FIELDS[q.key].choices
            if q.kind == "yes_no":
                assert [c.value for c in q.choices] == ["true", "false"]


# --------------------------------------------------------------------------- parsing


def test_parse_page_cleans_platform_values():
    page = interview.get_page("data_actions", {})
    clean, errors = interview.parse_page(
        page,
        {
            "data": ["customer", "internal", "customer"],
            "actions": "draft,summarize",  # Teams multi-select ChoiceSet sends a comma string
            "audience": "customer",
            "review": "every_output",
            "autonomy": None,
            "failure_visible": "true",
            "not_on_this_page": "ignored",
        },
    )
    assert errors == {}
    assert clean == {
        "data": ["customer", "internal"],
        "actions": ["draft", "summarize"],
        "audience": "customer",
        "review": "every_output",
        "autonomy": None,
        "failure_visible": True,
    }


def test_parse_page_names_the_field_and_what_is_allowed():
    page = interview.get_page("data_actions", {})
    clean, errors = interview.parse_page(
        page, {"data": ["customers"], "audience": "everyone", "failure_visible": "maybe"}
    )
    assert errors == {
        "data": "data: unknown value 'customers'; allowed: public, internal, employee, customer, financial, security, "
        "source_code, regulated",
        "audience": "audience: unknown value 'everyone'; allowed: internal, team, customer, public",
        "failure_visible": "failure_visible: answer yes or no (true or false), not 'maybe'",
    }
    assert clean == {}


def test_parse_page_requires_a_title_and_checks_its_length():
    page = interview.get_page("basics", {})
    _, errors = interview.parse_page(page, {"department": "Support"})
    assert errors == {"title": "title: is required"}
    _, errors = interview.parse_page(page, {"title": "x" * 121})
    assert "at most 120" in errors["title"]
    clean, errors = interview.parse_page(
        page, {"title": "  Draft replies  ", "owner": "<@U123|ana>", "capacity": "Strategic change"}
    )
    assert errors == {}
    assert clean == {"title": "Draft replies", "owner": "U123", "capacity": "strategic"}
    _, errors = interview.parse_page(page, {"title": "Draft replies", "owner": "Omar and Bea"})
    assert errors == {"owner": "owner: give one person's user id (e.g. U123 or @U123), not 'Omar and Bea'"}


def test_parse_answer_accepts_labels_and_yes_no_words_but_not_nonsense():
    q = next(q for q in interview.get_page("data_actions", {}).questions if q.key == "review")
    assert interview.parse_answer(q, "A person checks every output") == ("every_output", None)
    assert interview.parse_answer(q, ["spot_check"]) == ("spot_check", None)
    value, err = interview.parse_answer(q, ["none", "spot_check"])
    assert value is None and err and err.startswith("review")
    yn = next(q for q in interview.get_page("data_actions", {}).questions if q.key == "failure_visible")
    assert interview.parse_answer(yn, "no") == (False, None)
    assert interview.parse_answer(yn, True) == (True, None)
    assert interview.parse_answer(yn, "") == (None, None)
    assert interview.parse_answer(yn, 3)[1] == "failure_visible: answer yes or no (true or false)"
    multi = next(q for q in interview.get_page("data_actions", {}).questions if q.key == "data")
    assert interview.parse_answer(multi, None) == ([], None)
    assert interview.parse_answer(multi, ["", "employee"]) == (["employee"], None)


# --------------------------------------------------------------------------- weak answers and follow-ups


@pytest.mark.parametrize("value", ["n/a", "N/A", "tbd", "TBD.", "none", "?", "-", "  ", None, "...", "idk"])
def test_placeholders_and_blanks_are_weak(value):
    assert interview.weak_reason("rollback_path", value)


@pytest.mark.parametrize(
    "key,value",
    [
        ("escalation_path", "ask Bob"),
        ("control_points", "QA"),
        ("value_metric", "time saved"),
        ("value_metric", "agents are happier with their tickets"),  # no number
    ],
)
def test_too_short_or_unmeasurable_answers_are_weak(key, value):
    assert interview.weak_reason(key, value)


@pytest.mark.parametrize(
    "key,value",
    [
        ("escalation_path", "Support lead on call, then #support-escalations"),
        ("rollback_path", "Disable the integration; agents answer manually"),
        ("value_metric", "Handling time from 12 to 6 minutes per ticket"),
        ("owner", "U123"),
    ],
)
def test_good_answers_are_not_weak(key, value):
    assert interview.weak_reason(key, value) is None


def test_owner_placeholder_is_weak():
    assert interview.weak_reason("owner", "tbd")
    assert interview.weak_reason("owner", None) == "is blank"


def test_followup_asks_again_for_blank_and_weak_answers_saying_why():
    answers = {
        "owner": None,
        "value_metric": "n/a",
        "exception_path": "Falls back to the normal queue untagged",
        "escalation_path": "Support lead on call, then #support-escalations",
        "control_points": "QA",
        "rollback_path": "Disable the integration; agents answer manually",
        "current_process": "Agents read and tag every ticket by hand",
        "expected_output": "A tag and a draft reply on each ticket",
    }
    page = interview.followup_page(answers)
    assert page is not None and page.id == "followup"
    by_key = {q.key: q for q in page.questions}
    assert list(by_key) == ["owner", "value_metric", "control_points"]
    assert "no_owner" in by_key["owner"].help
    assert by_key["owner"].kind == "user"
    assert "placeholder" in by_key["value_metric"].prompt
    assert "too short" in by_key["control_points"].prompt
    assert "You left this blank" in by_key["owner"].prompt
    # answers to the follow-up page parse like any other page
    clean, errors = interview.parse_page(page, {"owner": "U9", "value_metric": "Tickets per hour from 8 to 12"})
    assert errors == {} and clean["owner"] == "U9"
    assert (
        interview.followup_page({**answers, **clean, "control_points": "Agent approves every reply before sending"})
        is None
    )


def test_get_page_followup_matches_followup_page():
    assert interview.get_page("followup", {}).questions == interview.followup_page({}).questions  # type: ignore[union-attr]


# --------------------------------------------------------------------------- seed and proposal


def test_seed_from_command_text():
    assert interview.seed("/aiwf propose Summarise support tickets") == {
        "title": "Summarise support tickets",
        "description": "Summarise support tickets",
    }
    got = interview.seed("propose Draft refund replies. Agents check each one before sending.")
    assert got["title"] == "Draft refund replies"
    assert got["description"] == "Draft refund replies. Agents check each one before sending."
    assert interview.seed("propose") == {} and interview.seed("") == {} and interview.seed(None) == {}
    assert interview.seed("Proposed budget summary")["title"] == "Proposed budget summary"


def test_seed_title_is_cut_at_a_word_to_the_limit():
    text = "propose " + " ".join(["summarise"] * 40)
    got = interview.seed(text)
    assert got["title"] == " ".join(["summarise"] * 11) + "…"  # 110 characters, under TITLE_MAX (120)
    assert proposal.check_field("title", got["title"])[1] is None


def test_answering_nothing_new_still_gives_a_complete_valid_proposal():
    built = interview.to_proposal({"title": "Summarise tickets", "stray": "dropped"})
    assert set(built) == set(proposal.FIELDS)
    # regulatory questions nobody answered stay unanswered (DESIGN.md eu_ai_act.answered)
    assert [built[k] for k in proposal.REGULATORY_KEYS] == [None] * len(proposal.REGULATORY_KEYS)
    assert proposal.validate_proposal(built) == built


def test_a_whole_interview_by_pages_gives_a_valid_proposal():
    raw_by_page = {
        "basics": {
            "title": "Rank job applicants",
            "department": "HR",
            "owner": "U7",
            "value_metric": "Time to shortlist from 5 days to 2",
            "capacity": "incremental",
            "stack": "processes",
        },
        "data_actions": {
            "data": ["employee"],
            "actions": ["recommend"],
            "audience": "team",
            "review": "every_output",
            "autonomy": "draft_only",
            "failure_visible": "true",
        },
        "controls": {"rollback_path": "Recruiters shortlist by hand as today"},
        "regulatory": {"use_area": "employment", "profiles_people": "true", "ai_act_role": "deployer"},
        "regulatory_detail": {"narrow_procedural_task": "false", "prohibited_practices": []},
    }
    answers: dict = {}
    page: questions.Page | None = interview.first_page(answers)
    visited = []
    while page is not None:
        visited.append(page.id)
        clean, errors = interview.parse_page(page, raw_by_page[page.id])
        assert errors == {}
        answers.update(clean)
        page = interview.next_page(page.id, answers)
    assert visited == list(raw_by_page)
    built = proposal.validate_proposal(interview.to_proposal(answers))
    assert built["use_area"] == "employment" and built["profiles_people"] is True
    assert built["data"] == ["employee"]


def test_default_help_texts_come_from_the_policy_file():
    from bot.domain.policy_file import load_policy

    policy = load_policy()
    page = interview.get_page("regulatory", {"data": ["employee"], "audience": "internal"})
    use_area = next(q for q in page.questions if q.key == "use_area")
    texts = policy.use_area_help
    for c in use_area.choices:
        assert c.help == " ".join(texts[c.value].split())[: questions.CHOICE_HELP_MAX], c.value
    detail = interview.get_page("regulatory_detail", {"use_area": "employment"})
    banned = next(q for q in detail.questions if q.key == "prohibited_practices")
    assert all(c.help for c in banned.choices)


def test_what_the_free_text_describes_brings_the_questions_too():
    declared_only = {
        "title": "Summarise case notes",
        "data": ["internal"],
        "actions": ["summarize"],
        "audience": "internal",
    }
    assert "regulatory" not in keys_of(declared_only)
    described = {**declared_only, "description": "Summarises patient medical histories for the ward nurses."}
    assert interview.effective_sets(described) == ({"internal", "regulated"}, {"summarize"})
    assert keys_of(described)["regulatory"] == ["use_area", "profiles_people", "ai_act_role"]
