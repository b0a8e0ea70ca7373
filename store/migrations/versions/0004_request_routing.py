"""Approval routing in a column: `approval_requests.governance_fallback`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Who may decide a request depends on whether it fell back to governance because nobody
held the routed role (or no owner was named). Until now that was read back from the
end of the request's note ("...; routed to governance"); the note stays for people,
the column is what the rules read. Existing rows are filled from their notes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTE_SUFFIX = "routed to governance"  # how fallback routes ended their note before this column


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("governance_fallback", sa.Boolean(), nullable=False, server_default=sa.false()))
    requests = sa.table("approval_requests", sa.column("note", sa.Text), sa.column("governance_fallback", sa.Boolean))
    op.execute(
        sa.update(requests)
        .where(requests.c.note.endswith(NOTE_SUFFIX, autoescape=True))
        .values(governance_fallback=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("governance_fallback")
