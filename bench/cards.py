"""How big an approval card gets: `python -m bench.cards` prints, for a short proposal,
one with a 4,000-character description and one with every free-text answer at its
limit, the Slack card (blocks, largest section text, payload bytes), the Slack "Full
proposal" modal (blocks), the Teams card (bytes, with the whole proposal unfolding in
it) and how long composing and rendering one card takes. Figures only.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from bot.domain.classifier import classify
from bot.domain.policy_file import load_policy
from bot.domain.proposal_diff import round_changes
from bot.domain.records import ApprovalRequestRow, ProposalRow
from bot.messages import compose
from bot.messages.message import Message
from handlers.slack.blocks import proposal_modal, render
from handlers.teams import cards
from tests.support.proposals import high_billing, long_proposal, make_proposal

T = datetime(2026, 11, 16, 14, 2, tzinfo=UTC)
AT_LIMITS = {
    k: "ü" * 3990 + " END"
    for k in (
        "current_process",
        "expected_output",
        "control_points",
        "exception_path",
        "escalation_path",
        "rollback_path",
    )
}


def _inputs(answers: dict[str, Any], policy: Any) -> tuple[Any, ...]:
    before = high_billing()
    result = classify(answers, policy)
    changes = round_changes(1, 2, before, answers, classify(before, policy), result)
    row = ProposalRow(
        7, answers["title"], "U1", "slack", "Support", "U2", "in_review", result["risk_level"],
        "incremental", "draft_only", None, 2, answers, T, T, T,
    )  # fmt: skip
    request = ApprovalRequestRow(5, 7, "finance", None, "U3", "proposal", None, 2, "pending", None, T)
    return row, request, result, changes


def _card(inputs: tuple[Any, ...]) -> Message:
    row, request, result, changes = inputs
    return compose.approval_request_card(row, request, result, changes=changes)


def measure(answers: dict[str, Any], policy: Any, runs: int = 20) -> dict[str, Any]:
    inputs = _inputs(answers, policy)
    card = _card(inputs)
    slack = render(card)
    sections = [b["text"]["text"] for b in slack["blocks"] if b["type"] == "section" and "text" in b]
    full = card.meta.get("full")
    modal = proposal_modal(Message.from_json(full)) if full else None
    started = time.perf_counter()
    for _ in range(runs):
        c = _card(inputs)  # classified once, outside the clock
        render(c)
        cards.approval_card(c)
    per_card_ms = (time.perf_counter() - started) * 1000 / runs
    return {
        "full_proposal_button": bool(full),
        "slack_blocks": len(slack["blocks"]),
        "slack_largest_section_chars": max(len(s) for s in sections),
        "slack_payload_bytes": len(json.dumps(slack, ensure_ascii=False).encode()),
        "slack_modal_blocks": len(modal["blocks"]) if modal else None,
        "teams_card_bytes": cards.card_size(cards.approval_card(card)),
        "compose_and_render_ms": round(per_card_ms, 2),
    }


def run() -> dict[str, Any]:
    policy = load_policy()
    return {
        "short": measure(make_proposal(), policy),
        "description_4000": measure(long_proposal(), policy),
        "every_answer_at_its_limit": measure(long_proposal(**AT_LIMITS), policy),
    }


def main() -> None:
    figures = run()
    keys = list(next(iter(figures.values())))
    print(f"{'':28}" + "".join(f"{name:>28}" for name in figures))
    for key in keys:
        print(f"{key:28}" + "".join(f"{str(figures[name][key]):>28}" for name in figures))
    print("limits: Slack 50 blocks a message, 100 a modal, 3000 characters a section; Teams ~28 KB a card")


if __name__ == "__main__":
    main()
