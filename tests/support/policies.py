"""Candidate policies and a varied portfolio for the policy-version tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.data import proposals
from bot.domain.policy_file import packaged_policy_text
from bot.service.core import Govbot

STRICT = "2026.12-strict"


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the packaged policy no longer holds {old[:60]!r}"
    return text.replace(old, new)


def strict_text(version: str = STRICT) -> str:
    """The packaged policy, changed the way a governance office might: customer- and
    public-facing work is high risk, a missing rollback path is a stop condition, and
    classifying or routing alone no longer makes work medium risk."""
    text = packaged_policy_text()
    text = _swap(text, 'version = "2026.11-default"', f'version = "{version}"')
    text = _swap(
        text,
        '[[risk.rules]]\nlevel = "medium"\nwhen = { audience_in = ["customer", "public", "team"] }',
        '[[risk.rules]]\nlevel = "high"\nwhen = { audience_in = ["customer", "public"] }\n\n'
        '[[risk.rules]]\nlevel = "medium"\nwhen = { audience_in = ["team"] }',
    )
    text = _swap(
        text,
        'when = { actions_any = ["send_external", "update_records", "classify_route"] }',
        'when = { actions_any = ["send_external", "update_records"] }',
    )
    text = _swap(
        text,
        '[[stop_conditions]]\ncode = "invisible_failure"',
        '[[stop_conditions]]\ncode = "no_rollback_path"\ntext = "Nobody has said how to switch it off."\n'
        'when = { blank = ["rollback_path"] }\n\n[[stop_conditions]]\ncode = "invisible_failure"',
    )
    return text


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def portfolio(n: int = 60, seed: int = 5) -> list[dict[str, Any]]:
    """`n` varied proposals (the benchmarks' generator)."""
    return list(proposals(n, seed=seed))


def import_portfolio(core: Govbot, n: int = 60) -> list[int]:
    """Submit a varied portfolio; the proposal ids in order."""
    report = core.import_proposals("U_REQ", "console", portfolio(n))
    assert report["refused"] == 0, json.dumps(report["rows"][:3])
    return [row["proposal_id"] for row in report["rows"]]
