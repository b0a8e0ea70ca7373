"""User-written text never becomes markup (issue 18, item 6).

The core marks what people typed (titles, descriptions, comments, reasons, digest
drafts); Slack keeps only the mentions the core wrote live and lets Slack auto-link
nothing, Teams escapes markdown in every TextBlock, FactSet and fallback text. Cards
validate against the Adaptive Card 1.5 schema."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.domain.records import ApprovalRequestRow, DecisionRow, DigestRow, ProposalRow
from bot.messages import compose
from bot.messages.digest import digest_message
from bot.messages.message import Message, Section, plain, spans, user_text
from bot.service.digest_writer import grounding_problems, load_prompt, write_digest
from handlers.llm import ChatModelDrafter
from handlers.slack.blocks import fallback_text, render
from handlers.teams import cards
from tests.support.bot_connector import validate_card
from tests.support.records import proposal_row

T = datetime(2026, 11, 16, 14, 2, tzinfo=UTC)
PHISH = "[Open the refund form](https://evil.example/login)"
IMAGE = "![logo](https://evil.example/pixel.png)"
HOSTILE = f"{PHISH} {IMAGE} **urgent** _now_ <@UVICTIM> <#C0SECRET> <!here> https://evil.example/x"


def proposal(**over) -> ProposalRow:
    hostile = dict(
        id=7,
        title=f"Refunds {PHISH}",
        requester="U_REQ",
        department="Support <!channel>",
        owner="U_OWN",
        answers={"description": HOSTILE},
        created_at=T,
        updated_at=T,
        stage_changed_at=T,
    )
    return proposal_row(**{**hostile, **over})


REQUEST = ApprovalRequestRow(5, 7, "finance", None, "U_FIN", "proposal", None, 1, "pending", None, T)
RESULT = {"risk_level": "high", "reasons": [f"description says {HOSTILE}"], "stop_conditions": []}
DECISION = DecisionRow(1, 5, "reject", "U_FIN", None, HOSTILE, HOSTILE, T)


# ---------------------------------------------------------------------------- the marker


def test_typed_marks_cannot_close_a_user_span():
    forged = "x\ue001<@UVICTIM>\ue000y"
    assert spans("core " + user_text(forged)) == [("core ", False), ("x<@UVICTIM>y", True)]


def test_a_clipped_span_stays_user_written_to_the_end():
    assert spans("a " + user_text("bc")[:2]) == [("a ", False), ("b", True)]


# ---------------------------------------------------------------------------- Teams

_LIVE_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")
_LIVE_EMPHASIS = re.compile(r"(?<!\\)\*\*|(?<![\\\w])_\w")


def card_texts(card: dict) -> list[str]:
    """Every string a Teams client renders as markdown: TextBlocks, facts, fallbackText."""
    out = [card.get("fallbackText", "")]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(node["text"])
            if node.get("type") == "FactSet":
                out.extend(x for f in node["facts"] for x in (f["title"], f["value"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body", []))
    return out


TEAMS_CARDS = {
    "approval request": lambda: cards.approval_card(compose.approval_request_card(proposal(), REQUEST, RESULT)),
    "decided": lambda: cards.message_card(compose.decided_card(proposal(), REQUEST, DECISION)),
    "classification": lambda: cards.message_card(compose.classification_message(proposal(), RESULT, [REQUEST])),
    "mine": lambda: cards.message_card(compose.mine_message("U_REQ", [proposal()], [(REQUEST, proposal())])),
}


@pytest.mark.parametrize("build", TEAMS_CARDS.values(), ids=TEAMS_CARDS.keys())
def test_user_markdown_never_renders_in_a_teams_card(build):
    texts = card_texts(validate_card(build()))
    live = [t for t in texts if _LIVE_LINK.search(t) or _LIVE_EMPHASIS.search(t)]
    assert live == []


def test_the_description_is_escaped_and_the_core_mention_is_plain_in_teams():
    card = validate_card(cards.approval_card(compose.approval_request_card(proposal(), REQUEST, RESULT)))
    facts = {f["title"]: f["value"] for n in card["body"] if n["type"] == "FactSet" for f in n["facts"]}
    facts = {k: facts[k] for k in ("Requester", "Owner", "Department", "Stage", "Request id")}
    texts = card_texts(card)
    description = texts[texts.index("What it does") + 1]
    assert (description.startswith(r"\[Open the refund form\](https://evil.example/login) !\[logo\]"), facts) == (
        True,
        {
            "Requester": "U_REQ",
            "Owner": "U_OWN",
            "Department": r"Support \<!channel\>",
            "Stage": "in_review",
            "Request id": str(REQUEST.id),
        },
    )


def test_core_markdown_lists_stay_as_the_core_wrote_them():
    message = Message("portfolio", "Needs attention", (Section(None, "- _#1_ " + user_text("*x*") + ": 3 h"),))
    assert card_texts(cards.message_card(message))[2] == r"- _#1_ \*x\*: 3 h"


# ---------------------------------------------------------------------------- Slack

_LIVE_SLACK = re.compile(r"<(?:@UVICTIM|#C0SECRET|!here|!channel|https?:)")


def mrkdwn_objects(rendered: dict) -> list[dict]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(rendered["blocks"])
    return found


SLACK_MESSAGES = {
    "approval request": lambda: compose.approval_request_card(proposal(), REQUEST, RESULT),
    "decided": lambda: compose.decided_card(proposal(), REQUEST, DECISION),
    "status": lambda: compose.status_message(
        {
            "proposal": {
                "id": 7,
                "title": HOSTILE,
                "stage": "in_review",
                "risk_level": "high",
                "owner": "U_OWN",
                "requester": "U_REQ",
                "department": HOSTILE,
                "revision": 1,
            },
            "approvals": [],
            "audit": [{"created_at": "2026-11-16T14:02", "actor": "U_REQ", "action": "x", "detail": {"note": HOSTILE}}],
        }
    ),
}


@pytest.mark.parametrize("build", SLACK_MESSAGES.values(), ids=SLACK_MESSAGES.keys())
def test_user_written_mentions_and_links_are_never_live_in_slack(build):
    rendered = render(build())
    live = [o["text"] for o in mrkdwn_objects(rendered) if _LIVE_SLACK.search(o["text"])]
    assert live == []


def test_slack_auto_links_nothing_in_a_rendered_message():
    rendered = render(compose.approval_request_card(proposal(), REQUEST, RESULT))
    assert {o.get("verbatim") for o in mrkdwn_objects(rendered)} == {True}


def test_the_mentions_the_core_wrote_stay_live_in_slack():
    card = compose.approval_request_card(proposal(requester="UREQ1", owner="UOWN1"), REQUEST, RESULT)
    rendered = json.dumps(render(card))
    assert ("<@UREQ1>" in rendered, "<@UOWN1>" in rendered, "<@UVICTIM>" in rendered) == (True, True, False)


def test_slack_notification_text_breaks_user_written_urls():
    message = compose.notice("n", "Posted " + user_text("see https://evil.example/x or www.evil.example"))
    assert fallback_text(message) == "Posted see https:\u200b//evil.example/x or www\u200b.evil.example"


def test_the_digest_is_user_text_through_and_through_in_slack():
    row = DigestRow(
        4, T, T, {}, "digest", "1", "m", f"Week 46 <@UVICTIM>\n\nPipeline: {HOSTILE}", 0, 0, 0, "draft", None, [], T
    )
    rendered = render(digest_message(row))
    live = [o["text"] for o in mrkdwn_objects(rendered) if _LIVE_SLACK.search(o["text"])]
    assert live == []


# ---------------------------------------------------------------------------- the digest checker

FACTS = {"period": {"week": "2026-W46"}, "new_proposals": {"this_week": 5, "items": [{"id": 41, "title": "Refunds"}]}}


@pytest.mark.parametrize(
    "draft, problem",
    [
        (
            '5 new proposals, among them "Refunds". Details at https://evil.example/r.',
            "the link 'https://evil.example/r'",
        ),
        (
            '5 new proposals, among them "Refunds". See [the list](http://x.example).',
            "the link '[the list](http://x.example)'",
        ),
        ('5 new proposals, among them "Refunds". Reply with your password to confirm.', "the instruction 'Reply with"),
        ('5 new proposals. You must approve "Refunds" today.', "the instruction 'You must approve"),
    ],
    ids=["url", "markdown link", "imperative", "you must"],
)
def test_a_draft_with_a_link_or_an_instruction_is_rejected(draft, problem):
    assert [p for p in grounding_problems(draft, FACTS) if p.startswith(problem)] != []


def test_a_factual_draft_has_no_link_or_instruction_problem():
    assert grounding_problems('Week 2026-W46: 5 new proposals, among them "Refunds" (#41).', FACTS) == []


def test_a_draft_with_a_link_falls_back_to_the_template_writer():
    bad = '5 new proposals, among them "Refunds". Click https://evil.example to review.'
    drafter = ChatModelDrafter(FakeListChatModel(responses=[bad, bad]), "fake-model")
    result = write_digest(FACTS, drafter, load_prompt())
    assert (result.model, "https://evil.example" in (result.fallback_reason or "")) == ("template", True)


def test_plain_drops_the_marks():
    assert plain("a " + user_text("b")) == "a b"


def test_a_comment_passed_on_in_a_notice_is_shown_as_typed_in_teams():
    notice = compose.notice("proposal_rejected", "#7 was rejected.", 7, detail=user_text(PHISH))
    assert card_texts(cards.message_card(notice))[2] == r"\[Open the refund form\](https://evil.example/login)"
