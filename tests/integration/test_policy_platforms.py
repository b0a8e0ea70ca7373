"""Trying a candidate policy in Slack and Teams: the what-if summary with its confirm
button, and the button applying it (a pasted candidate in Slack, an attached .toml file
in Teams, downloaded from a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botbuilder.schema import Attachment

from bot.messages.message import POLICY_APPLY
from handlers.teams.bot import FILE_DOWNLOAD, GovbotTeamsBot
from tests.support.bot_connector import TeamsTurns, card_text, card_verbs
from tests.support.policies import STRICT, strict_text
from tests.support.slack_platform import SlackHarness

GOV = "UGOV"


def _buttons(blocks: list[dict]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in blocks if b.get("type") == "actions" for e in b["elements"]]


def test_slack_shows_the_what_if_of_a_pasted_candidate_and_its_button_applies_it(core, settings):
    async def scenario() -> tuple[list[tuple[str, str]], str]:
        async with SlackHarness(core, settings) as slack:
            await slack.command(GOV, "policy what-if " + strict_text())
            summary = (await slack.api.wait_for("response_url"))[0].args
            buttons = _buttons(summary["blocks"])
            message = {"channel": "C0GENERAL", "ts": "1700000000.000100", "blocks": summary["blocks"]}
            await slack.click(GOV, POLICY_APPLY, buttons[0][1], message=message)
            applied = (await slack.api.wait_for("response_url", 2))[1].args["text"]
            return buttons, applied

    buttons, applied = asyncio.run(scenario())
    assert (
        [a for a, _ in buttons],
        applied.startswith(f"Policy {STRICT} is now active"),
        core.policy_info().version,
    ) == (
        [POLICY_APPLY],
        True,
        STRICT,
    )


class _File(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        return None


def test_teams_shows_the_what_if_of_an_attached_policy_file_and_its_button_applies_it(core):
    _File.body = strict_text().encode("utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _File)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/strict.toml"
        attachment = Attachment(content_type=FILE_DOWNLOAD, name="strict.toml", content={"downloadUrl": url})
        teams = TeamsTurns(GovbotTeamsBot(core, core.settings))
        (summary,) = teams.say(GOV, "policy what-if", attachments=[attachment])
    finally:
        server.shutdown()
        thread.join()
    verbs = card_verbs(summary)
    candidate = next(a["data"]["value"] for a in summary["actions"] if a.get("verb") == POLICY_APPLY)
    applied = teams.click(GOV, POLICY_APPLY, {"value": candidate})
    assert (
        POLICY_APPLY in verbs,
        f"Policy {STRICT} is now active" in card_text(applied),
        core.policy_info().version,
    ) == (
        True,
        True,
        STRICT,
    )
