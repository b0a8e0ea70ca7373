"""The digest as a neutral message: sections within chat limits, review buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.records import DigestRow
from bot.messages.digest import digest_json, digest_message
from bot.messages.message import DIGEST_POST, DIGEST_REGENERATE, Message, plain


def row(text: str, model: str = "template") -> DigestRow:
    at = datetime(2026, 11, 16, 9, tzinfo=UTC)
    return DigestRow(
        id=4,
        period_start=at,
        period_end=at,
        facts={},
        prompt_name="digest",
        prompt_version="1",
        model=model,
        text=text,
        tokens_in=0,
        tokens_out=0,
        latency_ms=0,
        status="draft",
        fallback_reason=None,
        posted_to=[],
        created_at=at,
    )


def test_long_digest_is_split_into_sections_under_the_slack_limit():
    body = "\n\n".join(["\n".join(f"line {i} of paragraph {p} " + "x" * 60 for i in range(40)) for p in range(3)])
    msg = digest_message(row("Headline\n" + body))
    assert plain(msg.text) == "Headline"
    assert all(len(plain(s.text)) <= 2900 for s in msg.sections)
    joined = "\n".join(plain(s.text) for s in msg.sections[:-1])
    assert joined.replace("\n", "") == body.replace("\n", "")  # nothing lost
    assert not msg.buttons


def test_review_message_has_post_and_regenerate_with_the_digest_id():
    msg = digest_message(row("Headline\n\nBody", model="gpt-x"), review=True)
    assert [(b.action, b.value) for b in msg.buttons] == [(DIGEST_POST, "4"), (DIGEST_REGENERATE, "4")]
    assert "written by gpt-x, checked against the facts" in msg.sections[-1].text
    assert msg.meta == {"digest_id": 4}
    assert Message.from_json(msg.to_json()) == msg


def test_json_record_keys_in_design_order():
    assert list(digest_json(row("x"))) == [
        "id",
        "period_start",
        "period_end",
        "facts",
        "prompt_name",
        "prompt_version",
        "model",
        "text",
        "tokens_in",
        "tokens_out",
        "latency_ms",
        "status",
        "fallback_reason",
        "posted_to",
    ]
