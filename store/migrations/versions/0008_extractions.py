"""Intake in one paragraph: every extraction is stored, to measure it.

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-27

One row per paragraph read (`bot.ports.ExtractionRepo`): which extractor, prompt
version and model read it, its tokens and latency, the answers it pre-filled, the
questions still asked, and, once the proposal is submitted, which pre-filled answers
the requester changed. The counts are columns so `make bench` and the portfolio can
report questions answered and the correction rate with one GROUP BY on either backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "extractions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("extractor", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("prompt_name", sa.String(length=100), nullable=True),
        sa.Column("prompt_version", sa.String(length=40), nullable=True),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("fallback_reason", sa.Text(), nullable=True),
        sa.Column("prefilled", JSON, nullable=False),
        sa.Column("dropped", JSON, nullable=False),
        sa.Column("asked", JSON, nullable=False),
        sa.Column("changed", JSON, nullable=True),
        sa.Column("prefilled_count", sa.Integer(), nullable=False),
        sa.Column("asked_count", sa.Integer(), nullable=False),
        sa.Column("changed_count", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("settled_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_extractions"),
    )
    op.create_index("ix_extractions_proposal_id", "extractions", ["proposal_id"])
    op.create_index("ix_extractions_created_at", "extractions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_extractions_created_at", table_name="extractions")
    op.drop_index("ix_extractions_proposal_id", table_name="extractions")
    op.drop_table("extractions")
