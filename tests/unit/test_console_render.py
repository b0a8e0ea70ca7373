"""The console renderer and the console outbox sender."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

from bot.domain.records import OutboxRow
from bot.messages.message import APPROVE, REJECT, REQUEST_CHANGES, Button, Message, Section
from handlers.console.render import plain_mentions, render_message, terminal_width, use_color
from handlers.console.sender import ConsoleSender

T = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def approval(request_id: int = 7) -> Message:
    v = str(request_id)
    return Message(
        kind="approval_request",
        text="<@U1> asks you to approve #3 Refund agent",
        sections=(
            Section("Risk: HIGH", "• actions include change_billing (from description: 'issues the refund')"),
            Section(None, fields=(("Owner", "<@U2|Omar Haddad>"), ("Department", "Support"))),
        ),
        buttons=(
            Button(APPROVE, "Approve", v, "primary"),
            Button(REJECT, "Reject", v, "danger"),
            Button(REQUEST_CHANGES, "Request changes", v),
        ),
    )


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_rendering_has_layout_but_no_escape_codes():
    text = render_message(approval(), color=False)
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0] == "@U1 asks you to approve #3 Refund agent"
    assert "Risk: HIGH" in lines
    assert "  • actions include change_billing (from description: 'issues the refund')" in lines
    assert "Owner:      Omar Haddad" in lines  # labels aligned; a known name without the @
    assert "Department: Support" in lines
    assert "  [Approve]  type: approve 7" in lines
    assert "  [Reject]  type: reject 7 <comment>" in lines
    assert "  [Request changes]  type: changes 7 <comment>" in lines


def test_colour_rendering_highlights_headline_and_risk():
    text = render_message(approval(), color=True)
    assert text.startswith("\x1b[1;36m@U1 asks you")
    assert "\x1b[1;31mHIGH\x1b[0m" in text  # risk level in red
    assert "\x1b[1;32m[Approve]\x1b[0m" in text


def test_wrapping_keeps_bullets_hanging():
    long = "• " + " ".join(["word"] * 40)
    text = render_message(Message("x", "head", (Section("T", long),)), width=40)
    body = text.splitlines()[3:]
    assert body == ["  • " + " ".join(["word"] * 7)] + ["    " + " ".join(["word"] * 7)] * 4 + [
        "    " + " ".join(["word"] * 5)
    ]


def test_use_color_honours_tty_and_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) is True
    assert use_color(io.StringIO()) is False
    assert terminal_width(io.StringIO()) is None
    assert isinstance(terminal_width(Tty()), int)
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False


def test_plain_mentions():
    assert plain_mentions("ask <@U1> and <@U2|Bea Ruiz>") == "ask @U1 and Bea Ruiz"


def row(n: int, recipient: str, message: Message) -> OutboxRow:
    return OutboxRow(
        id=n,
        channel="console",
        recipient=recipient,
        kind=message.kind,
        payload=message.to_json(),
        ref_key=None,
        thread_key=None,
        update_key=None,
        dedupe_key=None,
        status="pending",
        attempts=0,
        next_attempt_at=T,
        last_error=None,
        created_at=T,
    )


def test_sender_keeps_an_inbox_per_user_and_prints_for_the_active_one():
    out = io.StringIO()
    sender = ConsoleSender(out)
    sender.active = "U1"
    ref_a = asyncio.run(sender.send(row(1, "U2", approval(7)), None, None))
    assert out.getvalue() == ""  # not the active user: kept, not printed
    asyncio.run(sender.send(row(2, "U1", Message("notice", "Submitted #3")), None, None))
    assert "Submitted #3" in out.getvalue() and "new message for U1" in out.getvalue()
    assert [d.message.text for d in sender.unread("U2")] == ["<@U1> asks you to approve #3 Refund agent"]
    assert sender.unread("U1") == []
    # an update replaces the earlier message in place
    decided = Message("approval_decided", "Approved by <@U2> at 09:00")
    ref_b = asyncio.run(sender.send(row(3, "U2", decided), None, ref_a))
    assert ref_b == ref_a
    assert [d.message.text for d in sender.messages("U2")] == ["Approved by <@U2> at 09:00"]
    assert sender.messages("U2")[0].updated
    # a reference from another session is not ours: the message is appended
    foreign = {"session": "other", "recipient": "U2", "index": 0}
    asyncio.run(sender.send(row(4, "U2", Message("n", "later")), foreign, foreign))
    assert [d.message.text for d in sender.messages("U2")] == ["Approved by <@U2> at 09:00", "later"]
    assert sender.messages("U2")[1].reply
    sender.mark_read("U2")
    assert sender.unread("U2") == []


def test_stored_rows_collapse_into_an_inbox_with_updates_in_place():
    from dataclasses import replace

    from handlers.console.sender import collapse

    first = replace(row(1, "U2", approval(7)), ref_key="approval:7")
    other = row(2, "U2", Message("notice", "Reminder"))
    update = replace(
        row(3, "U2", Message("approval_decided", "Approved by <@U2>")), ref_key="approval:7", update_key="approval:7"
    )
    items = collapse([update, other, first])  # any order in, oldest first out
    assert [i.message.text for i in items] == ["Approved by <@U2>", "Reminder"]
    assert [i.updated for i in items] == [True, False]
    # an update whose original is not in the list is shown as a message of its own
    assert [i.message.text for i in collapse([update])] == ["Approved by <@U2>"]
