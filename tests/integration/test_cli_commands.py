"""The command line on a real database: roles, import, status, portfolio, refusals."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from bot.cli import main


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", "UGOV")
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        code = main(list(argv), out=out, stdin=io.StringIO(stdin))
        return code, out.getvalue(), err.getvalue()

    return run


def test_operator_sets_roles_and_lists_them(cli):
    code, out, err = cli("roles", "set", "department_lead", "--department", "Finance", "U_FRED")
    assert code == 0, err
    code, out, _ = cli("roles", "list")
    assert code == 0
    assert "U_FRED" in out and "Finance" in out


def test_a_chat_user_who_is_not_governance_may_not_set_roles(cli):
    code, _, err = cli("roles", "set", "security", "U_SAM", "--as", "U_RANDOM")
    assert code == 2
    assert "only governance" in err.lower()


@pytest.mark.parametrize("name", ["cli", "govbot", " ", "two words"])
def test_reserved_or_malformed_identities_are_refused(cli, name):
    code, _, err = cli("import", "-", "--as", name, stdin="[]")
    assert code == 2
    assert "--as:" in err


def test_import_reports_each_row_and_is_harmless_to_repeat(cli):
    rows = [
        {"title": "Summarise tickets", "owner": "U_OMAR"},
        {"title": "Refund bot", "description": "Issues the refund automatically.", "owner": "U_OMAR"},
        {"title": "x" * 121},
        {"title": "Bad", "audience": "martians"},
    ]
    code, out, _ = cli("import", "-", "--as", "U_ALICE", "--json", stdin=json.dumps(rows))
    assert code == 2  # some rows were refused
    report = json.loads(out)
    assert (report["imported"], report["refused"]) == (2, 2)
    assert [r["status"] for r in report["rows"]] == ["imported", "imported", "refused", "refused"]
    assert report["rows"][1]["risk_level"] == "high"
    assert report["rows"][2]["errors"] == ["title: is 121 characters; at most 120 allowed"]
    assert report["rows"][3]["errors"] == [
        "audience: unknown value 'martians'; allowed: internal, team, customer, public"
    ]

    code, out, _ = cli("import", "-", "--as", "U_ALICE", "--json", stdin=json.dumps(rows[:2]))
    again = json.loads(out)
    assert code == 0
    assert [r["already_imported"] for r in again["rows"]] == [True, True]
    assert [r["proposal_id"] for r in again["rows"]] == [r["proposal_id"] for r in report["rows"][:2]]

    code, out, _ = cli("portfolio", "--json")
    assert code == 0
    assert json.loads(out)["total"] == 2


def test_status_of_an_imported_proposal(cli):
    cli("import", "-", "--as", "U_ALICE", stdin=json.dumps([{"title": "Drafts replies", "owner": "U_OMAR"}]))
    code, out, _ = cli("status", "1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["proposal"]["title"] == "Drafts replies"
    assert data["proposal"]["stage"] == "in_review"
    code, _, err = cli("status", "42")
    assert code == 1 and "no proposal 42" in err


def test_import_rejects_a_file_that_is_not_a_list(cli):
    code, _, err = cli("import", "-", "--as", "U_ALICE", stdin='{"title": "x"}')
    assert code == 2
    assert "must hold a JSON list" in err


def test_db_upgrade_on_an_unreachable_server_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://govbot:s3cret@127.0.0.1:1/nowhere")
    monkeypatch.chdir(tmp_path)
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    code = main(["db", "upgrade"], out=io.StringIO(), stdin=io.StringIO())
    assert code == 1
    text = err.getvalue()
    assert "Traceback" not in text and "s3cret" not in text
    assert "cannot reach the database" in text


def test_installed_console_script_says_one_line_for_bad_json_never_a_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "classify", "-"], input="{", capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "govbot classify: proposal: not valid JSON: Expecting property name enclosed in double quotes "
        "at line 1 column 2\n"
    )
