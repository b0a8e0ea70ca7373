"""Every repository of the SQL store round-trips its records (SQLite, then PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.domain.errors import NotFound
from bot.domain.records import (
    Checkin,
    ConversationRef,
    Delegation,
    DigestRow,
    InterviewDraft,
)
from store.db import make_engine
from store.uow import SqlUnitOfWorkFactory
from tests.support.clock import T0
from tests.support.proposals import make_proposal
from tests.support.records import add_proposal, decision_row, request_row


@pytest.fixture
def uow(database_url):
    factory = SqlUnitOfWorkFactory(make_engine(database_url))
    yield factory
    factory.dispose()


def test_proposal_round_trip_and_queries(uow):
    first = add_proposal(uow)
    second = add_proposal(uow, title="Other", requester="UOTHER", owner="UREQ", stage="pilot")
    assert first.id and second.id and first.id != second.id
    with uow() as u:
        got = u.proposals.get(first.id)
        assert got == first
        assert got.answers == make_proposal(title="Refund drafts")
        assert [p.id for p in u.proposals.by_requester("UREQ")] == [first.id]
        assert [p.id for p in u.proposals.by_owner("UREQ")] == [second.id]
        assert [p.id for p in u.proposals.in_stages(["pilot", "production"])] == [second.id]
        assert [p.id for p in u.proposals.list()] == [first.id, second.id]
        assert [p.id for p in u.proposals.list(limit=1, offset=1)] == [second.id]
        assert u.proposals.count() == 2
        with pytest.raises(NotFound):
            u.proposals.get(first.id + 1000)


def test_proposal_update_writes_every_field(uow):
    row = add_proposal(uow)
    later = T0 + timedelta(days=2)
    changed = replace(
        row,
        created_at=T0 - timedelta(days=30),
        stage="pilot",
        risk_level="medium",
        owner="UNEW",
        autonomy="human_approves",
        revision=2,
        answers={"title": "Refund drafts v2"},
        updated_at=later,
        stage_changed_at=later,
        capacity="strategic",
        eu_tier="limited",
        department="Ops",
        title="Refund drafts v2",
    )
    with uow() as u:
        u.proposals.update(changed)
        u.commit()
    with uow() as u:
        assert u.proposals.get(row.id) == changed
        with pytest.raises(NotFound):
            u.proposals.update(replace(changed, id=row.id + 99))


def test_every_revision_of_the_answers_is_kept(uow):
    row = add_proposal(uow)
    with uow() as u:
        assert u.proposals.add_revision(row.id, {"title": "v2"}, "UREQ", T0 + timedelta(hours=1)) == 2
        assert u.proposals.add_revision(row.id, {"title": "v3"}, "UEDIT", T0 + timedelta(hours=2)) == 3
        u.commit()
    with uow() as u:
        revisions = u.proposals.revisions(row.id)
    assert [(r.revision, r.answers, r.author) for r in revisions] == [
        (1, row.answers, "UREQ"),
        (2, {"title": "v2"}, "UREQ"),
        (3, {"title": "v3"}, "UEDIT"),
    ]
    assert revisions[2].created_at == T0 + timedelta(hours=2)


def test_classifications_latest_wins(uow):
    row = add_proposal(uow)
    with uow() as u:
        assert u.classifications.latest(row.id) is None
        u.classifications.add(row.id, 1, {"risk_level": "low", "reasons": []}, T0)
        second = u.classifications.add(row.id, 2, {"risk_level": "high", "reasons": ["x"]}, T0 + timedelta(1))
        u.commit()
    with uow() as u:
        latest = u.classifications.latest(row.id)
    assert latest == second
    assert (latest.revision, latest.risk_level, latest.result["reasons"]) == (2, "high", ["x"])


def test_stop_conditions_open_override_resolve_and_reopen(uow):
    row = add_proposal(uow)
    t1, t2, t3 = (T0 + timedelta(hours=h) for h in (1, 2, 3))
    with uow() as u:
        u.stop_conditions.set_open(row.id, ["no_owner", "invisible_failure"], T0)
        over = u.stop_conditions.override(row.id, "invisible_failure", "UGOV", "monitored by QA", t1)
        assert (over.status, over.overridden_by, over.override_reason) == ("overridden", "UGOV", "monitored by QA")
        u.commit()
    with uow() as u:  # re-classified: the override stands, a vanished code is resolved, a new one opens
        u.stop_conditions.set_open(row.id, ["invisible_failure", "unmeasurable_success"], t2)
        u.commit()
    with uow() as u:
        state = {s.code: (s.status, s.override_reason) for s in u.stop_conditions.for_proposal(row.id)}
        assert state == {
            "invisible_failure": ("overridden", "monitored by QA"),
            "no_owner": ("resolved", None),
            "unmeasurable_success": ("open", None),
        }
        u.stop_conditions.set_open(row.id, ["no_owner"], t3)
        u.commit()
    with uow() as u:
        rows = {s.code: s for s in u.stop_conditions.for_proposal(row.id)}
        assert {c: s.status for c, s in rows.items()} == {
            "invisible_failure": "resolved",
            "no_owner": "open",
            "unmeasurable_success": "resolved",
        }
        assert rows["no_owner"].changed_at == t3
        with pytest.raises(NotFound):
            u.stop_conditions.override(row.id, "prohibited_practice", "UGOV", "why", t3)


def test_approvals_round_trip_and_queries(uow):
    row = add_proposal(uow)
    with uow() as u:
        a = u.approvals.add(request_row(row.id))
        b = u.approvals.add(
            request_row(
                row.id,
                role="owner",
                approver="UOWN",
                created_at=T0 + timedelta(days=3),
                sequence=0,
                kind="autonomy",
                target="human_monitors",
                note="n",
            )
        )
        u.commit()
    with uow() as u:
        assert u.approvals.get(a.id) == a
        assert u.approvals.get(b.id, for_update=True) == b
        assert u.approvals.for_proposal(row.id) == [a, b]
        assert u.approvals.pending_for("UFIN") == [a]
        assert u.approvals.pending_older_than(T0 + timedelta(days=1)) == [a]
        decided = replace(
            a,
            status="approved",
            decided_at=T0 + timedelta(hours=5),
            reminded_at=T0 + timedelta(hours=1),
            escalated_at=T0 + timedelta(hours=2),
            approver="UGOV",
            note="escalated",
            created_at=T0 - timedelta(days=1),
        )
        u.approvals.update(decided)
        u.commit()
    with uow() as u:
        assert u.approvals.get(a.id) == decided
        assert u.approvals.pending_for("UFIN") == []
        assert u.approvals.pending_older_than(T0 + timedelta(days=10)) == [b]
        with pytest.raises(NotFound):
            u.approvals.get(b.id + 100)


def test_decisions_round_trip(uow):
    row = add_proposal(uow)
    with uow() as u:
        req = u.approvals.add(request_row(row.id))
        other = u.approvals.add(request_row(row.id, role="owner", approver="UOWN"))
        d1 = u.decisions.add(decision_row(req.id, actor="UDEL", on_behalf_of="UFIN", comment="ok"))
        d2 = u.decisions.add(decision_row(other.id, decision="request_changes", override_reason="r"))
        u.commit()
    with uow() as u:
        assert u.decisions.for_request(req.id) == d1
        assert u.decisions.for_proposal(row.id) == [d1, d2]
        assert u.decisions.for_request(req.id + 100) is None


def test_audit_add_and_read(uow):
    row = add_proposal(uow)
    with uow() as u:
        u.audit.add(row.id, "UREQ", "proposal.submitted", {"revision": 1}, T0)
        u.audit.add(None, "UGOV", "roles.set", {"role": "finance"}, T0 + timedelta(minutes=1))
        u.audit.add(row.id, "UFIN", "decision.approve", {"request": 3}, T0 + timedelta(minutes=2))
        u.commit()
    with uow() as u:
        trail = u.audit.for_proposal(row.id)
        recent = u.audit.recent(2)
    assert [(e.actor, e.action, e.detail) for e in trail] == [
        ("UREQ", "proposal.submitted", {"revision": 1}),
        ("UFIN", "decision.approve", {"request": 3}),
    ]
    assert [e.action for e in recent] == ["decision.approve", "roles.set"]
    assert recent[1].proposal_id is None and recent[1].created_at == T0 + timedelta(minutes=1)


def test_role_directory_replace_and_lookup(uow):
    with uow() as u:
        u.roles.set("department_lead", "Finance", ["U1", "U2", "U1"], "UGOV", T0)
        u.roles.set("security", "", ["U2"], "UGOV", T0)
        u.commit()
    with uow() as u:
        assert u.roles.holders("department_lead", "Finance") == ["U1", "U2"]
        assert u.roles.holders("department_lead", "Ops") == []
        assert u.roles.holders("security") == ["U2"]
        u.roles.set("department_lead", "Finance", ["U3", "U2"], "UADMIN", T0 + timedelta(days=1))
        u.commit()
    with uow() as u:
        assert sorted(u.roles.holders("department_lead", "Finance")) == ["U2", "U3"]
        by_user = {(a.role, a.department): a for a in u.roles.roles_of("U2")}
        assert set(by_user) == {("department_lead", "Finance"), ("security", "")}
        assert by_user[("department_lead", "Finance")].assigned_by == "UGOV"  # kept, not re-created
        assert [(a.role, a.department, a.user_id) for a in u.roles.all()] == [
            ("department_lead", "Finance", "U2"),
            ("department_lead", "Finance", "U3"),
            ("security", "", "U2"),
        ]
        u.roles.set("security", "", [], "UGOV", T0)
        u.commit()
    with uow() as u:
        assert u.roles.holders("security") == []


def test_delegations_in_range_only(uow):
    week = Delegation(
        id=0,
        user_id="UFIN",
        delegate_id="UDEL",
        starts_at=T0,
        ends_at=T0 + timedelta(days=7),
        created_by="UFIN",
        created_at=T0,
    )
    with uow() as u:
        stored = u.delegations.add(week)
        u.delegations.add(
            replace(week, user_id="USEC", starts_at=T0 + timedelta(days=10), ends_at=T0 + timedelta(days=12))
        )
        u.commit()
    assert stored.id and replace(stored, id=0) == week
    with uow() as u:
        assert u.delegations.active_for("UFIN", T0 + timedelta(days=1)) == [stored]
        assert u.delegations.active_for("UFIN", T0 + timedelta(days=7)) == []
        assert u.delegations.active_for("UFIN", T0 - timedelta(seconds=1)) == []
        assert u.delegations.delegators_of("UDEL", T0 + timedelta(days=11)) == ["USEC"]
        assert u.delegations.delegators_of("UDEL", T0) == ["UFIN"]


def test_conversation_refs_upsert(uow):
    ref = ConversationRef(
        platform="teams",
        user_id="29:abc",
        conversation_id="a:1",
        reference={"serviceUrl": "http://127.0.0.1", "conversation": {"id": "a:1"}},
        updated_at=T0,
    )
    with uow() as u:
        u.conversations.upsert(ref)
        u.commit()
    newer = replace(
        ref, conversation_id="a:2", reference={"conversation": {"id": "a:2"}}, updated_at=T0 + timedelta(hours=1)
    )
    with uow() as u:
        assert u.conversations.get("teams", "29:abc") == ref
        u.conversations.upsert(newer)
        u.commit()
    with uow() as u:
        assert u.conversations.get("teams", "29:abc") == newer
        assert u.conversations.get("slack", "29:abc") is None


def test_outbox_queue_dedupe_deliver_and_retry(uow):
    row = add_proposal(uow)
    payload = {"kind": "approval_request", "text": "Please decide", "meta": {"proposal_id": row.id}}
    with uow() as u:
        first = u.outbox.add(
            "slack",
            "UFIN",
            "approval_request",
            payload,
            T0,
            ref_key="req:1",
            thread_key="proposal:1",
            update_key=None,
            dedupe_key="approval:1",
        )
        duplicate = u.outbox.add("slack", "UFIN", "approval_request", payload, T0, dedupe_key="approval:1")
        plain = u.outbox.add("teams", "29:x", "notice", {"text": "hi"}, T0)
        again = u.outbox.add("teams", "29:x", "notice", {"text": "hi"}, T0)
        u.commit()
    assert duplicate is None and first is not None and plain is not None and again is not None
    assert (first.status, first.attempts, first.next_attempt_at, first.ref_key) == ("pending", 0, T0, "req:1")
    with uow() as u:
        assert u.outbox.due(["slack"], T0) == [first]
        assert u.outbox.due(["slack"], T0 - timedelta(seconds=1)) == []
        assert [r.id for r in u.outbox.due(["slack", "teams"], T0)] == [first.id, plain.id, again.id]
        assert u.outbox.pending_for_proposal(row.id) == [first]
        assert u.outbox.claim(first.id, T0, T0 + timedelta(minutes=5)) is True
        assert u.outbox.claim(first.id, T0, T0 + timedelta(minutes=5)) is False  # leased
        u.outbox.mark_retry(first.id, "HTTP 503", T0 + timedelta(minutes=1), give_up=False)
        u.outbox.mark_sent(plain.id, T0 + timedelta(seconds=2))
        u.outbox.mark_retry(again.id, "channel_not_found", T0, give_up=True)
        u.commit()
    with uow() as u:
        retry = u.outbox.for_recipient("UFIN")[0]
        assert (retry.status, retry.attempts, retry.last_error) == ("pending", 1, "HTTP 503")
        assert retry.next_attempt_at == T0 + timedelta(minutes=1)
        sent, failed = sorted(u.outbox.for_recipient("29:x"), key=lambda r: r.id)
        assert (sent.status, sent.sent_at, sent.attempts) == ("sent", T0 + timedelta(seconds=2), 1)
        assert (failed.status, failed.last_error) == ("failed", "channel_not_found")
        assert u.outbox.due(["teams"], T0 + timedelta(days=1)) == []
        assert u.outbox.pending_for_proposal(row.id) == [retry]
        with pytest.raises(NotFound):
            u.outbox.mark_sent(failed.id + 100, T0)


def test_message_refs_put_and_replace(uow):
    with uow() as u:
        assert u.message_refs.get("approval:1") is None
        u.message_refs.put("approval:1", "slack", {"channel": "D1", "ts": "1.1"})
        u.commit()
    with uow() as u:
        assert u.message_refs.get("approval:1") == {"channel": "D1", "ts": "1.1"}
        u.message_refs.put("approval:1", "slack", {"channel": "D1", "ts": "2.2"})
        u.commit()
    with uow() as u:
        assert u.message_refs.get("approval:1") == {"channel": "D1", "ts": "2.2"}


def test_checkins_ordered_with_latest(uow):
    row = add_proposal(uow, stage="pilot")
    with uow() as u:
        assert u.checkins.latest(row.id) is None
        early = u.checkins.add(
            Checkin(
                id=0,
                proposal_id=row.id,
                value="12 loops saved",
                note=None,
                reported_by="UOWN",
                period="2026-W47",
                created_at=T0,
            )
        )
        late = u.checkins.add(
            Checkin(
                id=0,
                proposal_id=row.id,
                value="20 loops saved",
                note="better",
                reported_by="UOWN",
                period="2026-W48",
                created_at=T0 + timedelta(days=7),
            )
        )
        u.commit()
    with uow() as u:
        assert u.checkins.for_proposal(row.id) == [early, late]
        assert u.checkins.latest(row.id) == late


def test_jobs_claim_finish_recent(uow):
    with uow() as u:
        assert u.jobs.claim("reminders", "2026-11-16T09", "host-a", T0) is True
        assert u.jobs.claim("reminders", "2026-11-16T09", "host-b", T0) is False
        assert u.jobs.claim("reminders", "2026-11-16T10", "host-b", T0 + timedelta(hours=1)) is True
        u.jobs.finish("reminders", "2026-11-16T09", "done", {"reminded": 3}, T0 + timedelta(seconds=5))
        u.commit()
    with uow() as u:
        recent = u.jobs.recent()
        with pytest.raises(NotFound):
            u.jobs.finish("digest", "2026-W47", "done", {}, T0)
    assert [(j.period, j.claimed_by, j.status) for j in recent] == [
        ("2026-11-16T10", "host-b", "running"),
        ("2026-11-16T09", "host-a", "done"),
    ]
    assert recent[1].detail == {"reminded": 3} and recent[1].finished_at == T0 + timedelta(seconds=5)
    assert recent[0].detail == {} and recent[0].finished_at is None


def test_digests_round_trip(uow):
    digest = DigestRow(
        id=0,
        period_start=T0 - timedelta(days=7),
        period_end=T0,
        facts={"new": 3, "titles": ["A"]},
        prompt_name="weekly_digest",
        prompt_version="1",
        model="template",
        text="3 new proposals",
        tokens_in=0,
        tokens_out=0,
        latency_ms=4,
        status="in_review",
        fallback_reason=None,
        posted_to=[],
        created_at=T0,
    )
    with uow() as u:
        assert u.digests.latest() is None
        stored = u.digests.add(digest)
        u.commit()
    assert replace(stored, id=0, audit_head=None) == digest  # the store adds the audit chain head
    posted = replace(stored, status="posted", posted_to=["slack:C1", "teams:19:x"], fallback_reason="wrong number")
    with uow() as u:
        assert u.digests.get(stored.id) == stored
        u.digests.update(posted)
        u.commit()
    with uow() as u:
        assert u.digests.latest() == posted
        with pytest.raises(NotFound):
            u.digests.get(stored.id + 1)


def test_interview_drafts_put_get_delete(uow):
    draft = InterviewDraft(
        channel="console", user_id="U1", answers={"title": "x"}, step="data", proposal_id=None, updated_at=T0
    )
    with uow() as u:
        u.drafts.put(draft)
        u.commit()
    with uow() as u:
        assert u.drafts.get("console", "U1") == draft
        u.drafts.put(replace(draft, answers={"title": "y"}, step=None, proposal_id=None))
        u.commit()
    with uow() as u:
        assert u.drafts.get("console", "U1").answers == {"title": "y"}
        assert u.drafts.get("slack", "U1") is None
        u.drafts.delete("console", "U1")
        u.drafts.delete("console", "nobody")
        u.commit()
    with uow() as u:
        assert u.drafts.get("console", "U1") is None


def test_settings_key_value(uow):
    with uow() as u:
        assert u.keyvalues.get("digest.slack_channel") is None
        u.keyvalues.put("digest.slack_channel", "C1")
        u.commit()
    with uow() as u:
        u.keyvalues.put("digest.slack_channel", "C2")
        u.commit()
    with uow() as u:
        assert u.keyvalues.get("digest.slack_channel") == "C2"
