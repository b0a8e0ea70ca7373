"""People's names: cleaning a display name of markup, writing names into mentions."""

from __future__ import annotations

import pytest

from bot.domain.people import clean_name, is_platform_id, mentioned_ids, name_key, with_names
from handlers.console.render import plain_mentions
from handlers.slack.blocks import escape, plain
from handlers.teams.cards import display


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Carla Díaz", "Carla Díaz"),
        ("  Sam   Jones ", "Sam Jones"),
        ("*boss* <!channel>", "boss !channel"),
        ("[click](https://evil.example)", "click (https://evil.example)"),
        ("Eve\x1b[31mRed\u202e", "Eve 31mRed"),
        ("x|y>z", "x y z"),
        ("___", None),
        ("", None),
        (None, None),
        ("a" * 200, "a" * 79 + "…"),
    ],
)
def test_a_display_name_loses_every_markup_and_control_character(raw, clean):
    assert clean_name(raw) == clean


def test_names_are_written_into_mentions_and_unknown_labels_dropped():
    text = "routed to <@U1>; asked <@U2|**fake**> and <@U3|Old name>"
    named = with_names(text, {"U1": "Fiona Walsh", "U3": "New *name*"})
    assert named == "routed to <@U1|Fiona Walsh>; asked <@U2> and <@U3|New name>"
    assert with_names(named, {"U1": "Fiona Walsh", "U3": "New name"}) == named


def test_each_channel_shows_the_name_and_none_lets_it_become_markup():
    text = with_names("Approved by <@U0AB12>", {"U0AB12": "_Ana_ <b>"})
    assert plain_mentions(text) == "Approved by Ana b"
    assert display(text) == "Approved by Ana b"
    assert escape(text) == "Approved by <@U0AB12>"  # Slack shows its own, current name
    assert plain(text) == "Approved by @Ana b"


def test_mentioned_ids_and_platform_ids():
    assert mentioned_ids(["<@U1> and <@29:abc|Ana>", "<@U1|x>"]) == ["U1", "29:abc"]
    assert [is_platform_id(t) for t in ("U0AB12", "W123", "U_OMAR", "29:1a-b", "carla", "sam.jones", "Uma")] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert name_key("Sam.Jones") == name_key("sam jones") == "samjones"
