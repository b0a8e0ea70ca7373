"""Throw-away databases for the benchmarks: a PostgreSQL schema or a SQLite file, migrated."""

from __future__ import annotations

import uuid
from pathlib import Path


class PgSchema:
    """A dedicated PostgreSQL schema for one benchmark, dropped on exit."""

    def __init__(self, base: str):
        from sqlalchemy.engine import make_url

        from store.db import make_engine

        self.name = f"govbot_bench_{uuid.uuid4().hex[:8]}"
        self.admin = make_engine(base, pool_size=1, max_overflow=0)
        self.url = (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={self.name}"})
            .render_as_string(hide_password=False)
        )

    def __enter__(self) -> str:
        from sqlalchemy import text

        from store.db import upgrade

        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        upgrade(self.url)
        return self.url

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import text

        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


def _sqlite(workdir: Path, name: str) -> str:
    from store.db import upgrade

    url = f"sqlite:///{workdir / name}"
    upgrade(url)
    return url
