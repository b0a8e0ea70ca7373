"""Adaptive Cards for Teams: schema 1.5 validity, input ids, choice values, limits."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from jsonschema import Draft6Validator

from bot.domain import interview, questions
from bot.domain.policy_file import load_policy
from bot.domain.proposal import FIELDS
from bot.messages.message import APPROVE, REJECT, REQUEST_CHANGES, Button, Message, Section
from handlers.teams import cards
from handlers.teams.actions import checkin_card, page_card

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "adaptive-card-1.5.json").read_text())
VALIDATOR = Draft6Validator(SCHEMA)
FLOW = interview.InterviewFlow(load_policy())


def assert_valid(card: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(card), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])
    assert card["version"] == "1.5"
    assert cards.card_size(card) <= cards.MAX_CARD_BYTES


def inputs(card: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}

    def walk(node):
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found[node["id"]] = node
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card.get("body", []))
    return found


APPROVAL = Message(
    kind="approval_request",
    text="Approval needed: #7 Refund bot (high risk)",
    sections=(Section("Proposal", "Issues refunds", (("Requester", "<@29:req>"), ("Stage", "in_review"))),),
    buttons=(
        Button(APPROVE, "Approve", "12", "primary"),
        Button(REJECT, "Reject", "12", "danger"),
        Button(REQUEST_CHANGES, "Request changes", "12"),
    ),
    meta={"proposal_id": 7, "request_id": 12},
)


def test_message_card_renders_sections_and_buttons_as_execute_with_submit_fallback():
    card = cards.message_card(APPROVAL)
    assert_valid(card)
    texts = json.dumps(card)
    assert "Approval needed: #7 Refund bot" in texts and "Issues refunds" in texts
    facts = [f for el in card["body"] if el["type"] == "FactSet" for f in el["facts"]]
    assert {"title": "Stage", "value": "in_review"} in facts
    verbs = [a["verb"] for a in card["actions"]]
    assert verbs == [APPROVE, REJECT, REQUEST_CHANGES]
    for action in card["actions"]:
        assert action["type"] == "Action.Execute"
        assert action["data"]["request_id"] == 12
        fallback = action["fallback"]
        assert fallback["type"] == "Action.Submit"
        assert fallback["data"]["verb"] == action["verb"] and fallback["data"]["request_id"] == 12
    assert card["actions"][0]["style"] == "positive" and card["actions"][1]["style"] == "destructive"


def test_mentions_are_readable_in_teams():
    card = cards.message_card(APPROVAL)
    assert "<@" not in json.dumps(card)
    assert "29:req" in json.dumps(card)


def test_approval_card_has_comment_input_and_refresh_for_deciders():
    card = cards.approval_card(APPROVAL, refresh_users=["29:approver", "29:gov", "29:approver", ""])
    assert_valid(card)
    assert card["refresh"]["userIds"] == ["29:approver", "29:gov"]
    assert card["refresh"]["action"] == {
        "type": "Action.Execute",
        "verb": cards.APPROVAL_REFRESH,
        "title": "Refresh",
        "data": {"request_id": 12},
    }
    assert cards.COMMENT_ID in inputs(card) and cards.OVERRIDE_ID not in inputs(card)
    with_override = cards.approval_card(
        APPROVAL, override=True, errors={cards.COMMENT_ID: "comment: required"}, values={cards.COMMENT_ID: "kept text"}
    )
    assert_valid(with_override)
    found = inputs(with_override)
    assert found[cards.COMMENT_ID]["errorMessage"] == "comment: required"
    assert found[cards.COMMENT_ID]["value"] == "kept text"
    assert cards.OVERRIDE_ID in found


def test_decided_card_has_no_inputs_or_buttons():
    decided = Message(
        kind="approval_decided",
        text="Approved by <@29:a> at 09:00",
        sections=(Section(None, "Approved", (("Proposal", "#7"),)),),
        meta={"request_id": 12},
    )
    card = cards.approval_card(decided, refresh_users=["29:a"], notice="Approved.")
    assert_valid(card)
    assert not inputs(card) and "actions" not in card
    assert "Approved." in json.dumps(card)


def test_oversized_message_is_cut_under_the_limit_and_says_how_many_more():
    fields = tuple((f"#{i} workflow number {i}", "x" * 300) for i in range(400))
    big = Message(kind="portfolio", text="Portfolio", sections=(Section("All", "", fields),))
    assert cards.card_size(cards.message_card(big, max_bytes=10**9)) > cards.MAX_CARD_BYTES
    card = cards.message_card(big)
    assert_valid(card)
    tail = card["body"][-1]["text"]
    kept = sum(len(el["facts"]) for el in card["body"] if el["type"] == "FactSet")
    assert kept == 102  # as many as fit in MAX_CARD_BYTES
    assert tail == "… and 298 more (see `status` or the portfolio export)"


def full_answers() -> dict:
    # Answers that make every regulatory page relevant.
    return {
        "title": "CV screener",
        "audience": "customer",
        "data": ["employee", "customer"],
        "actions": ["classify_route", "recommend"],
        "use_area": "employment",
        "profiles_people": True,
    }


@pytest.mark.parametrize("page_id", [*questions.PAGE_ORDER, "followup"])
def test_every_interview_page_is_a_valid_form_whose_input_ids_are_proposal_keys(page_id):
    answers = full_answers()
    step = FLOW.show(page_id, answers)
    page = step.page
    assert page.questions, page_id
    card = page_card(step, answers, {"page": page.id, "key": "k1"})
    assert_valid(card)
    found = inputs(card)
    assert set(found) == set(page.keys())
    assert set(found) <= set(FIELDS)
    for q in page.questions:
        element = found[q.key]
        if q.kind in (questions.SINGLE, questions.MULTI):
            assert element["type"] == "Input.ChoiceSet"
            assert [c["value"] for c in element["choices"]] == list(FIELDS[q.key].choices)
            assert element.get("isMultiSelect", False) is (q.kind == questions.MULTI)
        elif q.kind == questions.YES_NO:
            assert element["type"] == "Input.ChoiceSet"
            assert [c["value"] for c in element["choices"]] == ["true", "false"]
        else:
            assert element["type"] == "Input.Text"
    next_action = card["actions"][0]
    assert next_action["verb"] == cards.INTERVIEW_NEXT and next_action["data"] == {"page": page.id, "key": "k1"}
    assert next_action["fallback"]["data"]["verb"] == cards.INTERVIEW_NEXT


def test_interview_card_shows_errors_and_keeps_every_value():
    values = {"title": "x" * 130, "department": "Support", "capacity": "strategic", "description": "Reads tickets"}
    card = page_card(
        FLOW.show("basics", {}), values, {"page": "basics", "key": "k"}, errors={"title": "title: is 130 characters"}
    )
    assert_valid(card)
    found = inputs(card)
    assert found["title"]["errorMessage"] == "title: is 130 characters"
    assert found["title"]["value"] == "x" * 130
    assert found["department"]["value"] == "Support"
    assert found["capacity"]["value"] == "strategic"
    assert "errorMessage" not in found["department"]
    assert "title: is 130 characters" in json.dumps([b for b in card["body"] if b["type"] == "TextBlock"])


def test_multi_choice_values_are_comma_separated_codes():
    step = FLOW.show("data_actions", {})
    card = page_card(step, {"data": ["customer", "financial"], "failure_visible": False}, {"page": step.page.id})
    found = inputs(card)
    assert found["data"]["value"] == "customer,financial"
    assert found["failure_visible"]["value"] == "false"


def test_notice_and_checkin_cards_are_valid():
    assert_valid(cards.notice_card("Done", detail="more"))
    assert_valid(checkin_card(3))
    assert_valid(checkin_card(3, error="value: required"))


def test_an_image_that_would_not_fit_is_left_out_and_the_card_says_so():
    message = Message(kind="portfolio", text="Portfolio", sections=(Section("All", "", (("a", "b"),)),))
    small = cards.message_card(message, image_png=b"\x89PNG" + b"0" * 1000)
    assert_valid(small)
    assert [el["type"] for el in small["body"]] == ["TextBlock", "TextBlock", "FactSet", "Image"]
    assert small["body"][3]["url"] == "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"0" * 1000).decode()
    big = cards.message_card(message, image_png=b"\x89PNG" + b"0" * 40_000)
    assert_valid(big)
    assert [el["type"] for el in big["body"]] == ["TextBlock", "TextBlock", "FactSet", "TextBlock"]
    assert big["body"][2]["facts"] == [{"title": "a", "value": "b"}]
    assert big["body"][3]["text"] == "(The chart is too large for a Teams message; see `govbot portfolio`.)"
