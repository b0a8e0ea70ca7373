"""Slack, Teams and the console ask the same interview pages, in the same order, under
the policy of GOVBOT_POLICY_FILE (issue 11 item 4).

The custom policy teaches the lexicon one word: "zorblax" sheets hold employee data.
Employee data makes the EU AI Act questions relevant, so under this policy the
interview must ask them; under the packaged policy it would not. Each channel is
driven as a person would drive it: Slack through signed requests to the real server
(fake Web API), Teams through Bot Framework activities to the real server (fake Bot
Connector), the console through its chat on a scripted terminal.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import build_core
from bot.domain import interview
from bot.domain.policy_file import load_policy
from bot.service.core import Govbot
from bot.settings import Settings
from handlers.console.chat import run_chat
from handlers.teams import cards
from handlers.web import build_web_app
from tests.support.bot_connector import (
    FakeBotConnector,
    ServerThread,
    activity,
    answered,
    card_inputs,
    card_verbs,
    execute_invoke,
    forbid_internet,
)
from tests.support.slack_platform import SlackHarness

PACKAGED = Path(__file__).resolve().parents[2] / "bot" / "policy.toml"
ZORBLAX_RULE = """
[[text_signals.rules]]
kind = "data"
code = "employee"
phrases = ['\\bzorblax\\b']
"""

# Every answer a channel may ask for; the regulatory ones only count where asked.
ANSWERS: dict[str, Any] = {
    "title": "Zorblax digest",
    "department": "Operations",
    "description": "Summarises the zorblax sheets into a weekly note for the operations lead.",
    "current_process": "The lead reads every sheet by hand each Friday.",
    "expected_output": "A one-page weekly note in the team channel.",
    "value_metric": "Reading time from 3 hours to 20 minutes a week",
    "capacity": "incremental",
    "stack": "processes",
    "data": ["internal"],
    "actions": ["summarize"],
    "audience": "internal",
    "review": "every_output",
    "autonomy": "draft_only",
    "failure_visible": True,
    "vendor": "in-house",
    "model": "zorblax-notes",
    "exception_path": "Sheets the note cannot read go to the lead untouched",
    "escalation_path": "The operations lead, then the COO",
    "control_points": "The lead reads every note before it is shared",
    "rollback_path": "",  # blank: the follow-up asks for it once
    "downstream": "",  # no other department receives its output
    "use_area": "employment",
    "profiles_people": False,
    "ai_act_role": "deployer",
    "narrow_procedural_task": True,
    "prohibited_practices": [],
}
REGULATORY_KEYS = ("use_area", "profiles_people", "ai_act_role", "narrow_procedural_task", "prohibited_practices")
ASKED = ["basics", "data_actions", "controls", "regulatory", "regulatory_detail", "followup"]
MAX_PAGES = 10


def write_custom_policy(path: Path) -> Path:
    text = PACKAGED.read_text(encoding="utf-8").replace('version = "2026.11-default"', 'version = "2026.11-zorblax"', 1)
    path.write_text(text + ZORBLAX_RULE, encoding="utf-8")
    return path


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> Any:
    attempts = forbid_internet(monkeypatch)
    yield attempts
    assert attempts == []


@pytest.fixture
def custom(tmp_path: Path, database_url: str, clock: Any) -> tuple[Govbot, Settings]:
    settings = Settings(
        database_url=database_url,
        governance="UGOV",
        policy_file=write_custom_policy(tmp_path / "zorblax.toml"),
        _env_file=None,  # type: ignore[call-arg]
    )
    return build_core(settings, clock=clock), settings


# --------------------------------------------------------------------------- Slack


def slack_pages(core: Govbot, settings: Settings) -> list[str]:
    """Walk the modal to the end; the page ids in the order the views showed them."""

    async def walk() -> list[str]:
        async with SlackHarness(core, settings) as slack:
            await slack.command("U_SLACK", "propose Zorblax digest")
            view = (await slack.api.wait_for("views.open", 1))[-1].response["view"]
            shown: list[str] = []
            for _ in range(MAX_PAGES):
                shown.append(json.loads(view["private_metadata"])["p"])
                keys = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
                _, text = await slack.submit("U_SLACK", view, {k: {**ANSWERS, "owner": "U_OWNER"}[k] for k in keys})
                ack = json.loads(text)
                if ack["view"].get("callback_id") != "interview":
                    break
                view = {**ack["view"], "id": view["id"]}
            await slack.idle()
            return shown

    return asyncio.run(walk())


# --------------------------------------------------------------------------- Teams


def _wire(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def teams_pages(core: Govbot, settings: Settings) -> list[str]:
    """Fill the card forms to the end; the page ids the forms carried, in order."""
    user = "29:teams-requester"
    local = settings.model_copy(update={"teams_enabled": True, "govbot_env": "local"})
    with FakeBotConnector() as connector, ServerThread(build_web_app(core, local)) as server:

        def post(body: dict[str, Any]) -> dict[str, Any]:
            response = httpx.post(f"{server.url}/api/messages", json=body, timeout=30)
            assert response.status_code in (200, 201), response.text
            answered(server)  # a message is answered after its turn
            return response.json() if response.content else {}

        post(activity(connector.url, user, text="propose Zorblax digest", mention_bot=True))
        [sent] = connector.sent_to(f"a:personal-{user}")
        card = sent.body["attachments"][0]["content"]
        shown: list[str] = []
        for _ in range(MAX_PAGES):
            if cards.INTERVIEW_NEXT not in card_verbs(card):
                break
            data = next(a for a in card["actions"] if a.get("verb") == cards.INTERVIEW_NEXT)["data"]
            shown.append(data["page"])
            fields = {k: _wire({**ANSWERS, "owner": "29:owner"}[k]) for k in card_inputs(card)}
            card = post(execute_invoke(connector.url, user, cards.INTERVIEW_NEXT, {**data, **fields}))["value"]
        return shown


# --------------------------------------------------------------------------- console


class Terminal(io.StringIO):
    """Scripted stdin: each line is a function of the screen so far."""

    def __init__(self, screen: io.StringIO, lines: list[Callable[[str], str]]):
        super().__init__()
        self.screen = screen
        self.lines = deque(lines)

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        return self.lines.popleft()(self.screen.getvalue()) + "\n" if self.lines else ""


def console_typing(labels: dict[str, str]) -> Callable[[str], str]:
    """What a person types at each prompt: the answer to the question last shown."""
    typed: dict[str, str] = {}
    for key, value in {**ANSWERS, "owner": "U_OWNER"}.items():
        typed[key] = "y" if value is True else "n" if value is False else _wire(value)

    def line(screen: str) -> str:
        if "Submitted as proposal #" in screen:
            return "quit"
        if screen.rstrip().endswith("Submit this proposal? [Y/n] >"):
            return "y"
        asked = [m for m in re.findall(r"^(.+?)(?: \(required\))? — ", screen, re.MULTILINE) if m in labels]
        return typed[labels[asked[-1]]]

    return line


def console_pages(core: Govbot) -> list[str]:
    """Answer the terminal interview to the end; the page ids of the headings it printed."""
    labels = {q.label: q.key for page in interview.pages(ANSWERS, policy=core.policy) for q in page.questions}
    screen = io.StringIO()
    run_chat(
        core,
        "U_CONSOLE",
        Terminal(screen, [lambda _: "propose Zorblax digest", *[console_typing(labels)] * 80]),
        screen,
    )
    ids = {title: page_id for page_id, title in interview.PAGE_TITLES.items()}
    headings = re.findall(r"^── (.+) ──$", screen.getvalue(), re.MULTILINE)
    return [ids[title] for title in headings if title in ids]  # other headings announce messages


# --------------------------------------------------------------------------- the tests


def test_the_packaged_policy_would_not_ask_the_regulatory_questions() -> None:
    before_regulatory = {k: v for k, v in ANSWERS.items() if k not in REGULATORY_KEYS}
    assert [p.id for p in interview.pages(before_regulatory, policy=load_policy())] == ASKED[:3]


def test_slack_teams_and_console_ask_the_same_pages_under_the_policy_file(
    custom: tuple[Govbot, Settings], no_internet: Any
) -> None:
    core, settings = custom
    asked = {
        "slack": slack_pages(core, settings),
        "teams": teams_pages(core, settings),
        "console": console_pages(core),
    }
    assert asked == {"slack": ASKED, "teams": ASKED, "console": ASKED}
