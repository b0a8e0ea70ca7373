"""Portfolio facts: a grouping signature for AI sprawl on proposals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

`proposals.sprawl_key` holds "<effective actions>|<significant title words>" (see
`bot.domain.portfolio.sprawl_signature`), written whenever a proposal is classified, so the
portfolio can find similar proposals across departments with one GROUP BY; the index
(sprawl_key, department, id) serves that GROUP BY and the per-group department lists.
Existing rows are filled from their latest classification.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("sprawl_key", sa.String(400), nullable=True))
        batch.create_index("ix_proposals_sprawl_key_department_id", ["sprawl_key", "department", "id"])
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_index("ix_proposals_sprawl_key_department_id")
        batch.drop_column("sprawl_key")


def _backfill() -> None:
    from bot.domain.portfolio import sprawl_signature

    conn = op.get_bind()
    proposals = sa.table(
        "proposals", sa.column("id", sa.Integer), sa.column("title", sa.String), sa.column("sprawl_key", sa.String)
    )
    classifications = sa.table(
        "classifications",
        sa.column("id", sa.Integer),
        sa.column("proposal_id", sa.Integer),
        sa.column("result", sa.JSON),
    )
    latest = (sa.select(sa.func.max(classifications.c.id)).group_by(classifications.c.proposal_id)).scalar_subquery()
    rows = conn.execute(
        sa.select(proposals.c.id, proposals.c.title, classifications.c.result)
        .join(classifications, classifications.c.proposal_id == proposals.c.id)
        .where(classifications.c.id.in_(latest))
    )
    for pid, title, result in rows.all():
        actions = ((result or {}).get("effective") or {}).get("actions") or []
        conn.execute(
            sa.update(proposals).where(proposals.c.id == pid).values(sprawl_key=sprawl_signature(title, actions))
        )
