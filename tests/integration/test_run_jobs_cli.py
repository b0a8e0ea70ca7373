"""`govbot run-jobs` says what it does to the trail: a `--now` later than the current
time warns on stderr, `--dry-run` prints what would run and writes nothing, and a
failed job is a failed exit."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import main
from tests.support.core_state import GOV
from tests.support.stages import pending_request, seed


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


def test_a_failed_job_is_a_failed_exit_naming_the_job(core, cli, monkeypatch):
    def broken(*args):  # weekly_job(uow, clock, settings, drafter, now)
        raise RuntimeError("LLM quota exhausted")

    monkeypatch.setattr("bot.service.digest.weekly_job", broken)
    code, out, err = cli("run-jobs", "--now", "2026-11-16T10:00:00Z")  # Monday after 09:00: the digest is due
    assert code == 1
    assert json.loads(out)["digest"]["status"] == "failed"
    assert err == (
        "govbot run-jobs: digest failed for 2026-W47: RuntimeError: LLM quota exhausted; the log has the "
        "details; draft it by hand with `govbot digest --post`\n"
    )


def test_an_output_file_that_cannot_be_written_is_one_line_not_a_traceback(core, cli, tmp_path):
    code, _, err = cli("export", "--format", "csv", "--output", str(tmp_path / "missing" / "x.csv"))
    assert code == 1
    assert err == (
        f"govbot export: --output: cannot write {tmp_path / 'missing' / 'x.csv'}: No such file or directory; "
        "give a path in a folder that exists\n"
    )
