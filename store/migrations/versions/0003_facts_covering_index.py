"""Portfolio facts: a covering index so the aggregates skip the wide proposals rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

The portfolio facts group and join proposals by stage, risk, department, capacity, EU
tier and sprawl key. Without this index every one of those statements reads the whole
table, answers included (about 1 KB a row: 112 MB at 100k proposals); with it, both
PostgreSQL (index-only scans) and SQLite (covering index) answer them from the index. Measured with `python -m bench` (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_proposals_facts"
COLUMNS = ["stage", "id", "risk_level", "department", "capacity", "eu_tier", "sprawl_key", "stage_changed_at"]


def upgrade() -> None:
    op.create_index(NAME, "proposals", COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, table_name="proposals")
