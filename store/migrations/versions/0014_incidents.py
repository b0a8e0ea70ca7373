"""Incidents after go-live: the `incidents` table.

Revision ID: 0014
Revises: 0010
Create Date: 2026-11-27

Anyone may report that a workflow did harm (`incident <id> <low|medium|high> <what
happened>`); the owner or governance resolves it. Indexed by (proposal_id, status) for
"open incidents of this proposal" (resume and promote refuse while there are any) and
by (status, severity) for the portfolio's open incidents by severity.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name="fk_incidents_proposal_id_proposals"),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_proposal_id_status", "incidents", ["proposal_id", "status"])
    op.create_index("ix_incidents_status_severity", "incidents", ["status", "severity"])
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])
    op.create_index("ix_incidents_resolved_at", "incidents", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_resolved_at", table_name="incidents")
    op.drop_index("ix_incidents_created_at", table_name="incidents")
    op.drop_index("ix_incidents_status_severity", table_name="incidents")
    op.drop_index("ix_incidents_proposal_id_status", table_name="incidents")
    op.drop_table("incidents")
