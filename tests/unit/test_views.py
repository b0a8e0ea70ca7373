"""Neutral messages: what they say, and that they stay bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.records import ApprovalRequestRow, DecisionRow, ProposalRow
from bot.messages import compose
from bot.messages.message import APPROVE, Message

T = datetime(2026, 11, 16, 14, 2, tzinfo=UTC)


def _proposal(**over):
    base = dict(
        id=7,
        title="Refund agent",
        requester="U_REQ",
        channel="slack",
        department="Support",
        owner="U_OWN",
        stage="in_review",
        risk_level="high",
        capacity="incremental",
        autonomy="draft_only",
        eu_tier="high",
        revision=1,
        answers={"description": "Issues refunds."},
        created_at=T,
        updated_at=T,
        stage_changed_at=T,
    )
    base.update(over)
    return ProposalRow(**base)


def _request(i=1, role="finance", status="pending", note=None):
    return ApprovalRequestRow(i, 7, role, None, f"U{i}", "proposal", None, 1, status, note, T)


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
        _proposal(), RESULT, [_request(1, "owner"), _request(2, note="no finance assigned; routed to governance")]
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
    card = compose.approval_request_card(_proposal(), _request(5), RESULT)
    assert [b.value for b in card.buttons] == ["5", "5", "5"] and card.buttons[0].action == APPROVE
    assert "Why you" in card.plain_text()
    decision = DecisionRow(1, 5, "approve", "U5", None, None, None, T)
    done = compose.decided_card(_proposal(), _request(5, status="approved"), decision, "UTC")
    assert done.buttons == () and done.text == "Approved by <@U5> at 14:02 (2026-11-16 UTC)"
    berlin = compose.decided_line(decision, "Europe/Berlin")
    assert "15:02" in berlin


def test_long_text_is_clipped():
    long = _proposal(answers={"description": "x" * 10000})
    card = compose.approval_request_card(long, _request(), RESULT)
    assert all(len(s.text) <= compose.MAX_TEXT for s in card.sections)


def test_help_lists_each_command_once():
    msg = compose.help_message("/aiwf")
    usages = [label for label, _ in msg.sections[0].fields]
    assert len(usages) == len(set(usages)) and all(u.startswith("/aiwf ") for u in usages)
