"""Property tests on the proposal parsers: `validate_proposal`, the classifier on what it
lets through, `govbot classify` on arbitrary bytes, and the interview's `parse_page`.

Malformed, oversized and odd-unicode input gets a clear error naming the key, never an
exception of another kind; free text never lowers a risk level.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.domain import proposal
from bot.domain.classifier import classify
from bot.domain.errors import ProposalInvalid
from bot.domain.interview import pages, parse_page
from bot.domain.policy_file import load_policy
from bot.domain.proposal import validate_proposal
from bot.domain.questions import Page
from tests.support.strategies import BIG, JSONISH, ODD

POLICY = load_policy()
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


ENUMS: dict[str, tuple[str, ...]] = {
    "data": proposal.DATA,
    "actions": proposal.ACTIONS,
    "audience": proposal.AUDIENCE,
    "review": proposal.REVIEW,
    "autonomy": proposal.AUTONOMY,
    "stack": proposal.STACK,
    "capacity": proposal.CAPACITY,
}
KEYS = (
    "title",
    "department",
    "description",
    "current_process",
    "expected_output",
    "data",
    "actions",
    "audience",
    "owner",
    "review",
    "autonomy",
    "exception_path",
    "escalation_path",
    "control_points",
    "rollback_path",
    "value_metric",
    "failure_visible",
    "stack",
    "capacity",
    "use_area",
    "interacts_with_people",
    "generates_content",
    "profiles_people",
    "narrow_procedural_task",
    "prohibited_practices",
    "ai_act_role",
)
FREE_TEXT = ("title", "description", "current_process", "expected_output")


def _value(key: str) -> st.SearchStrategy[Any]:
    good: st.SearchStrategy[Any] = ODD
    if key in ("data", "actions"):
        good = st.lists(st.sampled_from(ENUMS[key]), max_size=4)
    elif key in ENUMS:
        good = st.sampled_from(ENUMS[key])
    elif key in (
        "failure_visible",
        "interacts_with_people",
        "generates_content",
        "profiles_people",
        "narrow_procedural_task",
    ):
        good = st.booleans()
    return good | good | JSONISH | BIG


proposals = st.fixed_dictionaries({}, optional={k: _value(k) for k in KEYS}).flatmap(
    lambda d: st.dictionaries(ODD, JSONISH, max_size=2).map(lambda extra: {**extra, **d})
)
RANK = {"low": 0, "medium": 1, "high": 2}


@pytest.mark.slow
@FUZZ
@given(proposals)
def test_validate_proposal_accepts_or_names_every_bad_key(raw):
    try:
        answers = validate_proposal(raw)
    except ProposalInvalid as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.key in {*map(str, raw), *KEYS}, error  # names a key it was given, or a known one
            assert error.message.strip() and "Traceback" not in error.message
        return
    assert isinstance(answers["title"], str) and answers["title"].strip()
    result = classify(answers, POLICY)
    assert result["risk_level"] in RANK
    assert result["stop_conditions"] == sorted(result["stop_conditions"])
    assert result["approver_roles"] == sorted(result["approver_roles"])
    assert "owner" in result["approver_roles"]
    # free text only ever adds effective data/actions: blanking it never raises the risk
    plain = {**answers, **{k: ("x" if k == "title" else "") for k in FREE_TEXT}}
    assert RANK[result["risk_level"]] >= RANK[classify(plain, POLICY)["risk_level"]]


@pytest.mark.slow
@FUZZ
@given(
    st.one_of(
        JSONISH.map(json.dumps),
        proposals.map(lambda p: json.dumps(p, allow_nan=True)),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        ODD,
    )
)
def test_govbot_classify_exits_0_on_a_valid_proposal_else_2_naming_every_problem(body):
    problems: list[str] = []
    try:
        answers = validate_proposal(json.loads(body))
    except json.JSONDecodeError:
        problems = ["proposal: not valid JSON"]
    except ProposalInvalid as exc:
        problems = [str(e) for e in exc.errors]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["classify", "-"], out=out, stdin=io.StringIO(body))
    if not problems:
        assert (code, err.getvalue()) == (0, "")
        assert json.loads(out.getvalue()) == json.loads(json.dumps(classify(answers, POLICY), default=str))
    else:
        assert (code, out.getvalue()) == (2, "")
        assert "Traceback" not in err.getvalue()
        for problem in problems:
            assert problem in err.getvalue()


PAGES = pages()


@FUZZ
@given(
    st.sampled_from(PAGES).flatmap(
        lambda page: st.tuples(
            st.just(page), st.fixed_dictionaries({}, optional={k: JSONISH | BIG for k in Page.keys(page)})
        )
    )
)  # noqa: SIM118
def test_parse_page_returns_answers_or_errors_for_the_pages_own_keys(case):
    page, raw = case
    clean, errors = parse_page(page, raw)
    # every key given is either kept or has an error; a missing title (the one required key) has one
    assert set(clean) | set(errors) == set(raw) | ({"title"} & set(page.keys()))
    assert not set(clean) & set(errors)
    assert all(isinstance(msg, str) and msg.strip() for msg in errors.values())
