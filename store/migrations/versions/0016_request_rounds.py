"""What each approval card showed: `approval_requests.shown_revision` and `since_revision`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27

After a resubmission an approver sees what changed since the revision they saw. The
answers and the verdict of every revision are already kept (`proposal_revisions`,
`classifications.revision`); these columns say which revision a request's card last
showed (`shown_revision`) and which one its approvers saw before that
(`since_revision`, on this request or on an earlier request for the same role), so the
card and its refreshes show the same changes. Existing rows stay null: their cards
show no changes, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("shown_revision", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("since_revision", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("since_revision")
        batch.drop_column("shown_revision")
