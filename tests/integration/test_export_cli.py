"""The command line over this work: `govbot audit`, `export`, `audit-pack` and
`run-jobs --now`, run as `bot.cli.main` against the test database."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pypdf import PdfReader

from bot.cli import main
from tests.support.core_state import GOV, outbox_for
from tests.support.stages import OWNER, pending_request, seed


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", GOV)
    return tmp_path


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_audit_export_and_pack_from_the_command_line(core, cli_env, capsys):
    p = seed(core, "approved", stops=("invisible_failure",), title="Invoice matcher")
    core.override_stop(GOV, p.id, "invisible_failure", "daily sample review")
    core.record_checkin(OWNER, p.id, "14")

    code, text = _run("audit", str(p.id))
    assert code == 0
    assert "stop_condition.overridden" in text and "reason: daily sample review" in text

    code, text = _run("export", "--format", "csv")
    assert code == 0
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["title"], row["stage"], row["latest_checkin_value"]) == ("Invoice matcher", "pilot", "14")

    code, text = _run("export", "--format", "json")
    assert code == 0 and json.loads(text)["proposals"][0]["stage"] == "pilot"

    code, text = _run("audit-pack", str(p.id), "--format", "pdf", "--output", "pack.pdf")
    assert code == 0
    pdf = PdfReader(str(cli_env / "pack.pdf"))
    assert "daily sample review" in " ".join(page.extract_text() for page in pdf.pages)

    code, text = _run("audit-pack", str(p.id), "--format", "md", "--output", "pack.md")
    assert code == 0 and (cli_env / "pack.md").read_text(encoding="utf-8").startswith("# Audit pack:")

    code, _ = _run("audit", "999")
    assert code != 0
    assert "there is no proposal 999" in capsys.readouterr().err


def test_run_jobs_now_from_cron(core, cli_env):
    p = seed(core, "in_review")
    pending_request(core, p.id, "USEC")
    code, text = _run("run-jobs", "--now", "2026-11-18T10:00:00Z")
    assert code == 0
    result = json.loads(text)
    assert result["reminders"]["status"] == "done" and result["reminders"]["reminded"] == 1
    assert len([r for r in outbox_for(core, "USEC") if r.kind == "approval_reminder"]) == 1

    code, text = _run("run-jobs", "--now", "2026-11-18T10:30:00Z")
    assert json.loads(text)["reminders"]["status"] == "skipped"

    code, text = _run("run-jobs", "--now", "2026-11-21T12:00:00Z")
    assert json.loads(text)["escalations"]["escalated"] == 1
