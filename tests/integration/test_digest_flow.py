"""The digest without an LLM: stored record, review, posting, `digest here`, the weekly
schedule in the configured time zone, regenerate, and refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.errors import Refused, UsageError
from bot.messages.digest import digest_json
from bot.messages.message import DIGEST_POST, DIGEST_REGENERATE
from bot.service.digest import (
    digest_command,
    scheduled_period,
    weekly_job,
)
from bot.service.digest_writer import grounding_problems
from bot.settings import Settings, SettingsError, load_settings
from tests.support.clock import T0
from tests.support.portfolio import seed_portfolio, store_env

KEYS = [
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


def make_env(database_url, clock, **overrides):
    settings = Settings(database_url=database_url, governance="UGOV", _env_file=None, **overrides)
    return store_env(settings, clock)


@pytest.fixture
def env(database_url, clock):
    e = make_env(database_url, clock)
    seed_portfolio(e, T0)
    return e


def outbox(env):
    from sqlalchemy import select

    from store import models as m

    with env.uow() as uow:
        return [
            (r.channel, r.recipient, r.kind, r.payload, r.update_key)
            for r in uow.session.scalars(select(m.OutboxModel).order_by(m.OutboxModel.id))
        ]


def audit_actions(env):
    with env.uow() as uow:
        return [e.action for e in uow.audit.recent(200) if e.action.startswith("digest.")]


def test_without_llm_the_template_writes_it_and_says_so(env):
    row = env.draft_digest(T0, "UGOV")
    record = digest_json(row)
    assert list(record) == KEYS
    assert record["model"] == "template" and record["fallback_reason"] is None
    assert (record["tokens_in"], record["tokens_out"], record["status"]) == (0, 0, "draft")
    assert record["period_start"] == (T0 - timedelta(days=7)).isoformat() and record["period_end"] == T0.isoformat()
    assert "no LLM is configured" in row.text
    assert '"Security log triage" (#7)' in row.text
    assert grounding_problems(row.text, row.facts) == []
    with env.uow() as uow:
        assert digest_json(uow.digests.get(row.id)) == record
    assert audit_actions(env) == ["digest.drafted"]


def test_weekly_job_waits_for_the_configured_time_then_sends_for_review(env):
    assert weekly_job(env.uow(), env.clock, env.settings, env.drafter, T0 - timedelta(minutes=1)) is None
    result = weekly_job(env.uow(), env.clock, env.settings, env.drafter, T0 + timedelta(minutes=5))
    with env.uow() as uow:
        row = uow.digests.get(result["digest_id"])
    assert (row.period_start, row.period_end) == (T0 - timedelta(days=7), T0)  # the scheduled moment
    assert row.status == "in_review" and result["review"] is True
    [(channel, recipient, kind, payload, _)] = outbox(env)
    assert (channel, recipient, kind) == ("console", "UGOV", "digest")
    assert [(b["action"], b["value"]) for b in payload["buttons"]] == [
        (DIGEST_POST, str(row.id)),
        (DIGEST_REGENERATE, str(row.id)),
    ]


def test_schedule_uses_day_time_and_time_zone(database_url, clock):
    settings = Settings(
        database_url=database_url, _env_file=None, timezone="Europe/Berlin", digest_day="mon", digest_time="09:00"
    )
    # 09:00 in Berlin (winter) is 08:00 UTC
    assert scheduled_period(settings, T0 - timedelta(hours=1, minutes=1)) is None
    start, end = scheduled_period(settings, T0 - timedelta(minutes=59))
    assert end == T0 - timedelta(hours=1) and start == end - timedelta(days=7)
    friday = Settings(database_url=database_url, _env_file=None, digest_day="fri", digest_time="16:30")
    assert scheduled_period(friday, T0 + timedelta(days=3)) is None  # Thursday
    assert scheduled_period(friday, T0 + timedelta(days=4, hours=8))[1] == T0 + timedelta(days=4, hours=7, minutes=30)
    with pytest.raises(SettingsError, match="GOVBOT_DIGEST_TIME"):  # refused at start-up, before any job runs
        load_settings(database_url=database_url, _env_file=None, digest_time="9am")


def test_post_needs_a_channel_then_goes_to_slack_and_teams_once(database_url, clock):
    env = make_env(database_url, clock, digest_teams_conversation="19:team-conv")
    row = env.draft_digest(T0)
    with pytest.raises(Refused):
        env.post_digest("USTRANGER", row.id)
    assert "digest.refused" in audit_actions(env)

    plain = make_env(database_url, clock)
    with plain.uow() as uow:
        assert uow.digests.get(row.id).status == "draft"
    note = plain.post_digest("UGOV", row.id)
    assert "No digest channel is configured" in note.text and "digest here" in note.text
    assert outbox(env) == []

    msg = digest_command(
        env.uow(), env.clock, env.settings, env.drafter, "UGOV", "slack", ["here"], conversation_id="C0DIGEST"
    )
    assert "C0DIGEST" in msg.text
    done = env.post_digest("UGOV", row.id)
    assert "slack:C0DIGEST" in done.text and "teams:19:team-conv" in done.text
    posts = [(c, r) for c, r, k, p, u in outbox(env) if not p["buttons"] and u is None]
    assert posts == [("slack", "C0DIGEST"), ("teams", "19:team-conv")]
    with env.uow() as uow:
        stored = uow.digests.get(row.id)
    assert stored.status == "posted" and stored.posted_to == ["slack:C0DIGEST", "teams:19:team-conv"]
    before = len(outbox(env))
    again = env.post_digest("UGOV", row.id)
    assert "already posted" in again.text and len(outbox(env)) == before


def test_posting_updates_the_review_copies(env):
    env.settings.digest_slack_channel = "CDIG"
    row = env.draft_digest(T0)
    from bot.service.digest import send_for_review

    send_for_review(env.uow(), env.clock, env.settings, row)
    env.post_digest("UGOV", row.id)
    updates = [(r, p) for c, r, k, p, u in outbox(env) if u == f"digest:{row.id}:review:UGOV"]
    assert len(updates) == 1 and updates[0][1]["buttons"] == []
    assert "Posted by <@UGOV> to slack:CDIG" in updates[0][1]["sections"][-1]["text"]


def test_review_off_posts_at_once(database_url, clock):
    env = make_env(database_url, clock, digest_review=False, digest_slack_channel="CDIG")
    result = weekly_job(env.uow(), env.clock, env.settings, env.drafter, T0)
    assert result["review"] is False and "CDIG" in result["posted"]
    with env.uow() as uow:
        assert uow.digests.get(result["digest_id"]).status == "posted"


def test_regenerate_is_governance_only_and_keeps_the_period(env):
    first = env.draft_digest(T0 - timedelta(hours=1))
    with pytest.raises(Refused, match="Only governance"):
        env.regenerate_digest("UOWN", first.id)
    msg = env.regenerate_digest("UGOV", first.id)
    new_id = msg.meta["digest_id"]
    assert new_id != first.id and [b.action for b in msg.buttons] == [DIGEST_POST, DIGEST_REGENERATE]
    with env.uow() as uow:
        new = uow.digests.get(new_id)
    assert (new.period_start, new.period_end) == (first.period_start, first.period_end)
    assert new.status == "in_review"
    [(_, _, _, payload, _)] = [o for o in outbox(env) if o[4] == f"digest:{first.id}:review:UGOV"]
    assert payload["buttons"] == [] and f"Replaced by digest #{new_id}" in payload["sections"][-1]["text"]
    assert "digest.regenerated" in audit_actions(env)


def test_digest_command(env):
    shown = digest_command(env.uow(), env.clock, env.settings, env.drafter, "UOWN", "slack", [])
    assert "No digest has been posted yet" in shown.text
    review = digest_command(env.uow(), env.clock, env.settings, env.drafter, "UGOV", "slack", [])
    assert [b.action for b in review.buttons] == [DIGEST_POST, DIGEST_REGENERATE]
    with pytest.raises(Refused):
        digest_command(env.uow(), env.clock, env.settings, env.drafter, "UOWN", "slack", ["here"], conversation_id="C1")
    with pytest.raises(UsageError, match="Slack channel or a Teams conversation"):
        digest_command(
            env.uow(), env.clock, env.settings, env.drafter, "UGOV", "console", ["here"], conversation_id="x"
        )
    with pytest.raises(UsageError, match="conversation id is missing"):
        digest_command(env.uow(), env.clock, env.settings, env.drafter, "UGOV", "teams", ["here"])
    with pytest.raises(UsageError, match="unknown option 'weekly'"):
        digest_command(env.uow(), env.clock, env.settings, env.drafter, "UGOV", "slack", ["weekly"])
    with pytest.raises(UsageError, match="there is no digest 999"):
        digest_command(env.uow(), env.clock, env.settings, env.drafter, "UGOV", "console", ["post", "999"])
    digest_command(env.uow(), env.clock, env.settings, env.drafter, "UGOV", "teams", ["here", "19:typed"])
    digest_command(
        env.uow(), env.clock, env.settings, env.drafter, "UGOV", "console", ["post", str(review.meta["digest_id"])]
    )
    posted = digest_command(env.uow(), env.clock, env.settings, env.drafter, "UOWN", "slack", [])
    assert posted.meta["digest_id"] == review.meta["digest_id"] and not posted.buttons


def test_chat_commands_through_the_core(core):
    seed_portfolio(core, T0)
    reply = core.handle_command("UGOV", "slack", "digest here", conversation_id="C0CHAN")
    assert "C0CHAN" in reply.message.text and reply.ephemeral is False
    with core.uow() as uow:
        assert uow.keyvalues.get("digest.channel.slack") == "C0CHAN"
    reply = core.handle_command("UGOV", "slack", "digest")
    assert [b.action for b in reply.message.buttons] == [DIGEST_POST, DIGEST_REGENERATE]
    refused = core.handle_command("UOWN", "slack", "digest here", conversation_id="C0OTHER")
    assert "Only governance" in refused.message.plain_text()
    done = core.post_digest("UGOV", reply.message.meta["digest_id"])
    assert "slack:C0CHAN" in done.text


def test_jobs_runner_drafts_the_weekly_digest_once(core, clock):

    seed_portfolio(core, T0)
    first = core.run_due(T0 + timedelta(minutes=1))["digest"]
    assert first["status"] == "done" and first["result"]["review"] is True
    again = core.run_due(T0 + timedelta(hours=2))["digest"]
    assert again["status"] == "skipped"
    with core.uow() as uow:
        row = uow.digests.latest()
    assert row.id == first["result"]["digest_id"] and row.status == "in_review"
    assert (row.period_start, row.period_end) == (T0 - timedelta(days=7), T0)
