"""Teams as quick as Slack (issue 18, item 4): fifty people typing `help` at once.

`govbot serve` runs as a subprocess with Slack (against the fake Web API) and Teams
(GOVBOT_ENV=local, no credentials) mounted, its answers going to a fake Bot Connector
in this process, which notes when each one arrives. The yardstick is a bare botbuilder
bot (`bench.bare_teams`) that replies once, in the turn, through the same connector.

Per message two figures: the HTTP answer to `POST /api/messages` (what Teams waits
for), and the time until the reply reaches the Bot Connector (what the person waits
for). Rounds of CONCURRENCY messages (each from another person) alternate A-B-B-A
between the two servers, so load from elsewhere on the machine falls on both. The
first round of new people (their conversation references and names are stored) is
reported on its own.

Slack's equivalent is measured on the same govbot server: CONCURRENCY `/aiwf help` at
once against a bare Bolt app that only acks (the ack is Slack's whole turn); the reply
govbot posts to the `response_url` afterwards is reported too.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import start_bare_bolt, summary
from tests.support.bot_connector import FakeBotConnector, activity
from tests.support.servers import FakeSlackThread, Server, free_port, server_env, start_govbot
from tests.support.slack_load import command_body, post_signed

CONCURRENCY = 50
ANSWER_TIMEOUT_S = 60.0


def start_bare_teams(log: Path) -> Server:
    port = free_port()
    return Server([sys.executable, "-m", "bench.bare_teams", str(port)], server_env("sqlite://", ""), port, log)


def messages_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}/api/messages"


async def teams_round(url: str, connector: FakeBotConnector, users: list[str], tag: str) -> list[dict[str, float]]:
    """Every user types `help` at once; per message the HTTP status and seconds, and the
    seconds until its reply reached the connector (None: no reply within the timeout)."""
    ids = [f"{tag}-{i}" for i in range(len(users))]
    bodies = [activity(connector.url, user, text="help", activity_id=aid) for user, aid in zip(users, ids, strict=True)]
    out: list[dict[str, Any]] = []
    limit = aiohttp.TCPConnector(limit=len(bodies) * 2)
    async with aiohttp.ClientSession(connector=limit, timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_S)) as session:

        async def one(body: dict[str, Any]) -> dict[str, Any]:
            began = time.perf_counter()
            try:
                async with session.post(url, json=body) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError):
                status = -1
            return {"id": body["id"], "began": began, "status": status, "http_s": time.perf_counter() - began}

        out = list(await asyncio.gather(*(one(b) for b in bodies)))
    deadline = time.perf_counter() + ANSWER_TIMEOUT_S
    while time.perf_counter() < deadline and not all(connector.replies_to(r["id"]) for r in out):
        await asyncio.sleep(0.02)
    for r in out:
        replies = connector.replies_to(r["id"])
        r["answer_s"] = (min(c.at for c in replies) - r["began"]) if replies else None
    return out


def _figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p99 of the HTTP answer and of the reply's arrival; errors: non-2xx or no reply."""
    ok = {200, 201}
    http = summary([(200 if r["status"] in ok else r["status"], r["http_s"]) for r in rows])
    answered = [r for r in rows if r["answer_s"] is not None]
    answer = summary([(200, r["answer_s"]) for r in answered])
    return {
        "n": len(rows),
        "http_errors": http["errors"],
        "unanswered": len(rows) - len(answered),
        "http_p50_ms": http["p50_ms"],
        "http_p99_ms": http["p99_ms"],
        "answer_p50_ms": answer["p50_ms"],
        "answer_p99_ms": answer["p99_ms"],
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if a and b else None


_slack_ids = itertools.count(1)


async def slack_round(url: str, slack: FakeSlackThread, users: list[str]) -> list[dict[str, Any]]:
    """Every user types `/aiwf help` at once: status, seconds to the ack, and the
    response_url path on which govbot's reply will arrive."""
    numbered = [(next(_slack_ids), u) for u in users]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=len(users) * 2)) as session:

        async def one(n: int, user: str) -> dict[str, Any]:
            body = command_body(user, "help", n, slack.api)
            began = time.perf_counter()
            try:
                status, _ = await post_signed(session, url, body)
            except (aiohttp.ClientError, TimeoutError):
                status = -1
            return {
                "path": f"/response/cmd{n}",
                "began": began,
                "status": status,
                "http_s": time.perf_counter() - began,
            }

        return list(await asyncio.gather(*(one(n, u) for n, u in numbered)))


def _slack_answers(slack: FakeSlackThread, rows: list[dict[str, Any]], timeout: float) -> list[float]:
    """Seconds from each command to its response_url post (govbot answers after the ack)."""
    deadline = time.perf_counter() + timeout
    wanted = {r["path"]: r["began"] for r in rows}

    def arrived() -> dict[str, float]:
        return {c.path: c.at for c in slack.api.calls if c.method == "response_url" and c.path in wanted}

    while time.perf_counter() < deadline and len(arrived()) < len(wanted):
        time.sleep(0.01)
    return [at - wanted[path] for path, at in arrived().items()]


