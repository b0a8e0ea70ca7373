"""Policy versions in SQL, the policy stamp on every classification, reassessments.

Revision ID: 0011
Revises: 0003
Create Date: 2026-11-22

- `policy_versions`: every policy applied (`kind = 'applied'`; the newest is the active
  policy every instance reads) and candidates uploaded in chat (`kind = 'candidate'`),
  each with its version, content hash, TOML text and who applied it when.
- `classifications.policy_version`, `classifications.policy_hash`: the policy that
  produced each verdict (null on verdicts stored before this migration).
- `reassessments`: scheduled reviews of running workflows (DESIGN.md "After go-live").
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("applied_by", sa.String(length=100), nullable=True),
        sa.Column("applied_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_policy_versions"),
    )
    op.create_index("ix_policy_versions_kind_id", "policy_versions", ["kind", "id"])
    with op.batch_alter_table("classifications") as batch:
        batch.add_column(sa.Column("policy_version", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("policy_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "reassessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("risk_level", sa.String(length=20), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("drift_at", TS, nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name="fk_reassessments_proposal_id_proposals"),
        sa.PrimaryKeyConstraint("id", name="pk_reassessments"),
    )
    op.create_index("ix_reassessments_proposal_id_status", "reassessments", ["proposal_id", "status"])
    op.create_index("ix_reassessments_status_drift_at", "reassessments", ["status", "drift_at"])


def downgrade() -> None:
    op.drop_index("ix_reassessments_status_drift_at", table_name="reassessments")
    op.drop_index("ix_reassessments_proposal_id_status", table_name="reassessments")
    op.drop_table("reassessments")
    with op.batch_alter_table("classifications") as batch:
        batch.drop_column("policy_hash")
        batch.drop_column("policy_version")
    op.drop_index("ix_policy_versions_kind_id", table_name="policy_versions")
    op.drop_table("policy_versions")
