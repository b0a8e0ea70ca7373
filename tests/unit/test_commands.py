"""The chat command parser: every command, and clear errors for bad arguments."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.domain.errors import UsageError
from bot.service.chat import Command, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("HELP", Command("help")),
        ("mine", Command("mine")),
        ("portfolio", Command("portfolio")),
        ("propose", Command("propose", {"text": ""})),
        ("propose Summarise support tickets", Command("propose", {"text": "Summarise support tickets"})),
        ("status 12", Command("status", {"proposal_id": 12})),
        ("status #12", Command("status", {"proposal_id": 12})),
        ("  status   7  ", Command("status", {"proposal_id": 7})),
        ("edit 3", Command("edit", {"proposal_id": 3})),
        ("pause 4", Command("pause", {"proposal_id": 4})),
        ("resume 4", Command("resume", {"proposal_id": 4})),
        ("retire 4", Command("retire", {"proposal_id": 4})),
        ("promote 4", Command("promote", {"proposal_id": 4})),
        ("autonomy 9", Command("autonomy", {"proposal_id": 9})),
        ("roles", Command("roles")),
        ("roles list", Command("roles")),
        ("digest", Command("digest", {"here": False})),
        ("digest here", Command("digest", {"here": True})),
        ("digest post 3", Command("digest", {"here": False, "verb": "post", "digest_id": 3})),
        ("digest regenerate #3", Command("digest", {"here": False, "verb": "regenerate", "digest_id": 3})),
        ("approve 5", Command("decide", {"request_id": 5, "decision": "approve", "comment": None})),
        ("approve 5 looks fine", Command("decide", {"request_id": 5, "decision": "approve", "comment": "looks fine"})),
        ("reject 5 too risky", Command("decide", {"request_id": 5, "decision": "reject", "comment": "too risky"})),
        (
            "changes 5 name a reviewer",
            Command("decide", {"request_id": 5, "decision": "request_changes", "comment": "name a reviewer"}),
        ),
        ("approve #3", Command("decide", {"proposal_id": 3, "decision": "approve", "comment": None})),
        (
            "reject #3 too risky",
            Command("decide", {"proposal_id": 3, "decision": "reject", "comment": "too risky"}),
        ),
        (
            "approve 5 --override owner on leave",
            Command(
                "decide",
                {"request_id": 5, "decision": "approve", "comment": None, "override_reason": "owner on leave"},
            ),
        ),
        (
            "changes 5 name a reviewer --override owner on leave",
            Command(
                "decide",
                {
                    "request_id": 5,
                    "decision": "request_changes",
                    "comment": "name a reviewer",
                    "override_reason": "owner on leave",
                },
            ),
        ),
        ("checkin 3 41 minutes", Command("checkin", {"proposal_id": 3, "value": "41", "note": "minutes"})),
        ("checkin 3 12%", Command("checkin", {"proposal_id": 3, "value": "12%", "note": None})),
        (
            "override 2 invisible_failure We watch the queue daily.",
            Command("override", {"proposal_id": 2, "code": "invisible_failure", "reason": "We watch the queue daily."}),
        ),
        (
            "delegate <@U7|bob> until 2026-12-31",
            Command("delegate", {"delegate_id": "U7", "until": date(2026, 12, 31)}),
        ),
        ("delegate @U7 2026-12-31", Command("delegate", {"delegate_id": "U7", "until": date(2026, 12, 31)})),
    ],
)
def test_commands_parse(text, expected):
    assert parse(text) == expected


def test_unknown_subcommand_is_help_naming_it():
    assert parse("frobnicate 3") == Command("help", {"unknown": "frobnicate"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("roles set security <@U1|sam>", {"role": "security", "department": "", "users": ["U1"]}),
        ("roles set security U1 U2 U1", {"role": "security", "department": "", "users": ["U1", "U2"]}),
        (
            "roles set department_lead Finance <@U2>",
            {"role": "department_lead", "department": "Finance", "users": ["U2"]},
        ),
        ("roles set department_lead Finance U2", {"role": "department_lead", "department": "Finance", "users": ["U2"]}),
        (
            "roles set department_lead Customer Support <@U3> @U4",
            {"role": "department_lead", "department": "Customer Support", "users": ["U3", "U4"]},
        ),
        (
            'roles set department_lead "Customer Support" U3',
            {"role": "department_lead", "department": "Customer Support", "users": ["U3"]},
        ),
        (
            "roles set department_lead \u201cCustomer Service\u201d @carla",  # curly quotes, as phones type them
            {"role": "department_lead", "department": "Customer Service", "users": ["@carla"]},
        ),
        (
            "roles set department_lead Children's Services @U5",
            {"role": "department_lead", "department": "Children's Services", "users": ["U5"]},
        ),
        ("roles set legal none", {"role": "legal", "department": "", "users": []}),
        ("roles set GOVERNANCE <@UG>", {"role": "governance", "department": "", "users": ["UG"]}),
    ],
)
def test_roles_set(text, expected):
    assert parse(text) == Command("roles_set", expected)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("status", "id is missing"),
        ("status twelve", "id: 'twelve' is not a number"),
        ("status 0", "is not a number"),
        ("status 1 2", "extra text"),
        ("pause", "id is missing"),
        ("reject 5", "comment"),
        ("changes 5", "comment"),
        ("approve x", "request id"),
        ("approve 5 --override", "override reason: write why"),
        ("approve #x", "proposal id: '#x' is not a number"),
        ("override 2", "code is missing"),
        ("override 2 bogus because", "code: unknown stop condition 'bogus'; allowed: no_owner"),
        ("override 2 no_owner", "reason"),
        ("delegate", "expected a user and a date"),
        ("delegate @U7 tomorrow", "until: 'tomorrow' is not a date"),
        ("delegate @U7 2026-02-30", "not a real date"),
        ("delegate <bad> 2026-12-01", "user"),
        ("checkin 3", "value is missing"),
        ("roles set", "role is missing; allowed: department_lead"),
        ("roles set owner U1", "role: unknown role 'owner'; allowed"),
        ("roles set wizard U1", "allowed: department_lead, security, finance, legal, engineering, governance"),
        ("roles set department_lead", "department is missing"),
        ("roles set department_lead <@U1>", "department is missing"),
        ("roles set security", "users are missing"),
        ("roles set security <bad>", "user: '<bad>' is not a user"),
        ("roles frob", "roles: unknown option"),
        ('roles set department_lead "Customer Service @U1', "quotes: a double quote is not closed"),
        ("digest everywhere", "digest: unknown option"),
        ("digest post", "digest id is missing"),
    ],
)
def test_bad_arguments_name_the_argument_and_what_is_allowed(text, names):
    with pytest.raises(UsageError) as err:
        parse(text)
    assert names in err.value.message


def test_every_command_in_help_parses():
    """Contract: each line of `help` names a command the parser knows."""
    from bot.messages.compose import HELP_LINES

    samples = {
        "<id>": "3",
        "<request id>": "4",
        "#<id>": "#3",
        "<user>": "@U1",
        "<until YYYY-MM-DD>": "2026-12-31",
        "<code>": "no_owner",
        "<reason...>": "a written reason",
        "<value>": "12",
        "<comment>": "why",
        "<role>": "security",
        "[department]": "",
        "<user>...": "@U1",
        "[comment]": "",
        "[note]": "",
        "[paragraph]": "an idea",
        "[here]": "",
        "<low|medium|high>": "high",
        "<what happened>": "it sent refunds twice",
        "<incident id>": "5",
        "<what was done>": "refunds reversed",
    }
    for usage, what in HELP_LINES:
        assert what
        words = re.findall(r"<[^>]+>(?:\.\.\.)?|\[[^\]]+\]|\S+", usage)
        for variant in words[0].split("|"):
            text = " ".join([variant, *(samples.get(w, w) for w in words[1:])])
            assert (parse(text).name == "help") is (variant == "help"), text  # only `help` falls back to help
