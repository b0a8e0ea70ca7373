"""Approvers see what they approve (issue 12, item 5): the proposal on the approval card
and in `status`, composed once (`bot.messages.proposal_view`), the changes since the
revision an approver saw (`bot.domain.proposal_diff`), and the platform limits of a
long proposal — Slack messages (50 blocks, 3000 characters a section, button values
2000), the Slack modal (100 blocks), Teams cards (~28 KB, Adaptive Card 1.5 schema)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.domain.classifier import classify
from bot.domain.policy_file import load_policy
from bot.domain.proposal_diff import Change, answer_changes, round_changes, verdict_changes
from bot.domain.records import ApprovalRequestRow, ProposalRow
from bot.messages import compose, proposal_view
from bot.messages.message import FULL_PROPOSAL, Message, plain
from handlers.console.render import render_message
from handlers.slack.blocks import proposal_modal, render
from handlers.teams import cards
from tests.support.blockkit import block_problems, view_problems
from tests.support.bot_connector import card_text, validate_card
from tests.support.proposals import high_billing, long_proposal, make_proposal

T = datetime(2026, 11, 16, 14, 2, tzinfo=UTC)
POLICY = load_policy()
TEAMS_MESSAGE_MAX = 28_000  # bytes of a card Teams accepts in a message (with room for the activity)


def row(answers: dict, revision: int = 1) -> ProposalRow:
    return ProposalRow(
        7, answers["title"], "U_REQ", "slack", answers.get("department"), answers.get("owner"), "in_review",
        "high", "incremental", answers.get("autonomy"), None, revision, answers, T, T, T,
    )  # fmt: skip


REQUEST = ApprovalRequestRow(5, 7, "finance", None, "U_FIN", "proposal", None, 1, "pending", None, T)


def card_for(answers: dict, changes=None) -> Message:
    return compose.approval_request_card(row(answers), REQUEST, classify(answers, POLICY), changes=changes)


# ---------------------------------------------------------------------------- the diff


def test_answer_changes_are_per_field_old_to_new_in_the_proposals_key_order():
    before = make_proposal(data=["internal"], rollback_path="Switch it off.", vendor="")
    after = make_proposal(data=["internal", "customer"], rollback_path="Restore yesterday's export.", vendor=None)
    assert answer_changes(before, after) == (
        Change("data", ("internal",), ("customer", "internal")),
        Change("rollback_path", "Switch it off.", "Restore yesterday's export."),
    )


def test_a_list_change_names_what_it_gained_and_lost():
    change = answer_changes({"actions": ["draft", "summarize"]}, {"actions": ["change_billing", "summarize"]})[0]
    assert (change.added, change.removed) == (("change_billing",), ("draft",))


def test_verdict_changes_name_risk_tier_stop_conditions_and_approvers():
    before = classify(make_proposal(), POLICY)
    after = classify(high_billing(description="The agent issues the refund and ranks job applicants."), POLICY)
    assert [(c.key, c.before, c.after) for c in verdict_changes(before, after)] == [
        ("risk_level", "low", "high"),
        ("eu_tier", "minimal", "high"),
        ("stop_conditions", None, ("changes_permissions_billing_or_production",)),
        ("approver_roles", ("owner",), ("department_lead", "finance", "governance", "legal", "owner")),
    ]


def test_the_changes_section_puts_the_verdict_first_and_quotes_typed_values():
    before, after = make_proposal(), high_billing(rollback_path="Refund by hand.")
    changes = round_changes(1, 2, before, after, classify(before, POLICY), classify(after, POLICY))
    section = proposal_view.changes_section(changes)
    lines = plain(section.text).splitlines()
    assert (section.title, lines[0], lines[-1]) == (
        "Changed since revision 1 (the one you saw)",
        "• Risk level: low → high",
        "• Rollback path: “Switch the job off; the manual process still works.” → “Refund by hand.”",
    )


def test_changes_round_trip_through_the_status_json():
    before, after = make_proposal(), high_billing()
    changes = round_changes(1, 2, before, after, classify(before, POLICY), classify(after, POLICY))
    again = proposal_view.changes_from_json(json.loads(json.dumps(proposal_view.changes_to_json(changes))))
    assert again == changes


# ---------------------------------------------------------------------------- the view


def test_the_card_marks_declared_actions_and_those_found_in_the_words():
    answers = high_billing(description="The agent issues the refund and posts on our public twitter account.")
    answers["actions"] = ["draft"]
    fields = dict(next(s for s in card_for(answers).sections if s.title == "Data, actions and how it runs").fields)
    assert fields["Actions"] == "draft (declared); change_billing, publish_public (found in the words)"


def test_a_short_proposal_shows_every_answer_on_the_card_and_no_full_view_button():
    answers = make_proposal(vendor="OpenAI", model="gpt-4.1")
    text = render_message(card_for(answers))
    expected = [answers[k] for k in ("description", "current_process", "expected_output", "control_points",
                                     "exception_path", "escalation_path", "rollback_path", "value_metric")]  # fmt: skip
    shown = [value for value in expected if value in text]
    assert (shown, "OpenAI / gpt-4.1" in text, FULL_PROPOSAL in {b.action for b in card_for(answers).buttons}) == (
        expected,
        True,
        False,
    )


def test_the_eu_tier_shows_its_basis_with_the_quoted_words():
    answers = make_proposal(description="Ranks job applicants for the recruiters.")
    eu = next(s for s in card_for(answers).sections if s.title == "EU AI Act")
    assert "'Ranks job applicants'" in plain(eu.text)


# ---------------------------------------------------------------------------- limits of a long proposal


@pytest.fixture(scope="module")
def long_card() -> Message:
    answers = long_proposal()
    before = high_billing()
    changes = round_changes(1, 2, before, answers, classify(before, POLICY), classify(answers, POLICY))
    return card_for(answers, changes)


def test_a_long_proposal_gets_the_short_view_and_a_full_proposal_button(long_card):
    assert [b.action for b in long_card.buttons][-1] == FULL_PROPOSAL


def test_the_long_slack_card_keeps_slacks_message_limits(long_card):
    payload = render(long_card)
    buttons = [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    too_long = [e["value"] for e in buttons if len(e["value"]) > 2000]
    assert (block_problems(payload["blocks"], "card"), too_long, len(payload["text"]) <= 40_000) == ([], [], True)


def test_the_slack_modal_shows_the_whole_description_within_view_limits(long_card):
    view = proposal_modal(Message.from_json(long_card.meta["full"]))
    text = "".join(b.get("text", {}).get("text", "") for b in view["blocks"] if b["type"] == "section")
    assert (view_problems(view, "modal"), "END-OF-DESCRIPTION" in text) == ([], True)


def test_the_long_teams_card_validates_fits_and_unfolds_the_whole_proposal(long_card):
    card = validate_card(cards.approval_card(long_card))
    show = next(a for a in card["actions"] if a["type"] == "Action.ShowCard")
    assert (cards.card_size(card) <= TEAMS_MESSAGE_MAX, "END-OF-DESCRIPTION" in card_text(show["card"])) == (
        True,
        True,
    )


def test_every_answer_at_its_limit_still_fits_a_teams_card():
    full = {k: "ü" * 3990 + " END" for k in ("current_process", "expected_output", "control_points",
                                               "exception_path", "escalation_path", "rollback_path")}  # fmt: skip
    card = validate_card(cards.approval_card(card_for(long_proposal(**full))))
    assert cards.card_size(card) <= TEAMS_MESSAGE_MAX


def test_typed_markup_in_the_full_view_stays_text_in_slack(long_card):
    view = proposal_modal(Message.from_json(long_card.meta["full"]))
    text = json.dumps(view["blocks"])
    assert ("<!here>" in text, "&lt;!here&gt;" in text) == (False, True)


def test_typed_markup_on_the_card_and_in_its_changes_stays_text_in_slack(long_card):
    text = json.dumps(render(long_card)["blocks"])
    assert ("<!here>" in text, text.count("&lt;!here&gt;") >= 2) == (False, True)
