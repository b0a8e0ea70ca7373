"""Sprawl by meaning, vendors and hand-offs (issue 16).

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-23

- `proposal_terms`: what near-duplicates are found by, one row per proposal (the offline
  word counts, and the embedding when an embeddings model is configured);
- `similar_pairs`: near-duplicates across departments, with score and reason;
- `proposal_downstream`: the departments a proposal hands its output to;
- `proposals.vendor`, `proposals.model` (copies of the answers, for the portfolio).

Existing proposals get their terms, vendor, model and downstream departments from their
answers, and their near-duplicates from one pass in id order (as if submitted again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("vendor", sa.String(120), nullable=True))
        batch.add_column(sa.Column("model", sa.String(120), nullable=True))
        batch.create_index("ix_proposals_vendor", ["vendor"])
    op.create_table(
        "proposal_terms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "proposal_id",
            sa.Integer,
            sa.ForeignKey("proposals.id", name="fk_proposal_terms_proposal_id_proposals"),
            nullable=False,
        ),
        sa.Column("terms", JSONType, nullable=False),
        sa.Column("embedding", JSONType, nullable=True),
        sa.Column("embedding_model", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_terms"),
        sa.UniqueConstraint("proposal_id", name="uq_proposal_terms_proposal_id"),
    )
    op.create_table(
        "similar_pairs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "proposal_id",
            sa.Integer,
            sa.ForeignKey("proposals.id", name="fk_similar_pairs_proposal_id_proposals"),
            nullable=False,
        ),
        sa.Column(
            "other_id",
            sa.Integer,
            sa.ForeignKey("proposals.id", name="fk_similar_pairs_other_id_proposals"),
            nullable=False,
        ),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_similar_pairs"),
        sa.UniqueConstraint("proposal_id", "other_id", name="uq_similar_pairs_proposal_id_other_id"),
    )
    op.create_index("ix_similar_pairs_other_id", "similar_pairs", ["other_id"])
    op.create_table(
        "proposal_downstream",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "proposal_id",
            sa.Integer,
            sa.ForeignKey("proposals.id", name="fk_proposal_downstream_proposal_id_proposals"),
            nullable=False,
        ),
        sa.Column("department", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_downstream"),
        sa.UniqueConstraint("proposal_id", "department", name="uq_proposal_downstream_proposal_id_department"),
    )
    op.create_index("ix_proposal_downstream_department", "proposal_downstream", ["department"])
    _backfill()


def downgrade() -> None:
    op.drop_table("proposal_downstream")
    op.drop_table("similar_pairs")
    op.drop_table("proposal_terms")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_index("ix_proposals_vendor")
        batch.drop_column("model")
        batch.drop_column("vendor")


def _backfill() -> None:
    from store.similarity import backfill

    backfill(op.get_bind())