def run(database_url: str, workdir: Path, quick: bool, log: Any = print) -> dict[str, Any]:
    rounds = 4 if quick else 8  # each CONCURRENCY messages per server, in A-B-B-A pairs
    people = [f"29:bench-{i:02d}" for i in range(CONCURRENCY)]
    out: dict[str, Any] = {"concurrency": CONCURRENCY, "database": database_url.split(":", 1)[0]}
    with FakeSlackThread() as slack, FakeBotConnector() as connector:
        govbot = start_govbot(
            database_url, slack.api_url, workdir / "serve-teams.log", GOVBOT_TEAMS="1", GOVBOT_ENV="local"
        )
        bare = start_bare_teams(workdir / "bare-teams.log")
        bolt = start_bare_bolt(slack.api_url, workdir / "bare-bolt-teams.log")
        try:
            for server in (govbot, bare, bolt):
                server.wait_ready()
            g_url, b_url = messages_url(govbot), messages_url(bare)
            # first contact: fifty new people (references and names stored on the way)
            first_g = asyncio.run(teams_round(g_url, connector, people, "first-g"))
            first_b = asyncio.run(teams_round(b_url, connector, people, "first-b"))
            out["first_contact"] = {"govbot": _figures(first_g), "bare_botbuilder": _figures(first_b)}
            g_rows: list[dict[str, Any]] = []
            b_rows: list[dict[str, Any]] = []
            for r in range(rounds // 2):
                g_rows += asyncio.run(teams_round(g_url, connector, people, f"g{r}a"))
                b_rows += asyncio.run(teams_round(b_url, connector, people, f"b{r}a"))
                b_rows += asyncio.run(teams_round(b_url, connector, people, f"b{r}b"))
                g_rows += asyncio.run(teams_round(g_url, connector, people, f"g{r}b"))
            g, b = _figures(g_rows), _figures(b_rows)
            out["teams"] = {
                "govbot": g,
                "bare_botbuilder": b,
                "answer_p50_ratio": _ratio(g["answer_p50_ms"], b["answer_p50_ms"]),
                "answer_p99_ratio": _ratio(g["answer_p99_ms"], b["answer_p99_ms"]),
                "http_p99_ratio": _ratio(g["http_p99_ms"], b["http_p99_ms"]),
            }
            log(
                f"  teams help x{CONCURRENCY}: answer p50/p99 {g['answer_p50_ms']}/{g['answer_p99_ms']} ms vs "
                f"{b['answer_p50_ms']}/{b['answer_p99_ms']} ms bare ({out['teams']['answer_p99_ratio']}x at p99)"
            )
            slack_people = [f"U{i:03d}" for i in range(CONCURRENCY)]
            asyncio.run(slack_round(govbot.url, slack, slack_people))  # first contact on Slack
            sg: list[dict[str, Any]] = []
            sb: list[dict[str, Any]] = []
            for _ in range(rounds // 2):
                sg += asyncio.run(slack_round(govbot.url, slack, slack_people))
                sb += asyncio.run(slack_round(bolt.url, slack, slack_people))
                sb += asyncio.run(slack_round(bolt.url, slack, slack_people))
                sg += asyncio.run(slack_round(govbot.url, slack, slack_people))
            ack_g = summary([(r["status"], r["http_s"]) for r in sg])
            ack_b = summary([(r["status"], r["http_s"]) for r in sb])
            answers = _slack_answers(slack, sg, ANSWER_TIMEOUT_S)
            reply = summary([(200, s) for s in answers])
            out["slack"] = {
                "govbot_ack": ack_g,
                "bare_bolt_ack": ack_b,
                "ack_p99_ratio": _ratio(ack_g["p99_ms"], ack_b["p99_ms"]),
                "govbot_answer": {**reply, "unanswered": len(sg) - len(answers)},
            }
            log(
                f"  slack help x{CONCURRENCY}: ack p99 {ack_g['p99_ms']} ms vs {ack_b['p99_ms']} ms bare Bolt "
                f"({out['slack']['ack_p99_ratio']}x); answer p99 {reply['p99_ms']} ms"
            )
        finally:
            for server in (govbot, bare, bolt):
                server.stop()
    return out


def lines(r: dict[str, Any]) -> list[str]:
    """The section of the printed table."""
    t, s, f = r["teams"], r["slack"], r["first_contact"]
    g, b = t["govbot"], t["bare_botbuilder"]
    fg, fb = f["govbot"], f["bare_botbuilder"]
    return [
        "",
        f"Teams vs Slack, {r['concurrency']} people typing help at once ({r['database']}): p50 / p99 ms",
        f"  Teams govbot:          HTTP {g['http_p50_ms']} / {g['http_p99_ms']}, answer at the connector "
        f"{g['answer_p50_ms']} / {g['answer_p99_ms']} (n={g['n']}, errors {g['http_errors']}, "
        f"unanswered {g['unanswered']})",
        f"  Teams bare botbuilder: HTTP {b['http_p50_ms']} / {b['http_p99_ms']}, answer at the connector "
        f"{b['answer_p50_ms']} / {b['answer_p99_ms']} (n={b['n']}, errors {b['http_errors']}, "
        f"unanswered {b['unanswered']})",
        f"  Teams ratio govbot/bare: answer p50 {t['answer_p50_ratio']}x, p99 {t['answer_p99_ratio']}x; "
        f"HTTP p99 {t['http_p99_ratio']}x",
        f"  Slack ratio govbot/bare Bolt (ack is the turn): p99 {s['ack_p99_ratio']}x — ack "
        f"{s['govbot_ack']['p50_ms']} / {s['govbot_ack']['p99_ms']} vs {s['bare_bolt_ack']['p50_ms']} / "
        f"{s['bare_bolt_ack']['p99_ms']}; govbot's answer at the response_url {s['govbot_answer']['p50_ms']} / "
        f"{s['govbot_answer']['p99_ms']}",
        f"  first contact (fifty new people): govbot answer {fg['answer_p50_ms']} / {fg['answer_p99_ms']}, "
        f"bare {fb['answer_p50_ms']} / {fb['answer_p99_ms']}",
    ]
