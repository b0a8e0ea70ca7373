"""Two `govbot serve` processes on one database switch to a newly applied policy
without a restart (DESIGN.md "Policy versions"). Each instance looks for a new policy
every GOVBOT_POLICY_REFRESH seconds (1 here instead of the default 30), and
`/aiwf policy` answers the version that instance has in force."""

from __future__ import annotations

import asyncio
import itertools

import aiohttp

from bot.service.policy_versions import check
from tests.support.policies import STRICT, strict_text
from tests.support.servers import FakeSlackThread, start_govbot, wait_until
from tests.support.slack_load import command_body, post_signed

_numbers = itertools.count()


def _active_versions(servers, slack) -> list[str]:
    """Ask each instance `/aiwf policy` as governance; the version each one answers."""
    rids = []

    async def ask() -> None:
        async with aiohttp.ClientSession() as session:
            for server in servers:
                n = next(_numbers)
                status, _ = await post_signed(session, server.url, command_body("UGOV", "policy", n, slack.api))
                assert status == 200
                rids.append(f"/response/cmd{n}")

    asyncio.run(ask())
    assert wait_until(lambda: {c.path for c in slack.api.calls_to("response_url")} >= set(rids), 15)
    answers = {c.path: c.args.get("text", "") for c in slack.api.calls_to("response_url")}
    return [answers[rid].removeprefix("Active policy: ").split(",", 1)[0] for rid in rids]


def test_both_instances_use_the_applied_policy_without_a_restart(core, database_url, tmp_path):
    with FakeSlackThread() as slack:
        servers = [
            start_govbot(database_url, slack.api_url, tmp_path / f"serve-{n}.log", GOVBOT_POLICY_REFRESH="1")
            for n in (1, 2)
        ]
        try:
            for server in servers:
                server.wait_ready()
            before = _active_versions(servers, slack)
            core.apply_policy("UGOV", check(strict_text(), "strict.toml"))
            switched = wait_until(lambda: _active_versions(servers, slack) == [STRICT, STRICT], 30, step=0.5)
            assert (before, switched) == (["2026.11-default", "2026.11-default"], True)
        finally:
            logs = [(server.stop(), server.output()) for server in servers]
    for _code, output in logs:
        assert "Traceback" not in output, output[-3000:]
