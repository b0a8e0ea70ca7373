"""Separation of duties and quorum: columns on `approval_requests`, decisions per decider.

Revision ID: 0012
Revises: 0016
Create Date: 2026-11-27

DESIGN.md "Gates": a role's request may need several approvals by distinct holders
(`quorum`), so a decision is now unique per (request, decider) instead of per request;
a repeated click or platform retry by the same person still finds the first one.
`requested_by` names who asked for an autonomy step (they never decide it), and
`waiting` says, as a code, why nobody may decide a request yet (every holder is
excluded by separation of duties) — the note stays for people.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

DECISIONS_FINAL = "decisions are final: UPDATE and DELETE are refused"  # as in 0006

# SQLite rebuilds `decisions` to change its unique constraint, which drops 0006's
# triggers: they are made again, the REPLACE guard now per (request, decider).
SQLITE_DECISION_TRIGGERS = [
    f"""CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, '{DECISIONS_FINAL}'); END""",
    f"""CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, '{DECISIONS_FINAL}'); END""",
    # IGNORE, not ABORT: `INSERT ... ON CONFLICT (request_id, actor) DO NOTHING` (a
    # repeated click) must still do nothing; REPLACE is turned into nothing as well.
    """CREATE TRIGGER decisions_no_replace BEFORE INSERT ON decisions
        WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id OR (request_id = NEW.request_id AND actor = NEW.actor))
        BEGIN SELECT RAISE(IGNORE); END""",
]
OLD_SQLITE_REPLACE_GUARD = """CREATE TRIGGER decisions_no_replace BEFORE INSERT ON decisions
        WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id OR request_id = NEW.request_id)
        BEGIN SELECT RAISE(IGNORE); END"""
SQLITE_TRIGGER_NAMES = ("decisions_no_update", "decisions_no_delete", "decisions_no_replace")

revision: str = "0012"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("quorum", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("requested_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("waiting", sa.String(40), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("uq_decisions_request_id", type_="unique")
        batch.create_unique_constraint("uq_decisions_request_id_actor", ["request_id", "actor"])
        batch.create_index("ix_decisions_request_id", ["request_id"])
    if sqlite:
        for statement in SQLITE_DECISION_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_index("ix_decisions_request_id")
        batch.drop_constraint("uq_decisions_request_id_actor", type_="unique")
        batch.create_unique_constraint("uq_decisions_request_id", ["request_id"])
    if sqlite:
        for statement in [*SQLITE_DECISION_TRIGGERS[:2], OLD_SQLITE_REPLACE_GUARD]:
            op.execute(statement)
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): rebuilding the table would break the
    # decisions' foreign key to it
    with op.batch_alter_table("approval_requests", recreate="never") as batch:
        batch.drop_column("waiting")
        batch.drop_column("requested_by")
        batch.drop_column("quorum")
