"""The `database_url` fixture fails (never skips) when PostgreSQL is asked for but unusable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests/integration/test_store_repos.py::test_settings_key_value"


def run_probe(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_TEST_")}
    clean["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # hypothesis and langsmith plugins are slow to import
    return subprocess.run(
        [sys.executable, "-m", "pytest", PROBE, "-q", "-p", "no:cacheprovider", "-p", "pytest_timeout", "-rA"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "cause"),
    [
        ({"GOVBOT_TEST_DATABASE_URL": "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test"}, "Connection refused"),
        ({}, "GOVBOT_TEST_DATABASE_URL is not set"),
    ],
)
def test_unusable_postgres_fails_the_database_tests(env, cause):
    result = run_probe(GOVBOT_TEST_BACKEND="postgres", **env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "PostgreSQL test database unavailable" in output and cause in output
    assert f"ERROR {PROBE}" in output and "SKIPPED" not in output and "skipped" not in output
    assert "s3cret" not in output
