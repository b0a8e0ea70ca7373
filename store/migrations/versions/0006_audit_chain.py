"""A tamper-evident audit trail: hash chain, final decisions, no REPLACE, no TRUNCATE.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-23

- `audit_events.prev_hash` and `audit_events.hash` chain every event to the one before
  it (`store.audit_chain`); existing events are chained here, in id order. `prev_hash`
  is unique, so the chain cannot fork.
- `digests.audit_head` publishes the chain head when a digest is stored.
- SQLite: `INSERT OR REPLACE` deleted the old row without firing the DELETE trigger (no
  recursive triggers), so an audit row could be rewritten; a BEFORE INSERT trigger now
  refuses an insert that would replace a row. Decisions get the same guards as the
  audit trail: no UPDATE, no DELETE, no REPLACE.
- PostgreSQL: decisions refuse UPDATE and DELETE; both tables refuse TRUNCATE with a
  statement trigger. With the least-privilege role of `store/sql/least_privilege.sql`
  the application cannot drop or disable these triggers (only the owner can).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH = sa.String(length=64)
APPEND_ONLY = "audit_events is append-only: UPDATE and DELETE are refused"  # as in 0001
NO_REPLACE = "audit_events is append-only: an INSERT may not replace an existing event"
DECISIONS_FINAL = "decisions are final: UPDATE and DELETE are refused"

SQLITE_AUDIT_TRIGGERS = [  # 0001's two, recreated after the table is rebuilt, and the REPLACE guard
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
    f"""CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
        WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id OR prev_hash = NEW.prev_hash)
        BEGIN SELECT RAISE(ABORT, '{NO_REPLACE}'); END""",
]
SQLITE_DECISION_TRIGGERS = [
    f"""CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, '{DECISIONS_FINAL}'); END""",
    f"""CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, '{DECISIONS_FINAL}'); END""",
    # IGNORE, not ABORT: `INSERT ... ON CONFLICT (request_id) DO NOTHING` (a repeated
    # click) must still do nothing; REPLACE is turned into nothing as well.
    """CREATE TRIGGER decisions_no_replace BEFORE INSERT ON decisions
        WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id OR request_id = NEW.request_id)
        BEGIN SELECT RAISE(IGNORE); END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION decisions_final() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{DECISIONS_FINAL}' USING ERRCODE = 'restrict_violation';
        END $$""",
    """CREATE TRIGGER decisions_no_update_delete BEFORE UPDATE OR DELETE ON decisions
        FOR EACH ROW EXECUTE FUNCTION decisions_final()""",
    """CREATE FUNCTION govbot_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'TRUNCATE of % is refused: the audit trail and the decisions are kept',
                TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END $$""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION govbot_no_truncate()""",
    """CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
        FOR EACH STATEMENT EXECUTE FUNCTION govbot_no_truncate()""",
]
BATCH = 2000


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":  # the table is rebuilt below, which drops its triggers anyway
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete")
    op.add_column("audit_events", sa.Column("prev_hash", HASH, nullable=True))
    op.add_column("audit_events", sa.Column("hash", HASH, nullable=True))
    op.add_column("digests", sa.Column("audit_head", sa.String(length=80), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("prev_hash", existing_type=HASH, nullable=False)
        batch.alter_column("hash", existing_type=HASH, nullable=False)
        batch.create_unique_constraint("uq_audit_events_prev_hash", ["prev_hash"])
    if dialect == "sqlite":
        for statement in SQLITE_AUDIT_TRIGGERS + SQLITE_DECISION_TRIGGERS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete")
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)


def _chain_existing_events() -> None:
    """Give the events already written their place in the chain, oldest first."""
    from store.audit_chain import GENESIS, chain

    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer),
        sa.column("proposal_id", sa.Integer),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("detail", json_type),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("prev_hash", HASH),
        sa.column("hash", HASH),
    )
    bind = op.get_bind()
    update = (
        events.update()
        .where(events.c.id == sa.bindparam("row_id"))
        .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash"))
    )
    head, last = GENESIS, 0
    while True:
        batch = bind.execute(
            sa.select(
                events.c.id,
                events.c.proposal_id,
                events.c.actor,
                events.c.action,
                events.c.detail,
                events.c.created_at,
            )
            .where(events.c.id > last)
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        rows = [dict(r._mapping) for r in batch]
        head = chain(rows, head)
        bind.execute(update, [{"row_id": r["id"], "new_prev": r["prev_hash"], "new_hash": r["hash"]} for r in rows])
        last = rows[-1]["id"]


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("audit_events_no_update", "audit_events_no_delete", "audit_events_no_replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for name in ("decisions_no_update", "decisions_no_delete", "decisions_no_replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS decisions_no_truncate ON decisions")
        op.execute("DROP TRIGGER IF EXISTS decisions_no_update_delete ON decisions")
        op.execute("DROP FUNCTION IF EXISTS govbot_no_truncate()")
        op.execute("DROP FUNCTION IF EXISTS decisions_final()")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("uq_audit_events_prev_hash", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    with op.batch_alter_table("digests") as batch:
        batch.drop_column("audit_head")
    if dialect == "sqlite":  # 0001's triggers, lost with the rebuilt table
        for statement in SQLITE_AUDIT_TRIGGERS[:2]:
            op.execute(statement)
