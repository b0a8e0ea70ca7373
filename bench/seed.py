"""Fast bulk seeding of a portfolio for the facts benchmarks (Core inserts, no service).

A base set of varied proposals is classified once with the real classifier; each
seeded row takes one of them with its own title, department, stage, dates and
check-ins, so the risk, EU tier, stop conditions and approver roles are the
classifier's own and their mix is realistic. `proposals.sprawl_key` is set with
`store.sprawl.sprawl_key_for` (seeding bypasses the repositories).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bench.data import DEPARTMENTS, proposals
from bot.domain.classifier import classify
from bot.domain.policy_file import load_policy
from bot.domain.proposal import validate_proposal
from store import models as m
from store.sprawl import sprawl_key_for

# stage -> weight (a portfolio a year in: most work in pilot or production, some stuck)
STAGE_WEIGHTS = {
    "draft": 4,
    "in_review": 14,
    "changes_requested": 4,
    "approved": 5,
    "pilot": 30,
    "production": 25,
    "rejected": 7,
    "paused": 4,
    "retired": 7,
}
BATCH = 5000


class Seeder:
    """Adds proposals (and their approvals, decisions, stop conditions, check-ins and
    audit events) in batches; call `add(engine, n)` repeatedly to grow one database."""

    def __init__(self, now: datetime, base_size: int = 400, seed: int = 11):
        self.now = now
        self.rng = random.Random(seed)
        policy = load_policy()
        self.base: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for raw in proposals(base_size, seed=seed):
            answers = validate_proposal(raw)
            self.base.append((answers, classify(answers, policy)))
        self.count = 0
        self.stages = list(STAGE_WEIGHTS)
        self.weights = list(STAGE_WEIGHTS.values())

    def add(self, engine: Any, n: int) -> None:
        """Insert `n` more proposals with everything that hangs off them."""
        done = 0
        while done < n:
            size = min(BATCH, n - done)
            with engine.begin() as conn:
                self._batch(conn, size)
            done += size

    def _batch(self, conn: Any, size: int) -> None:
        rng, now = self.rng, self.now
        rows, metas = [], []
        for _ in range(size):
            i = self.count
            self.count += 1
            answers, result = self.base[rng.randrange(len(self.base))]
            title = f"{answers['title'].rsplit(' ', 1)[0]} {i:07d}"
            stage = rng.choices(self.stages, self.weights)[0]
            created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
            changed = created + (now - created) * rng.random()
            tier = result["regulatory"]["eu_ai_act"]["tier"]
            rows.append(
                {
                    "title": title,
                    "requester": f"U{rng.randrange(2000):04d}",
                    "channel": "slack",
                    "department": rng.choice(DEPARTMENTS) if rng.random() > 0.03 else None,
                    "owner": answers.get("owner"),
                    "stage": stage,
                    "risk_level": result["risk_level"],
                    "capacity": answers.get("capacity"),
                    "autonomy": answers.get("autonomy"),
                    "eu_tier": tier,
                    "revision": 1,
                    "answers": {**answers, "title": title},
                    "created_at": created,
                    "updated_at": changed,
                    "stage_changed_at": changed,
                    "sprawl_key": sprawl_key_for(answers["title"], result),
                }
            )
            metas.append((stage, result, created, changed))
        ids = _ids(conn, m.Proposal, len(rows))
        for pid, row in zip(ids, rows, strict=True):
            row["id"] = pid
        _insert(conn, m.Proposal, rows)
        self._children(conn, ids, metas)

    def _children(self, conn: Any, ids: list[int], metas: list[tuple[str, dict[str, Any], datetime, datetime]]) -> None:
        rng, now = self.rng, self.now
        requests, decided, stops, checkins, audit = [], [], [], [], []
        for pid, (stage, result, created, changed) in zip(ids, metas, strict=True):
            audit.append(
                {
                    "proposal_id": pid,
                    "actor": "UREQ",
                    "action": "proposal.submitted",
                    "detail": {},
                    "created_at": created,
                }
            )
            if stage != "draft":
                audit.append(
                    {
                        "proposal_id": pid,
                        "actor": "UAPP",
                        "action": f"stage.{stage}",
                        "detail": {},
                        "created_at": changed,
                    }
                )
            for code in result["stop_conditions"]:
                overridden = stage in ("pilot", "production") and rng.random() < 0.5
                stops.append(
                    {
                        "proposal_id": pid,
                        "code": code,
                        "status": "overridden" if overridden else "open",
                        "override_reason": "accepted by governance" if overridden else None,
                        "overridden_by": "UGOV" if overridden else None,
                        "changed_at": created,
                    }
                )
            if stage == "draft":
                continue
            for seq, role in enumerate(result["approver_roles"]):
                pending = stage == "in_review" and rng.random() < 0.7
                at = created + timedelta(minutes=5)
                requests.append(
                    {
                        "proposal_id": pid,
                        "role": role,
                        "department": None,
                        "approver": f"U{rng.randrange(300):04d}",
                        "kind": "proposal",
                        "target": None,
                        "round": 1,
                        "status": "pending" if pending else "approved",
                        "note": None,
                        "created_at": at if not pending else now - timedelta(hours=rng.randrange(200)),
                        "decided_at": None if pending else changed,
                        "sequence": seq,
                    }
                )
                decided.append(None if pending else changed)
            if stage in ("pilot", "production") and rng.random() < 0.6:
                for k in range(rng.randrange(1, 4)):
                    at = changed + (now - changed) * rng.random()
                    checkins.append(
                        {
                            "proposal_id": pid,
                            "value": f"{rng.randrange(5, 60)}% fewer manual touches",
                            "note": None,
                            "reported_by": "UOWN",
                            "period": "{}-W{:02d}".format(*at.isocalendar()[:2]) + f"-{k}",
                            "created_at": at,
                        }
                    )
        if requests:
            rids = _ids(conn, m.ApprovalRequest, len(requests))
            for rid, row in zip(rids, requests, strict=True):
                row["id"] = rid
            _insert(conn, m.ApprovalRequest, requests)
            decisions = [
                {
                    "request_id": rid,
                    "decision": "approve",
                    "actor": "UAPP",
                    "on_behalf_of": None,
                    "comment": None,
                    "override_reason": None,
                    "created_at": at,
                }
                for rid, at in zip(rids, decided, strict=True)
                if at is not None
            ]
            if decisions:
                _insert(conn, m.Decision, decisions)
        if audit:  # the seeder is the only writer: chain its events after the current head
            from store.audit_chain import GENESIS, chain, head

            current = head(conn)
            chain(audit, current[1] if current else GENESIS)
        for model, batch in ((m.StopCondition, stops), (m.CheckinModel, checkins), (m.AuditEventModel, audit)):
            if batch:
                _insert(conn, model, batch)


def _ids(conn: Any, model: Any, n: int) -> list[int]:
    """Reserve `n` primary keys: from the table's sequence on PostgreSQL, after the
    current maximum elsewhere (the seeder is the only writer)."""
    table = model.__table__
    if conn.dialect.name == "postgresql":
        seq = conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table.name}', 'id')").scalar()
        return [r[0] for r in conn.exec_driver_sql(f"SELECT nextval('{seq}') FROM generate_series(1, {n})")]
    start = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar() or 0) + 1
    return list(range(start, start + n))


def _insert(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`: COPY on PostgreSQL (JSON columns as jsonb), executemany elsewhere."""
    if conn.dialect.name != "postgresql":
        conn.execute(insert(model), rows)
        return
    from psycopg.types.json import Jsonb

    table = model.__table__
    columns = [c.name for c in table.columns if c.name in rows[0]]
    json_cols = {
        c.name
        for c in table.columns
        if "JSON" in type(c.type).__name__.upper() or "JSON" in str(getattr(c.type, "impl", ""))
    }
    json_cols |= {c for c in columns if isinstance(rows[0][c], (dict, list))}
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Jsonb(row[c]) if c in json_cols else row[c] for c in columns])
