"""Acknowledged actions, the rules without a database: which payloads are recorded (bad
ones name their field), and which process owning an action is known to be gone."""

from __future__ import annotations

import os

import pytest

from bot.domain.errors import UsageError
from bot.service.inbound import check_payload
from handlers.inbound import HOST, gone, owner_name
from handlers.slack.actions import click_key as slack_click_key
from handlers.teams.actions import click_key as teams_click_key

NO_SUCH_PID = 2**22 + 4321  # above Linux's largest pid_max: never a running process


def test_a_decision_payload_keeps_only_what_deciding_needs():
    payload = {
        "request_id": 7,
        "decision": "reject",
        "comment": "too risky",
        "override_reason": None,
        "in_place": {"channel": "D1", "ts": "1.2"},
        "response_url": "https://hooks.slack.com/secret",
    }
    assert check_payload("decide", payload) == {
        "request_id": 7,
        "decision": "reject",
        "comment": "too risky",
        "in_place": {"channel": "D1", "ts": "1.2"},
    }


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("publish", {"request_id": 1, "decision": "approve"}, "kind: "),
        ("decide", {"request_id": True, "decision": "approve"}, "request_id: "),
        ("decide", {"request_id": 99999999999999999999, "decision": "approve"}, "request_id: "),
        ("decide", {"request_id": "7", "decision": "approve"}, "request_id: "),
        ("decide", {"request_id": 7, "decision": "maybe"}, "decision: "),
        ("decide", {"request_id": 7, "decision": "approve", "comment": "x" * 3001}, "comment: "),
        ("decide", {"request_id": 7, "decision": "approve", "in_place": {"ts": 1.2}}, "in_place: "),
    ],
)
def test_a_bad_payload_is_refused_naming_its_field(kind, payload, field):
    with pytest.raises(UsageError) as refused:
        check_payload(kind, payload)
    assert refused.value.message.startswith(field)


def test_this_process_is_not_gone():
    assert gone(owner_name()) is False


def test_a_process_on_another_host_is_left_to_its_lease():
    assert gone(f"elsewhere-{HOST}:{NO_SUCH_PID}:abc") is False


def test_a_process_of_this_host_whose_pid_runs_no_more_is_gone():
    assert gone(f"{HOST}:{NO_SUCH_PID}:abc") is True


def test_an_earlier_process_with_this_pid_is_gone_after_a_restart():
    assert gone(f"{HOST}:{os.getpid()}:an-earlier-token") is True


def test_one_slack_click_has_one_key_and_another_click_another():
    body = {"user": {"id": "U1"}}
    click = {"action_ts": "1700000000.000001", "action_id": "approval.approve", "value": "12"}
    later = {**click, "action_ts": "1700000000.000002"}
    assert slack_click_key(body, click) == "U1:1700000000.000001:approval.approve:12"
    assert slack_click_key(body, later) != slack_click_key(body, click)


def test_a_teams_click_key_fits_its_column_however_long_the_conversation_id():
    assert teams_click_key("a:short", "act-1") == "a:short|act-1"
    assert len(teams_click_key("19:" + "x" * 400, "act-1")) == len("sha256:") + 64
    assert teams_click_key("a:short", None) is None
