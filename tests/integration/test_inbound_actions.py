"""Acknowledged actions on the real store (`bot.service.inbound`): recorded before the
acknowledgement, processed from the record exactly once, taken over from a process that
is gone or whose lease ran out, failures told to the person and kept visible."""

from __future__ import annotations

import io

import pytest

from bot.cli import main
from bot.domain.errors import UsageError
from bot.service.inbound import LEASE, MAX_ATTEMPTS
from tests.support.clock import T0
from tests.support.core_state import decisions, messages_for, requests_by_role
from tests.support.proposals import make_proposal

A, B = "host:1:a", "host:2:b"  # two processes' owner names


def nobody_gone(_owner):
    return False


def gone_a(owner):
    return owner == A


@pytest.fixture
def owner_request(core):
    result = core.submit("U_REQ", "console", make_proposal())
    return requests_by_role(core, result.proposal_id)["owner"]


def _approve(core, request, key="click-1", owner=A):
    payload = {"request_id": request.id, "decision": "approve", "in_place": {"channel": "D1", "ts": "1.2"}}
    return core.receive_action("slack", key, "U_OWNER", "decide", payload, owner)


def test_a_recorded_click_is_decided_once_and_done_however_often_it_is_processed(core, owner_request):
    action = _approve(core, owner_request)
    first = core.process_action(action.id, A)
    again = core.process_action(action.id, A)
    report = core.actions_report()
    assert (first.status, again, decisions(core, owner_request.proposal_id)) == (
        "recorded",
        None,
        [("U_OWNER", "approve")],
    )
    assert report["counts"] == {"received": 0, "done": 1, "failed": 0}


def test_a_repeated_delivery_of_one_click_is_not_recorded_twice(core, owner_request):
    first = _approve(core, owner_request)
    repeat = _approve(core, owner_request, owner=B)
    assert (first is not None, repeat, core.actions_report()["counts"]["received"]) == (True, None, 1)


def test_a_bad_payload_names_the_field_and_writes_nothing(core, owner_request):
    with pytest.raises(UsageError, match="decision: must be one of approve, reject, request_changes"):
        core.receive_action("slack", "k", "U_OWNER", "decide", {"request_id": owner_request.id, "decision": "ok"}, A)
    assert core.actions_report()["counts"] == {"received": 0, "done": 0, "failed": 0}


def test_an_action_whose_process_is_gone_is_resumed_decided_and_the_person_told(core, owner_request):
    action = _approve(core, owner_request)  # process A recorded and acknowledged it, then died
    taken = core.resume_actions(B, gone_a)
    outcome = core.process_action(action.id, B, resumed=True)
    told = [m.text for m in messages_for(core, "U_OWNER") if m.kind == "notice"]
    assert (taken, outcome.status, decisions(core, owner_request.proposal_id)) == (
        [action.id],
        "recorded",
        [("U_OWNER", "approve")],
    )
    assert told == [f"Your approval on request {owner_request.id} reached me before a restart; {outcome.notice}"]


def test_an_action_held_by_a_live_process_is_left_alone_until_its_lease_runs_out(core, clock, owner_request):
    action = _approve(core, owner_request)
    early = core.resume_actions(B, nobody_gone)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    late = core.resume_actions(B, nobody_gone)
    assert (early, late, core.process_action(action.id, A)) == ([], [action.id], None)  # A lost it to B


def test_an_action_that_cannot_be_recorded_is_failed_visible_and_told(core, owner_request):
    payload = {"request_id": 999_999, "decision": "approve"}
    action = core.receive_action("teams", "act-9", "U_OWNER", "decide", payload, A)
    core.resume_actions(B, gone_a)
    with pytest.raises(UsageError):
        core.process_action(action.id, B, resumed=True)
    failed = core.actions_report("failed")["actions"]
    told = [m.text for m in messages_for(core, "U_OWNER") if m.kind == "notice"]
    assert [(a["id"], a["platform"], a["request_id"]) for a in failed] == [(action.id, "teams", 999_999)]
    assert told == [
        "Sorry, your approval on request 999999 was not recorded: request id: there is no approval request "
        "999999. Nothing was decided; please try again."
    ]


def test_an_action_taken_over_too_often_is_given_up_and_told(core, owner_request):
    action = _approve(core, owner_request)
    for n in range(MAX_ATTEMPTS):  # each process that took it died before finishing
        core.resume_actions(f"host:{10 + n}:x", lambda owner: True)
    assert core.resume_actions("host:99:y", lambda owner: True) == []
    told = [m.text for m in messages_for(core, "U_OWNER") if m.kind == "notice"]
    assert [a["id"] for a in core.actions_report("failed")["actions"]] == [action.id]
    assert decisions(core, owner_request.proposal_id) == []
    assert told == [
        f"Sorry, your approval on request {owner_request.id} was not recorded: it failed {MAX_ATTEMPTS} times (the "
        "server stopped while recording it). Nothing was decided; please try again."
    ]


def test_govbot_actions_lists_the_failed_ones_with_why(core, owner_request, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", "UGOV")
    monkeypatch.chdir(tmp_path)  # no stray .env
    action = core.receive_action("slack", "k-7", "U_OWNER", "decide", {"request_id": 424242, "decision": "approve"}, A)
    with pytest.raises(UsageError):
        core.process_action(action.id, A)
    out = io.StringIO()
    code = main(["actions", "--status", "failed"], out=out, stdin=io.StringIO())
    assert (code, out.getvalue().splitlines()) == (
        0,
        [
            "0 received, 0 done, 1 failed",
            f"#{action.id} failed   slack U_OWNER approve request 424242 at {T0.isoformat()} (1 attempt): "
            "request id: there is no approval request 424242",
        ],
    )


def test_a_live_action_that_fails_is_told_by_its_channel_not_the_outbox_too(core, owner_request):
    payload = {"request_id": 424242, "decision": "approve"}
    action = core.receive_action("slack", "k-8", "U_OWNER", "decide", payload, A)
    with pytest.raises(UsageError):
        core.process_action(action.id, A)
    assert [m.text for m in messages_for(core, "U_OWNER") if m.kind == "notice"] == []


def test_a_burst_is_recorded_together_and_a_bad_click_in_it_fails_alone(core, owner_request):
    good = {"request_id": owner_request.id, "decision": "approve"}
    results = core.receive_actions(
        [
            ("slack", "b-1", "U_OWNER", "decide", good),
            ("slack", "b-2", "U_OWNER", "decide", {**good, "decision": "nod"}),
            ("slack", "b-1", "U_OWNER", "decide", good),  # delivered twice in the same burst
        ],
        A,
    )
    assert [type(r).__name__ for r in results] == ["InboundAction", "UsageError", "NoneType"]
    assert core.actions_report()["counts"] == {"received": 1, "done": 0, "failed": 0}
