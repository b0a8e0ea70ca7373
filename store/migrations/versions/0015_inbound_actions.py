"""Acknowledged actions: the `inbound_actions` table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27

Every approval click (Slack `block_actions`, Teams `Action.Execute` / `Action.Submit`)
is written here before the platform is told it was received, and processed from this
row: `received` until the decision is recorded (`done`) or cannot be (`failed`, told to
the person). A server killed mid-work leaves rows `received`; the next one to start
takes them over (`claimed_by`, `lease_until`) and finishes them. `(platform, key)` is
unique: a repeated delivery of one click finds its row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "inbound_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_actions"),
        sa.UniqueConstraint("platform", "key", name="uq_inbound_actions_platform_key"),
    )
    op.create_index("ix_inbound_actions_status_id", "inbound_actions", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_actions_status_id", table_name="inbound_actions")
    op.drop_table("inbound_actions")
