"""Submitting many first proposals at once (`govbot import`).

Rows go in chunks: one unit of work (one commit) per chunk, and a savepoint per row,
so a refused or failed row rolls back alone and leaves nothing half-written while the
others commit together. Each row runs the same code as a chat submission
(`bot.service.submit.first_in`): it is classified, stored and routed, with its audit
events and outbox messages, and it is recorded under its idempotency key, so a
re-import returns the first result as a duplicate.

A chunk runs in the unit of work's `batch` mode: the role directory, delegations and
conversation references are read once (the import writes none of them), and a row's
audit events and outbox messages are written together at the end of its savepoint,
one multi-row INSERT each. Every row of a chunk carries the chunk's time, the moment
its rows become visible together. A row that meets a conflict (a concurrent twin, or a
uniqueness rule of the database), or every row of a chunk whose commit fails, is tried
again in a unit of work of its own: it returns the twin's first result when that is
recorded by then, and is refused (with an audit event) otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from bot.domain.approval_rules import NoGovernance
from bot.domain.errors import Conflict, ProposalInvalid, Refused
from bot.domain.policy import Policy
from bot.domain.proposal import validate_proposal
from bot.ports import Clock, PolicySource, UnitOfWork
from bot.service.refusals import refuse_in
from bot.service.results import Submitted
from bot.service.submit import classify_answers, first_in, idempotency_name, log_first, replay_in
from bot.settings import Settings

logger = logging.getLogger(__name__)

CHUNK = 200  # rows per unit of work


def submit_batch(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    settings: Settings,
    actor: str,
    channel: str,
    rows: Sequence[tuple[dict[str, Any], str]],
    *,
    instance: str,
    chunk: int = CHUNK,
) -> list[Submitted | Refused]:
    """Submit validated `(answers, idempotency_key)` rows as `actor` in `channel`;
    returns one Submitted (duplicate=True when already recorded) or Refused per row."""
    out: list[Submitted | Refused] = []
    for start in range(0, len(rows), chunk):
        out.extend(_chunk(uow, clock, policy, settings, actor, channel, rows[start : start + chunk], instance))
    return out


def _chunk(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    settings: Settings,
    actor: str,
    channel: str,
    rows: Sequence[tuple[dict[str, Any], str]],
    instance: str,
    settle: bool = True,
) -> list[Submitted | Refused]:
    """One unit of work for `rows`, a savepoint per row. A row that meets a conflict
    (a concurrent twin, or a uniqueness rule of the database) is settled afterwards in
    a unit of work of its own; with `settle=False` (that second try) it is refused."""
    out: list[Submitted | Refused | None] = [None] * len(rows)
    again: list[int] = []
    now = clock.now()
    with uow, uow.batch():
        keys = [idempotency_name(actor, idempotency_key) for _, idempotency_key in rows]
        recorded = uow.keyvalues.get_many(keys)  # one look-up for the chunk
        for i, (answers, _) in enumerate(rows):
            key = keys[i]
            done = recorded.get(key)
            if done:
                out[i] = replay_in(uow, json.loads(done))
                continue
            result = classify_answers(policy, answers)
            try:
                with uow.savepoint():
                    out[i] = first_in(
                        uow, settings, actor, channel, answers, result, key, now, instance, unrecorded=True
                    )
            except NoGovernance as exc:
                out[i] = refuse_in(uow, actor, None, "proposal.refused", str(exc), now)
            except Conflict as exc:
                if settle:
                    again.append(i)
                    continue
                done = uow.keyvalues.get(key)  # a twin that committed meanwhile
                out[i] = (
                    replay_in(uow, json.loads(done))
                    if done
                    else refuse_in(uow, actor, None, "proposal.refused", f"the database refused it ({exc})", now)
                )
        try:
            uow.commit()
        except Conflict:
            if not settle:
                raise
            logger.info("an import chunk of %s rows met a conflict; settling its rows one by one", len(rows))
            again, out = list(range(len(rows))), [None] * len(rows)
    for item in out:
        if isinstance(item, Submitted) and not item.duplicate:
            log_first(item, actor)
    for i in again:
        out[i] = _chunk(uow, clock, policy, settings, actor, channel, [rows[i]], instance, settle=False)[0]
    assert all(item is not None for item in out)
    return [item for item in out if item is not None]


def row_key(actor: str, raw: object) -> str:
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return "import:" + hashlib.sha256(f"{actor}\n{canonical}".encode()).hexdigest()[:32]


def import_proposals(
    uow: UnitOfWork,
    clock: Clock,
    policy: PolicySource,
    settings: Settings,
    actor: str,
    channel: str,
    rows: Sequence[Any],
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    *,
    instance: str,
) -> dict[str, Any]:
    """Import every row; returns {"imported", "refused", "rows": [per-row report]}.
    Every row is classified under the policy in force when the import starts."""
    current = policy.current()
    report: list[dict[str, Any]] = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        report.extend(_import_chunk(uow, clock, current, settings, actor, channel, start, part, instance))
        if progress:
            progress(len(report))
    imported = sum(1 for r in report if r["status"] == "imported")
    return {"imported": imported, "refused": len(report) - imported, "rows": report}


def _title(raw: object) -> str | None:
    return raw.get("title") if isinstance(raw, dict) and isinstance(raw.get("title"), str) else None


def _import_chunk(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    settings: Settings,
    actor: str,
    channel: str,
    start: int,
    rows: Sequence[Any],
    instance: str,
) -> list[dict[str, Any]]:
    report: list[dict[str, Any]] = []
    valid: list[tuple[int, Any, dict[str, Any], str]] = []  # (position in report, raw, answers, key)
    for index, raw in enumerate(rows, start=start + 1):
        try:
            answers = validate_proposal(raw)
        except ProposalInvalid as exc:
            report.append(
                {"row": index, "status": "refused", "title": _title(raw), "errors": [str(e) for e in exc.errors]}
            )
            continue
        valid.append((len(report), raw, answers, row_key(actor, raw)))
        report.append({"row": index})
    batch = [(answers, key) for _, _, answers, key in valid]
    results = submit_batch(uow, clock, policy, settings, actor, channel, batch, instance=instance, chunk=len(rows) or 1)
    for (at, raw, answers, _), result in zip(valid, results, strict=True):
        index = report[at]["row"]
        if isinstance(result, Refused):
            report[at] = {"row": index, "status": "refused", "title": _title(raw), "errors": [result.message]}
        else:
            report[at] = {
                "row": index,
                "status": "imported",
                "title": answers["title"],
                "proposal_id": result.proposal_id,
                "risk_level": result.classification["risk_level"],
                "already_imported": result.duplicate,
            }
    return report
