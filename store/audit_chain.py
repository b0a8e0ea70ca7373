"""The hash chain over `audit_events`: what makes a rewritten trail detectable.

Every row stores `prev_hash` (the `hash` of the row before it, or `GENESIS` for the
first) and `hash = sha256(prev_hash, canonical content)`. The content is the row's
proposal id, actor, action, detail and time, serialised so that what a backend hands
back (JSONB reorders keys and normalises numbers; SQLite returns naive times) hashes
the same as what was written. A unique index on `prev_hash` means the chain cannot fork.

Rows get their hashes when the unit of work commits (`SqlAuditRepo.write_pending`):
on PostgreSQL the writer first takes a transaction-scoped advisory lock, so concurrent
writers append one after another, and it takes it last, after every row lock its
transaction needed, so the lock never joins a deadlock. On SQLite every write
transaction already holds the database's write lock (`BEGIN IMMEDIATE`).

`verify` walks the whole chain and names the first row that does not hold, and checks
each head published in a stored digest (`digests.audit_head`) against the chain: a
rewrite made after a head was published changes that row's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from bot.domain.records import as_utc
from store import models as m

GENESIS = "0" * 64
CHAIN_LOCK_ID = 0x60B0A  # pg_advisory_xact_lock key held while appending to the chain
_LOCKED = "govbot.audit_chain.locked_in"  # Session.info key: the transaction that holds the lock
VERIFY_BATCH = 2000


# --------------------------------------------------------------------------- hashing


def _number(value: int | float) -> str:
    """One spelling per number, whatever JSON round trip it took (1, 1.0, 1e0 -> "1")."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return json.dumps(str(value))  # not JSON numbers; json.dumps would write NaN
    dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text_ = format(dec.normalize(), "f")
    return "0" if text_ in ("-0", "0") else text_


def _canonical_json(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_canonical_json(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canonical_json(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def content(proposal_id: int | None, actor: str, action: str, detail: Any, created_at: datetime) -> bytes:
    """The canonical bytes of one audit event (what its hash covers)."""
    parts = [
        "v1",
        "" if proposal_id is None else str(int(proposal_id)),
        actor,
        action,
        _canonical_json(detail),
        as_utc(created_at).isoformat(timespec="microseconds"),
    ]
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def link(prev_hash: str, body: bytes) -> str:
    """The hash of a row whose predecessor's hash is `prev_hash`."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + body).hexdigest()


def chain(rows: Iterable[dict[str, Any]], prev_hash: str = GENESIS) -> str:
    """Fill `prev_hash` and `hash` of `rows` (dicts with the event columns) in order;
    return the hash of the last one (the new head)."""
    for row in rows:
        row["prev_hash"] = prev_hash
        row["hash"] = prev_hash = link(
            prev_hash, content(row["proposal_id"], row["actor"], row["action"], row["detail"], row["created_at"])
        )
    return prev_hash


# --------------------------------------------------------------------------- writing


def lock(session: Session) -> None:
    """Serialise chain appends on PostgreSQL until this transaction ends (once per
    transaction; SQLite transactions already hold the write lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection()  # begin the transaction, so it can be told apart from the next
    transaction = session.get_transaction()
    if session.info.get(_LOCKED) is transaction:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_ID})
    session.info[_LOCKED] = transaction


def head(session: Session | Connection) -> tuple[int, str] | None:
    """(id, hash) of the newest row, or None for an empty trail."""
    a = m.AuditEventModel
    row = session.execute(select(a.id, a.hash).order_by(a.id.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def format_head(value: tuple[int, str] | None) -> str:
    """How a head is published: `#<id> <sha256 hex>` (`#0 <genesis>` when empty)."""
    return f"#0 {GENESIS}" if value is None else f"#{value[0]} {value[1]}"


def parse_head(published: str) -> tuple[int, str] | None:
    """The (id, hash) of a published head, None when it is not one."""
    parts = published.strip().split()
    if len(parts) != 2 or not parts[0].startswith("#") or not parts[0][1:].isdigit() or len(parts[1]) != 64:
        return None
    return int(parts[0][1:]), parts[1]


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True)
class Report:
    """What `verify` found. `broken_id` is the first row that does not hold (None: intact)."""

    events: int
    head: tuple[int, str] | None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _rows(session: Session) -> Iterator[Any]:
    a = m.AuditEventModel
    cols = (a.id, a.proposal_id, a.actor, a.action, a.detail, a.created_at, a.prev_hash, a.hash)
    last = 0
    while True:
        batch = session.execute(select(*cols).where(a.id > last).order_by(a.id).limit(VERIFY_BATCH)).all()
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def verify(session: Session) -> Report:
    """Walk the chain from the first row; then check every head published in a digest."""
    expected = GENESIS
    count = 0
    hashes: dict[int, str] = {}
    published = _published_heads(session)
    wanted = {h[0] for _, h in published}
    last: tuple[int, str] | None = None
    for row in _rows(session):
        count += 1
        rid, prev, stored = int(row.id), row.prev_hash, row.hash
        if prev != expected:
            return Report(count, last, rid, f"event #{rid} does not follow the event before it (its link is broken)")
        body = content(row.proposal_id, row.actor, row.action, row.detail, row.created_at)
        if link(prev, body) != stored:
            return Report(count, last, rid, f"event #{rid} was changed after it was written (its hash does not match)")
        expected = stored
        last = (rid, stored)
        if rid in wanted:
            hashes[rid] = stored
    for digest_id, (rid, digest_hash) in published:
        if rid and hashes.get(rid) != digest_hash:
            return Report(
                count,
                last,
                rid,
                f"digest #{digest_id} published head #{rid} {digest_hash[:12]}…, "
                "but the trail no longer has that event with that hash (rewritten since)",
            )
    return Report(count, last)


def _published_heads(session: Session) -> list[tuple[int, tuple[int, str]]]:
    d = m.DigestModel
    out = []
    for digest_id, published in session.execute(select(d.id, d.audit_head).where(d.audit_head.is_not(None))):
        parsed = parse_head(published or "")
        if parsed is not None:
            out.append((int(digest_id), parsed))
    return out


def verify_url(url: str) -> Report:
    """`verify` on the database at `url` (refuses one that is not migrated)."""
    from store.db import check_migrated, make_engine

    engine = make_engine(url)
    try:
        check_migrated(engine)
        with Session(engine) as session:
            return verify(session)
    finally:
        engine.dispose()
