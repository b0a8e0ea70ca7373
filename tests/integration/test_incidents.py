"""Incidents after go-live on the real store (DESIGN.md "After go-live" -> "Incidents"):
reporting, a high incident pausing a running workflow in the same transaction, resume
and promote refused while incidents are open, resolving, and `status --json`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event

from bot.cli import main
from bot.domain.errors import Refused, UsageError
from bot.messages.message import plain
from tests.support.core_state import GOV, audit_actions, audit_events, messages_for, stage_of
from tests.support.stages import OWNER, STRANGER, seed


def _incidents(core, proposal_id):
    with core.uow() as uow:
        return uow.incidents.for_proposal(proposal_id)


def test_high_incident_pauses_a_pilot_and_tells_owner_and_governance(core):
    p = seed(core, "pilot")
    msg = core.report_incident(STRANGER, p.id, "HIGH", "  It refunded one customer twice  ")
    assert plain(msg.text) == (
        'Incident 1 (high) recorded on #1 "Refund triage assistant". It was in pilot; govbot paused it. '
        "The owner and governance are told."
    )
    assert stage_of(core, p.id) == "paused"
    [incident] = _incidents(core, p.id)
    assert (incident.severity, incident.status, incident.text, incident.reported_by) == (
        "high",
        "open",
        "It refunded one customer twice",
        STRANGER,
    )
    assert audit_actions(core, p.id)[-2:] == ["incident.reported", "stage.paused"]
    assert audit_events(core, p.id, "stage.paused")[0].detail == {
        "from": "pilot",
        "to": "paused",
        "via": "incident",
        "incident_id": 1,
    }
    for user in (OWNER, GOV):
        [notice] = messages_for(core, user)
        assert notice.kind == "incident_reported"
        assert plain(notice.sections[0].text) == "It refunded one customer twice"
    assert messages_for(core, STRANGER) == []


def test_the_pause_is_in_the_same_transaction_as_the_incident(core):
    """The message to the owner cannot be queued: the incident, the pause and their
    audit events are not written either."""
    p = seed(core, "production")

    def fail_outbox(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            raise RuntimeError("outbox insert failed")

    event.listen(core.uow.engine, "before_cursor_execute", fail_outbox)
    try:
        with pytest.raises(RuntimeError):
            core.report_incident(STRANGER, p.id, "high", "It emailed the wrong customer")
    finally:
        event.remove(core.uow.engine, "before_cursor_execute", fail_outbox)
    assert stage_of(core, p.id) == "production"
    assert _incidents(core, p.id) == []
    assert audit_actions(core, p.id) == ["proposal.submitted"]


def test_other_incidents_do_not_pause(core):
    """A high incident on an approved workflow (not running yet), and low or medium ones
    on running workflows, are recorded; the stage stays."""
    for stage, severity in (("approved", "high"), ("pilot", "medium"), ("production", "low")):
        p = seed(core, stage)
        core.report_incident(STRANGER, p.id, severity, "Drafts were slow today")
        assert stage_of(core, p.id) == stage
        assert [i.severity for i in _incidents(core, p.id)] == [severity]


def test_open_incidents_block_resume_and_promote_until_resolved(core):
    p = seed(core, "pilot", use_area="none")  # the gate's other conditions hold once it has a check-in
    core.record_checkin(OWNER, p.id, "0.4")
    core.report_incident(STRANGER, p.id, "low", "One summary missed a ticket")
    with pytest.raises(Refused) as err:
        core.transition(OWNER, p.id, "promote")
    assert err.value.code == "open_incident"
    assert "open incident 1;" in plain(err.value.message)
    core.report_incident(STRANGER, p.id, "high", "It closed tickets on its own")
    with pytest.raises(Refused) as err:
        core.transition(GOV, p.id, "resume")
    assert plain(err.value.message) == (
        '#1 "Refund triage assistant" has open incidents 1, 2; it cannot resume until the owner or governance '
        "resolves them: resolve <incident id> <what was done>."
    )
    assert [e.detail["code"] for e in audit_events(core, p.id, "lifecycle.refused")] == [
        "open_incident",
        "open_incident",
    ]
    core.resolve_incident(OWNER, 1, "Re-ran the missed ticket")
    reply = core.resolve_incident(GOV, 2, "Closing is switched off")
    assert plain(reply.text) == (
        'Incident 2 on #1 "Refund triage assistant" is resolved. No incident is open any more: '
        "`resume 1` when it is safe to run again."
    )
    core.transition(OWNER, p.id, "resume")
    assert stage_of(core, p.id) == "pilot"
    core.transition(OWNER, p.id, "promote")
    assert stage_of(core, p.id) == "production"


def test_only_owner_or_governance_resolves_and_refusal_is_audited(core):
    p = seed(core, "pilot")
    core.report_incident(STRANGER, p.id, "medium", "Wrong tone in a reply")
    with pytest.raises(Refused) as err:
        core.resolve_incident(STRANGER, 1, "I think it is fine")
    assert err.value.code == "not_owner"
    [refusal] = audit_events(core, p.id, "lifecycle.refused")
    assert (refusal.actor, refusal.detail["attempt"], refusal.detail["code"]) == (
        STRANGER,
        "resolve incident 1",
        "not_owner",
    )
    assert [i.status for i in _incidents(core, p.id)] == ["open"]
    core.resolve_incident(OWNER, 1, "Prompt tone fixed")
    with pytest.raises(Refused) as err:
        core.resolve_incident(GOV, 1, "again")
    assert err.value.code == "already_resolved"
    [done] = _incidents(core, p.id)
    assert (done.status, done.resolution, done.resolved_by) == ("resolved", "Prompt tone fixed", OWNER)
    # the reporter hears what was done
    assert [m.kind for m in messages_for(core, STRANGER)] == ["incident_resolved"]


def test_bad_input_names_the_field_and_writes_nothing(core):
    p = seed(core, "pilot")
    cases = [
        (lambda: core.report_incident(STRANGER, p.id, "severe", "x"), "severity: 'severe' is not a severity"),
        (lambda: core.report_incident(STRANGER, p.id, "high", "  "), "what happened: say what happened"),
        (lambda: core.report_incident(STRANGER, p.id, "high", "a\x00b"), "what happened: contains a NUL"),
        (lambda: core.report_incident(STRANGER, p.id, "low", "x" * 2001), "what happened: at most 2000"),
        (lambda: core.report_incident(STRANGER, 99, "low", "x"), "id: there is no proposal 99"),
        (lambda: core.resolve_incident(OWNER, 42, "done"), "incident id: there is no incident 42"),
    ]
    for call, start in cases:
        with pytest.raises(UsageError) as err:
            call()
        assert err.value.message.startswith(start), err.value.message
    assert _incidents(core, p.id) == []
    assert stage_of(core, p.id) == "pilot"
    # a retried report (a platform retry, a double click) counts once
    core.report_incident(STRANGER, p.id, "low", "Sent a refund to the wrong account")
    again = core.report_incident(STRANGER, p.id, "low", "Sent a refund to the wrong account")
    assert "already recorded" in plain(again.text)
    assert len(_incidents(core, p.id)) == 1


def test_chat_commands_and_status_json(core, database_url, monkeypatch, tmp_path, capsys):
    p = seed(core, "production")
    reply = core.handle_command(STRANGER, "console", f"incident {p.id} high It wrote <!here> *bold* to a customer")
    assert reply.message.kind == "incident"
    usage = core.handle_command(STRANGER, "console", f"incident {p.id} urgent it broke")
    assert plain(usage.message.text).startswith("severity: 'urgent' is not a severity; allowed: low, medium, high.")
    refused = core.handle_command(STRANGER, "console", "resolve 1 nothing to see")
    assert refused.message.kind == "refused"
    core.handle_command(OWNER, "console", "resolve 1 Customer called, apology sent")
    core.handle_command(STRANGER, "console", f"incident {p.id} low Slow answers")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    assert main(["status", str(p.id), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [
        {k: i[k] for k in ("id", "severity", "status", "text", "reported_by", "resolution")} for i in data["incidents"]
    ] == [
        {
            "id": 1,
            "severity": "high",
            "status": "resolved",
            "text": "It wrote <!here> *bold* to a customer",
            "reported_by": STRANGER,
            "resolution": "Customer called, apology sent",
        },
        {
            "id": 2,
            "severity": "low",
            "status": "open",
            "text": "Slow answers",
            "reported_by": STRANGER,
            "resolution": None,
        },
    ]
    assert data["incidents"][0]["created_at"] == core.clock.now().isoformat()
    status = core.status(p.id, OWNER)
    [section] = [s for s in status.sections if s.title == "Incidents"]
    assert plain(section.text).splitlines()[0].startswith("• incident 2 (low, open) by <@UX")


def test_portfolio_digest_and_export_show_incidents(core, clock):
    running = seed(core, "production", title="Invoice matcher")
    pilot = seed(core, "pilot")
    core.report_incident(STRANGER, pilot.id, "low", "Slow drafts")
    clock.advance(hours=1)
    core.report_incident(STRANGER, running.id, "high", "Paid an invoice twice")
    core.report_incident(STRANGER, running.id, "medium", "Wrong supplier name")
    core.resolve_incident(OWNER, 3, "Supplier list refreshed")
    facts = core.portfolio_data()["incidents"]
    assert facts["open"] == 2
    assert facts["open_by_severity"] == {"high": 1, "medium": 0, "low": 1}
    assert [(i["id"], i["severity"], i["title"], i["stage"], i["text"]) for i in facts["items"]] == [
        (2, "high", "Invoice matcher", "paused", "Paid an invoice twice"),
        (1, "low", "Refund triage assistant", "pilot", "Slow drafts"),
    ]
    [section] = [s for s in core.portfolio().sections if (s.title or "").startswith("Open incidents")]
    assert section.title == "Open incidents: 2 (high 1, low 1)"
    clock.advance(minutes=1)  # a digest period ends before its `now`
    row = core.draft_digest(clock.now())
    assert row.facts["incidents"]["reported_this_week"] == 3
    assert row.facts["incidents"]["resolved_this_week"] == 1
    assert "text" not in row.facts["incidents"]["items"][0]
    assert '- incident 2 (high) on "Invoice matcher" (#1), paused' in row.text
    exported = json.loads(core.export("json"))["proposals"]
    assert [[(i["id"], i["status"], i["resolution"]) for i in p["incidents"]] for p in exported] == [
        [(2, "open", None), (3, "resolved", "Supplier list refreshed")],
        [(1, "open", None)],
    ]
    header, first, second = core.export("csv").splitlines()
    columns = header.split(",")
    assert dict(zip(columns, first.split(","), strict=True))["open_incidents"] == "2:high: Paid an invoice twice"
    assert dict(zip(columns, second.split(","), strict=True))["incidents"] == "1"
