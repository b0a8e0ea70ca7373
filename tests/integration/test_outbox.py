"""Outbox delivery with a recording fake Sender on the real store."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.messages.message import Message
from bot.ports import DeliveryFailed
from bot.service.delivery import BASE_DELAY_S, deliver_due, run_outbox_loop
from bot.service.notify import enqueue


class RecordingSender:
    """Records every send; fails while `failures` holds exceptions to raise."""

    def __init__(self, channel: str, failures=()):
        self.channel = channel
        self.sent = []
        self.failures = list(failures)

    async def send(self, row, thread_ref, update_ref):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((row, thread_ref, update_ref))
        return {"channel": "D1", "ts": f"{len(self.sent)}.0"}


def _queue(core, channel="slack", recipient="U1", text="hello", proposal_id=None, **keys):
    meta = {"proposal_id": proposal_id} if proposal_id else {}
    with core.uow() as uow:
        row = enqueue(uow, channel, recipient, Message("notice", text, meta=meta), core.clock.now(), **keys)
        uow.commit()
    return row


def _row(core, outbox_id):
    with core.uow() as uow:
        rows = [r for r in uow.outbox.for_recipient("U1", limit=500) if r.id == outbox_id]
    return rows[0]


def test_due_rows_are_sent_and_refs_stored_for_threads_and_updates(core):
    sender = RecordingSender("slack")
    first = _queue(core, ref_key="approval:1")
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 1
    assert _row(core, first.id).status == "sent"
    with core.uow() as uow:
        assert uow.message_refs.get("approval:1") == {"channel": "D1", "ts": "1.0"}
    _queue(core, text="in thread", thread_key="approval:1")
    _queue(core, text="replace it", update_key="approval:1")
    _queue(core, text="unknown thread", thread_key="approval:999")
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 3
    by_text = {row.payload["text"]: (thread, update) for row, thread, update in sender.sent}
    assert by_text["in thread"] == ({"channel": "D1", "ts": "1.0"}, None)
    assert by_text["replace it"] == (None, {"channel": "D1", "ts": "1.0"})
    assert by_text["unknown thread"] == (None, None)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 0  # nothing sent twice


def test_a_channel_without_a_sender_stays_pending_and_visible(core):
    from tests.support.proposals import make_proposal

    result = core.submit("U_REQ", "teams", make_proposal())
    slack = RecordingSender("slack")
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": slack})) == 0
    undelivered = core.status_data(result.proposal_id)["undelivered"]
    assert {u["channel"] for u in undelivered} == {"teams"}
    assert all(u["status"] == "pending" for u in undelivered) and len(undelivered) == 2
    teams = RecordingSender("teams")
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"teams": teams})) == 2
    assert core.status_data(result.proposal_id)["undelivered"] == []


def test_failures_are_retried_with_exponential_backoff(core, clock):
    sender = RecordingSender("slack", [RuntimeError("boom"), DeliveryFailed("502 from platform")])
    row = _queue(core)
    start = clock.now()
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 0
    failed_once = _row(core, row.id)
    assert failed_once.status == "pending" and failed_once.attempts == 1
    assert "boom" in failed_once.last_error
    assert failed_once.next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(seconds=BASE_DELAY_S)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 0  # not due yet
    assert _row(core, row.id).attempts == 1
    clock.advance(seconds=BASE_DELAY_S)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 0
    twice = _row(core, row.id)
    assert twice.attempts == 2
    assert twice.next_attempt_at.replace(tzinfo=start.tzinfo) == clock.now() + timedelta(seconds=2 * BASE_DELAY_S)
    clock.advance(seconds=2 * BASE_DELAY_S)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 1
    assert _row(core, row.id).status == "sent"


def test_retry_after_from_the_platform_is_honoured(core, clock):
    sender = RecordingSender("slack", [DeliveryFailed("rate limited", retry_after=42)])
    row = _queue(core)
    asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender}))
    got = _row(core, row.id)
    assert got.next_attempt_at.replace(tzinfo=clock.now().tzinfo) == clock.now() + timedelta(seconds=42)
    clock.advance(seconds=41)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 0
    clock.advance(seconds=1)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 1


def test_it_gives_up_after_the_last_attempt_and_keeps_the_row_visible(core, clock):
    sender = RecordingSender("slack", [DeliveryFailed("down")] * 10)
    row = _queue(core, proposal_id=None)
    for _ in range(3):
        asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender}, max_attempts=3))
        clock.advance(hours=2)
    got = _row(core, row.id)
    assert got.status == "failed" and got.attempts == 3 and "down" in got.last_error
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender}, max_attempts=3)) == 0
    assert len(sender.failures) == 7  # no attempt after giving up


def test_a_permanent_failure_gives_up_at_once(core):
    sender = RecordingSender("slack", [DeliveryFailed("channel_not_found", permanent=True)])
    row = _queue(core)
    asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender}))
    assert _row(core, row.id).status == "failed"


def test_the_loop_delivers_until_stopped(core):
    sender = RecordingSender("slack")
    _queue(core)
    _queue(core, text="second")

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(run_outbox_loop(core.uow(), core.clock, {"slack": sender}, 0.01, stop))
        for _ in range(500):
            if len(sender.sent) == 2:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert [row.payload["text"] for row, _, _ in sender.sent] == ["hello", "second"]


def test_a_reply_in_the_same_round_threads_on_the_message_sent_before_it(core):
    sender = RecordingSender("slack")
    _queue(core, text="parent", ref_key="classification:5", proposal_id=5)
    _queue(core, text="child", thread_key="classification:5", proposal_id=5)
    _queue(core, text="edit", update_key="classification:5", proposal_id=5)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 3
    refs = {row.payload["text"]: (thread, update) for row, thread, update in sender.sent}
    assert refs["child"] == ({"channel": "D1", "ts": "1.0"}, None)
    assert refs["edit"] == (None, {"channel": "D1", "ts": "1.0"})


def test_a_reply_waits_while_its_parent_is_still_undelivered(core, clock):
    sender = RecordingSender("slack", [DeliveryFailed("502")])
    _queue(core, text="parent", ref_key="approval:9", proposal_id=5)
    child = _queue(core, text="decided", update_key="approval:9", proposal_id=5)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 0  # parent failed; the child waits
    assert sender.sent == [] and _row(core, child.id).attempts == 0
    clock.advance(minutes=5)
    assert asyncio.run(deliver_due(core.uow(), core.clock, {"slack": sender})) == 2
    assert [(row.payload["text"], update) for row, _, update in sender.sent] == [
        ("parent", None),
        ("decided", {"channel": "D1", "ts": "1.0"}),
    ]
