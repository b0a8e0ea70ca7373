"""The decision rules every channel shares: routing read from its column, the comment a
decision needs, the inputs a decision form asks for, and how a channel words an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.approval_rules import missing_comment, routed_to_governance
from bot.domain.errors import NotFound, Refused, UsageError
from bot.domain.records import ApprovalRequestRow
from bot.service.results import DecisionForm
from handlers.base import error_text

T = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _request(role: str, note: str | None, governance_fallback: bool = False) -> ApprovalRequestRow:
    return ApprovalRequestRow(
        1, 7, role, None, "UGOV", "proposal", None, 1, "pending", note, T, governance_fallback=governance_fallback
    )


def test_a_note_ending_in_routed_to_governance_routes_nothing_by_itself():
    assert routed_to_governance(_request("finance", "no finance assigned; routed to governance")) is False


def test_the_fallback_column_routes_the_request_to_governance():
    assert routed_to_governance(_request("finance", None, governance_fallback=True)) is True


@pytest.mark.parametrize(
    "decision, comment, expected",
    [
        ("approve", None, None),
        ("reject", "Too risky for customer data.", None),
        ("reject", "  ", "comment: say why; a comment is required when rejecting (the requester sees it)"),
        (
            "request_changes",
            None,
            "comment: say what must change; a comment is required when requesting changes (the requester sees it)",
        ),
    ],
)
def test_rejecting_and_requesting_changes_need_a_comment(decision, comment, expected):
    assert missing_comment(decision, comment) == expected


def test_a_decision_form_names_each_required_input_left_blank():
    form = DecisionForm(3, "reject", comment_required=True, reason_required=True)
    assert form.missing(" ", None) == {
        "comment": "comment: say why; a comment is required when rejecting (the requester sees it)",
        "override_reason": "override reason: governance deciding in the approver's place must give a written reason",
    }


@pytest.mark.parametrize(
    "exc, text",
    [
        (Refused("Only the owner may pause #3."), "Only the owner may pause #3."),
        (UsageError("id: 'x' is not a number"), "id: 'x' is not a number"),
        (NotFound("proposal 9"), "Not found: proposal 9"),
        (
            RuntimeError("disk I/O error"),
            "Sorry, recording your approval failed on our side (RuntimeError). Nothing was lost; please try again.",
        ),
    ],
)
def test_every_channel_words_an_error_the_same_way(exc, text):
    assert error_text(exc, "recording your approval") == text
