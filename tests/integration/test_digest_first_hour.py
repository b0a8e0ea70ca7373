"""The digest from the console and the command line: the review buttons typed, a post
that did not happen is an error exit, plurals, and a week's check-ins listed once."""

from __future__ import annotations

import io
import re

import pytest

from bot.cli import main
from handlers.console.chat import run_chat
from tests.support.proposals import make_proposal


def chat(core, user: str, lines: list[str]) -> str:
    screen = io.StringIO()
    run_chat(core, user, io.StringIO("\n".join(lines) + "\n"), screen)
    return screen.getvalue()


def test_post_and_regenerate_are_typed_in_the_console(core):
    core.settings.digest_slack_channel = "CDIG"
    out = chat(core, "UGOV", ["digest", "quit"])
    (draft,) = re.findall(r"type: digest post (\d+)", out)
    assert f"type: digest regenerate {draft}" in out
    out = chat(core, "UGOV", [f"digest regenerate {draft}", "quit"])
    (new,) = re.findall(r"type: digest post (\d+)", out)
    assert f"Regenerated from digest #{draft}." in out
    out = chat(core, "UGOV", [f"digest post {new}", "quit"])
    assert f"Digest #{new} is on its way to slack:CDIG." in out


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", "UGOV")
    monkeypatch.delenv("GOVBOT_DIGEST_SLACK_CHANNEL", raising=False)
    monkeypatch.delenv("GOVBOT_DIGEST_TEAMS_CONVERSATION", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env

    def run(*argv: str) -> tuple[int, str]:
        err = io.StringIO()
        monkeypatch.setattr("sys.stderr", err)
        return main(list(argv), out=io.StringIO()), err.getvalue()

    return run


def test_digest_post_with_nowhere_to_post_exits_non_zero(cli):
    code, err = cli("digest", "--post")
    assert code == 1
    assert err.startswith("govbot digest: not posted: No digest channel is configured")


def a_week_with_a_corrected_check_in(core, clock) -> int:
    result = core.submit("U1", "console", make_proposal(owner="U_OWNER"))
    core.submit("U1", "console", make_proposal(title="Draft release notes"))  # one approval left pending
    (request,) = [r for r in core.status_data(result.proposal_id)["approvals"]]
    core.decide("U_OWNER", request["id"], "approve")
    core.record_checkin("U_OWNER", result.proposal_id, "2.5")
    clock.advance(hours=2)
    core.record_checkin("U_OWNER", result.proposal_id, "2", "corrected")
    clock.advance(hours=1)
    return result.proposal_id


def test_the_digest_counts_in_words(core, clock):
    a_week_with_a_corrected_check_in(core, clock)
    text = core.draft_digest(clock.now()).text
    assert "Needs attention: 1 approval pending, 0 overdue (pending more than 48 hours)." in text


def test_the_digest_lists_a_weeks_check_ins_once(core, clock):
    pid = a_week_with_a_corrected_check_in(core, clock)
    text = core.draft_digest(clock.now()).text
    assert [line for line in text.splitlines() if line.startswith("- ")] == [
        f'- "Summarise weekly support themes" (#{pid}): 2',
        # and once against its target ("from 3 to 0.5" hours), moving towards it since 2.5
        f'- "Summarise weekly support themes" (#{pid}): 2 against target 0.5 (from 3): improving',
    ]
