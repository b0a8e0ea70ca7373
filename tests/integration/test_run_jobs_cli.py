"""`govbot run-jobs` says what it does to the trail: a `--now` later than the current
time warns on stderr, `--dry-run` prints what would run and writes nothing, and a
failed job is a failed exit."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import main
from tests.integration.lifecycle_seed import GOV, pending_request, seed


@pytest.fixture
def cli(monkeypatch, tmp_path, database_url):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", GOV)

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        code = main(list(argv), out=out)
        return code, out.getvalue(), err.getvalue()

    return run


def written(core) -> tuple[int, int, int]:
    with core.uow() as uow:
        return len(uow.audit.recent(1000)), len(uow.outbox.for_recipient("USEC", 500)), len(uow.jobs.recent())


def test_a_now_later_than_the_current_time_warns_naming_the_consequence(core, cli):
    code, _, err = cli("run-jobs", "--now", "2099-01-05T10:00:00Z")
    assert code == 0
    assert err.startswith("govbot run-jobs: warning: --now 2099-01-05T10:00:00+00:00 is later than the current time")
    assert "into the real audit trail and outbox dated in the future" in err
    assert "Use --dry-run" in err


def test_a_now_in_the_past_runs_without_a_warning(core, cli):
    code, _, err = cli("run-jobs", "--now", "2026-11-18T10:00:00Z")
    assert (code, err) == (0, "")


def test_dry_run_prints_what_would_run_and_writes_nothing(core, cli):
    p = seed(core, "in_review")
    pending_request(core, p.id, "USEC")
    before = written(core)
    code, out, err = cli("run-jobs", "--now", "2026-11-18T10:00:00Z", "--dry-run")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["dry_run"] is True
    assert (result["reminders"]["status"], result["reminders"]["reminded"]) == ("would_run", 1)
    assert written(core) == before
