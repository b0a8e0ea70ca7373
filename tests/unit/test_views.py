"""Neutral messages: what they say, and that they stay bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.records import DecisionRow
from bot.messages import compose
from bot.messages.message import APPROVE, Message
from tests.support.proposals import make_proposal
from tests.support.records import proposal_row, request_row

T = datetime(2026, 11, 16, 14, 2, tzinfo=UTC)


def _request(i=1, role="finance", status="pending", note=None):
    return request_row(7, id=i, role=role, department=None, approver=f"U{i}", status=status, note=note, created_at=T)


RESULT = {
    "risk_level": "high",
    "reasons": [f"reason {i}" for i in range(30)],
    "stop_conditions": ["changes_permissions_billing_or_production"],
    "readiness": {"score": 5, "max": 6, "missing": ["value_metric"], "ready_to_scale": False},
    "approver_roles": ["finance", "owner"],
    "rollout": {"risk_level": "high", "rollback_path": "missing: no rollback path given"},
    "regulatory": {
        "eu_ai_act": {
            "tier": "high",
            "role": "deployer",
            "basis": ["Annex III 5(b): credit"],
            "duties": ["human oversight (Art. 26)"],
        }
    },
}


def test_classification_message_says_everything_and_caps_reasons():
    msg = compose.classification_message(
        proposal_row(id=7),
        RESULT,
        [_request(1, "owner"), _request(2, note="no finance assigned; routed to governance")],
    )
    text = msg.plain_text()
    assert "Risk: HIGH" in text and "reason 0" in text and "reason 29" not in text and "and 22 more" in text
    assert "changes_permissions_billing_or_production" in text
    assert "Readiness 5/6" in text and "value_metric" in text
    assert "missing: no rollback path given" in text
    assert "<@U2>" in text and "no finance assigned" in text
    assert "Tier: high" in text and "Annex III 5(b)" in text and "human oversight" in text
    assert msg.meta["proposal_id"] == 7
    assert Message.from_json(msg.to_json()) == msg


def test_approval_card_buttons_carry_the_request_id_and_vanish_once_decided():
    card = compose.approval_request_card(proposal_row(id=7), _request(5), RESULT)
    assert [b.value for b in card.buttons] == ["5", "5", "5"] and card.buttons[0].action == APPROVE
    assert "Why you" in card.plain_text()
    decision = DecisionRow(1, 5, "approve", "U5", None, None, None, T)
    done = compose.decided_card(proposal_row(id=7), _request(5, status="approved"), decision, "UTC")
    assert done.buttons == () and done.text == "Approved by <@U5> at 14:02 (2026-11-16 UTC)"
    berlin = compose.decided_line(decision, "Europe/Berlin")
    assert "15:02" in berlin


def test_long_text_is_clipped():
    long = proposal_row(id=7, answers=make_proposal(description="x" * 10000))
    card = compose.approval_request_card(long, _request(), RESULT)
    assert all(len(s.text) <= compose.MAX_TEXT for s in card.sections)


def test_help_lists_each_command_once():
    msg = compose.help_message("/aiwf")
    usages = [label for label, _ in msg.sections[0].fields]
    assert len(usages) == len(set(usages)) and all(u.startswith("/aiwf ") for u in usages)
