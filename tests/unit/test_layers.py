"""Layer boundaries of DESIGN.md: the core stays pure; the store knows no chat platform;
everything Teams lives in handlers/teams."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = {"slack_bolt", "slack_sdk", "botbuilder", "botframework"}
FORBIDDEN_IN_CORE = PLATFORM | {
    "sqlalchemy",
    "alembic",
    "openai",
    "langchain",
    "langchain_core",
    "langchain_openai",
    "handlers",
    "store",
    "psycopg",
    "aiohttp",
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("bot"), ids=lambda p: p.name)
def test_core_imports_no_platform_database_or_llm_library(path):
    if path.name in ("app.py", "cli.py"):
        return  # the composition root and the command line wire everything
    bad = imported_roots(path) & FORBIDDEN_IN_CORE
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", python_files("store"), ids=lambda p: str(p.relative_to(ROOT)))
def test_store_knows_no_chat_platform(path):
    bad = imported_roots(path) & (PLATFORM | {"handlers"})
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_botbuilder_is_used_only_inside_handlers_teams():
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("bot", "handlers", "store")
        for p in python_files(folder)
        if imported_roots(p) & {"botbuilder", "botframework"} and "handlers/teams" not in p.as_posix()
    ]
    assert offenders == []
