"""The least-privilege PostgreSQL grants of `store/sql/least_privilege.sql`, from Python.

The script is written for psql (`-v app_role=... -v schema=...`); this renders it the
way psql interpolates `:"name"` (as a quoted identifier), for tools and tests that run
SQL without psql. See docs/operations.md, "A least-privilege database role".
"""

from __future__ import annotations

import re
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "sql" / "least_privilege.sql"
_VARIABLE = re.compile(r':"(\w+)"')


def quote_ident(name: str) -> str:
    """`name` as a PostgreSQL quoted identifier."""
    if not name or "\x00" in name:
        raise ValueError(f"not a usable PostgreSQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def least_privilege_sql(app_role: str, schema: str = "public") -> str:
    """The script with its psql variables filled in."""
    values = {"app_role": app_role, "schema": schema}
    lines = [line for line in SCRIPT.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
    return _VARIABLE.sub(lambda m: quote_ident(values[m.group(1)]), "\n".join(lines))
