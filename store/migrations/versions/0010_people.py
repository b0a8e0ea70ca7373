"""People's display names: the `people` table.

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-27

Messages, `status`, the portfolio and the digest show people by name: Slack's
`users.info` and Teams' `from.name` tell govbot a user's display name, and this table
keeps the latest (cleaned: no markup, no control characters). `name_key` and
`first_key` are the match keys of the whole name and of its first word, so a name typed
as `@carla` finds Carla Díaz. A cache: dropping it loses nothing the platforms cannot
tell again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("name_key", sa.String(120), nullable=False),
        sa.Column("first_key", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_people"),
    )
    op.create_index("ix_people_name_key", "people", ["name_key"])
    op.create_index("ix_people_first_key", "people", ["first_key"])


def downgrade() -> None:
    op.drop_index("ix_people_first_key", table_name="people")
    op.drop_index("ix_people_name_key", table_name="people")
    op.drop_table("people")
