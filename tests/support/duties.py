"""Policies and a directory for the separation-of-duties, quorum and ceiling tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain.policy_file import packaged_policy_text

GOVERNANCE_HIGH_RULE = '[[approvers]]\nrole = "governance"\nwhen = { risk_in = ["high"] }\n'


def quorum_text(quorum: Any = 2) -> str:
    """The packaged policy with `quorum` on the rule that routes governance at high risk."""
    text = packaged_policy_text()
    assert text.count(GOVERNANCE_HIGH_RULE) == 1, "the packaged policy no longer holds the governance rule"
    return text.replace(GOVERNANCE_HIGH_RULE, GOVERNANCE_HIGH_RULE + f"quorum = {quorum}\n")


def gates_text(table: str) -> str:
    """The packaged policy with a `[gates.autonomy_ceiling]` table of `table` lines."""
    return packaged_policy_text() + f"\n[gates.autonomy_ceiling]\n{table}\n"


def quorum_policy_file(base: Path) -> Path:
    """`quorum_text(2)` written once under `base` (the session's temporary directory), so
    every test that loads it gets the parsed policy from the loader's cache."""
    path = base / "quorum-2-policy.toml"
    if not path.exists():
        path.write_text(quorum_text(2), encoding="utf-8")
    return path
