"""Smaller holes of issue 18, item 8: a flood of refusals in `status`, a long description
in the PDF audit pack, NUL characters in typed text, who sees a proposal's details, where
`govbot serve` listens with GOVBOT_ENV=local, and `/readyz` next to `/healthz`."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from pypdf import PdfReader

from bot.app import build_core
from bot.domain.errors import UsageError
from bot.settings import Settings
from store.db import upgrade
from tests.support.core_state import requests_by_role, set_roles
from tests.support.proposals import make_proposal as proposal
from tests.support.proposals import medium
from tests.support.slack_platform import SlackHarness

ROOT = Path(__file__).resolve().parents[2]


def section(message, title: str) -> str | None:
    return next((s.text for s in message.sections if s.title == title), None)


# ---------------------------------------------------------------------------- a flood of refusals


def test_a_flood_of_refused_commands_does_not_push_the_trail_out_of_status(core):
    result = core.submit("U_REQ", "slack", proposal())
    for _ in range(60):
        core.handle_command("U_NOSY", "slack", f"pause {result.proposal_id}", "C1")
    trail = section(core.status(result.proposal_id), "Audit trail") or ""
    assert ("proposal.submitted" in trail, "lifecycle.refused ×60" in trail) == (True, True)


# ---------------------------------------------------------------------------- a long description in the PDF

LONG = (
    "Every morning the agent reads the overnight support queue, groups tickets by product and "
    "drafts a summary; see https://wiki.example.com/" + "a" * 400 + " for the runbook. "
)


@pytest.mark.parametrize(
    "description",
    [(LONG * 40)[:4000], "x" * 4000],
    ids=["words and a long link", "one unbroken word"],
)
def test_a_4000_character_description_prints_whole_in_the_pdf_pack(core, tmp_path, description):
    result = core.submit("U_REQ", "slack", proposal(description=description))
    path = tmp_path / "pack.pdf"
    path.write_bytes(core.audit_pack(result.proposal_id, "pdf"))
    printed = "".join("".join(page.extract_text() or "" for page in PdfReader(str(path)).pages).split())
    assert "".join(description.split()) in printed


# ---------------------------------------------------------------------------- NUL characters


def test_a_nul_in_a_typed_comment_is_refused_with_a_clear_message(core):
    result = core.submit("U_REQ", "slack", proposal())
    rid = requests_by_role(core, result.proposal_id)["owner"].id
    reply = core.handle_command("U_OWNER", "slack", f"reject {rid} bad\x00idea", "C1")
    assert (reply.message.text, requests_by_role(core, result.proposal_id)["owner"].status) == (
        "text: contains a NUL character (\\x00), which cannot be stored; remove it and try again",
        "pending",
    )


@pytest.mark.parametrize(
    "comment, reason, field",
    [("bad\x00idea", None, "comment"), ("ok", "governance\x00says", "override_reason")],
)
def test_a_nul_in_a_decision_comment_or_reason_names_the_field(core, comment, reason, field):
    result = core.submit("U_REQ", "slack", proposal())
    rid = requests_by_role(core, result.proposal_id)["owner"].id
    with pytest.raises(UsageError, match=f"^{field}: contains a NUL character"):
        core.decide("U_OWNER", rid, "reject", comment, reason)


def test_a_nul_in_a_check_in_note_names_the_field(core):
    result = core.submit("U_REQ", "slack", proposal())
    with pytest.raises(UsageError, match="^note: contains a NUL character"):
        core.record_checkin("U_OWNER", result.proposal_id, "5", "typed\x00here")


def test_an_unfinished_draft_keeps_its_text_without_the_nul(core):
    core.save_draft("slack", "U_REQ", {"title": "Summ\x00arise", "data": ["inter\x00nal"]}, "basics")
    assert core.load_draft("slack", "U_REQ")["answers"] == {"title": "Summarise", "data": ["internal"]}


# ---------------------------------------------------------------------------- who sees the details


@pytest.fixture
def decided(core):
    """A medium proposal (owner and Support's department lead asked); the owner asked for
    changes with a comment."""
    set_roles(core, ("department_lead", "Support", ["U_LEAD"]))
    result = core.submit("U_REQ", "slack", medium())
    rid = requests_by_role(core, result.proposal_id)["owner"].id
    core.decide("U_OWNER", rid, "request_changes", "Name the reviewer of the drafts")
    return result.proposal_id


@pytest.mark.parametrize("viewer", ["U_REQ", "U_OWNER", "U_LEAD", "UGOV"])
def test_the_people_involved_role_holders_and_governance_see_comments_and_trail(core, decided, viewer):
    shown = core.handle_command(viewer, "slack", f"status {decided}", "C1").message
    text = shown.plain_text()
    assert ("Name the reviewer" in text, section(shown, "Audit trail") is not None) == (True, True)


def test_anyone_else_gets_a_summary_without_comments_or_trail(core, decided):
    shown = core.handle_command("U_NOSY", "slack", f"status {decided}", "C1").message
    text = shown.plain_text()
    assert ("Name the reviewer" in text, section(shown, "Audit trail"), "0 of 2 approved" in text) == (
        False,
        None,
        True,
    )


# ---------------------------------------------------------------------------- where serve listens


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_on(database_url: str, tmp_path: Path, *args: str) -> str:
    """Start `govbot serve` with GOVBOT_ENV=local (Teams only, no credentials); the
    address its socket listens on."""
    port = _free_port()
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        {
            "DATABASE_URL": database_url,
            "GOVBOT_ENV": "local",
            "GOVBOT_TEAMS": "1",
            "GOVBOT_GOVERNANCE": "UGOV",
            "PYTHONPATH": str(ROOT),
        }
    )
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), *args],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    time.sleep(0.1)
            listening = [
                c.laddr.ip
                for c in psutil.Process(proc.pid).net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN and c.laddr.port == port
            ]
        finally:
            proc.terminate()
            proc.wait(15)
    return ",".join(sorted(listening))


def test_local_serve_listens_on_loopback_only(database_url, tmp_path):
    assert _listening_on(database_url, tmp_path) == "127.0.0.1"


def test_local_serve_listens_where_host_says(database_url, tmp_path):
    assert _listening_on(database_url, tmp_path, "--host", "0.0.0.0") == "0.0.0.0"


# ---------------------------------------------------------------------------- /healthz and /readyz


def test_readyz_reports_the_database_and_the_channels(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'ready.sqlite3'}"
    upgrade(url)
    core = build_core(Settings(database_url=url, governance="UGOV", _env_file=None), clock=clock)

    async def scenario():
        async with SlackHarness(core, core.settings) as slack:
            base = slack.url.replace("/slack/events", "")
            async with slack.session.get(f"{base}/readyz") as resp:
                return resp.status, await resp.json()

    status, body = asyncio.run(scenario())
    body["database"].pop("latency_ms")
    assert (status, body) == (200, {"ok": True, "database": {"ok": True}, "channels": {"slack": {"ok": True}}})


def test_readyz_answers_503_while_the_database_is_down_and_healthz_stays_200(tmp_path, clock):
    path = tmp_path / "ready.sqlite3"
    upgrade(f"sqlite:///{path}")
    core = build_core(Settings(database_url=f"sqlite:///{path}", governance="UGOV", _env_file=None), clock=clock)

    async def scenario():
        async with SlackHarness(core, core.settings) as slack:
            base = slack.url.replace("/slack/events", "")
            core.uow.dispose()  # the database goes away: its file is replaced by a directory
            for extra in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                if extra.exists():
                    extra.unlink()
            path.mkdir()
            async with slack.session.get(f"{base}/readyz") as ready, slack.session.get(f"{base}/healthz") as live:
                return ready.status, (await ready.json())["database"]["ok"], live.status

    try:
        assert asyncio.run(scenario()) == (503, False, 200)
    finally:
        shutil.rmtree(path, ignore_errors=True)
