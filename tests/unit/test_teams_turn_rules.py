"""Which Teams activities are answered after their turn, whose queue a message joins,
and when a conversation reference needs storing again."""

from __future__ import annotations

import pytest
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.messages.message import APPROVE
from handlers.teams import cards
from handlers.teams.after_turn import ReferenceCache, queue_key
from handlers.teams.bot import answered_after_turn


def _activity(type_: str = "message", **fields) -> Activity:
    return Activity(
        type=type_,
        from_property=ChannelAccount(id="29:ana"),
        conversation=ConversationAccount(id="19:team;messageid=42"),
        **fields,
    )


@pytest.mark.parametrize(
    "activity, after",
    [
        (_activity(text="mine"), True),
        (_activity(value={"verb": cards.INTERVIEW_NEXT, "page": "basics"}), True),
        (_activity(value={"verb": APPROVE, "request_id": 3}), False),
        (_activity("invoke", name="adaptiveCard/action"), False),
        (_activity("conversationUpdate"), False),
    ],
    ids=["typed text", "interview page (Action.Submit)", "decision (Action.Submit)", "invoke", "conversation update"],
)
def test_messages_are_answered_after_the_turn_and_clicks_inside_it(activity, after):
    assert answered_after_turn(activity) is after


def test_a_message_joins_the_queue_of_its_conversation_thread_left_out_and_sender():
    assert queue_key(_activity(text="mine")) == ("19:team", "29:ana")


def test_a_reference_is_unchanged_only_when_exactly_it_was_stored():
    cache = ReferenceCache()
    reference = {"serviceUrl": "https://smba.example/", "user": {"id": "29:ana", "name": "Ana"}}
    cache.stored("29:ana", "a:1", reference)
    seen = [
        cache.unchanged("29:ana", "a:1", dict(reference)),
        cache.unchanged("29:ana", "a:1", {**reference, "user": {"id": "29:ana", "name": "Ana Ruiz"}}),
        cache.unchanged("29:ana", "a:2", reference),
        cache.unchanged("29:bo", "a:1", reference),
    ]
    assert seen == [True, False, False, False]
