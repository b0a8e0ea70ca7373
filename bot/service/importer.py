"""Submitting many first proposals at once (`govbot import`).

Rows go in chunks: one unit of work (one commit) per chunk, and a savepoint per row,
so a refused or failed row rolls back alone and leaves nothing half-written while the
others commit together. Each row runs the same code as a chat submission
(`bot.submission._first_in`): it is classified, stored and routed, with its audit
events and outbox messages, and it is recorded under its idempotency key, so a
re-import returns the first result as a duplicate.

Within a chunk the role directory, delegations and conversation references are read
once (the batch writes none of them); a row's audit events and outbox messages are
written together at the end of the row, one multi-row INSERT each, inside its savepoint; and every row of a chunk carries the chunk's
time, the moment its rows become visible together. A row that meets a conflict (a
concurrent twin, or a uniqueness rule of the database), or every row of a chunk whose
commit fails, is tried again in a unit of work of its own: it returns the twin's first
result when that is recorded by then, and is refused (with an audit event) otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from bot.domain.approval_rules import NoGovernance
from bot.domain.errors import Conflict, Refused
from bot.domain.proposal import ProposalInvalid, validate_proposal
from bot.service.core import Govbot
from bot.service.results import Submitted
from bot.service.submit import _classify, _first_in, _log_first, _replay_in, idempotency_name

logger = logging.getLogger(__name__)

CHUNK = 200  # rows per unit of work
_MEMOIZED = {
    "roles": ("holders", "all", "roles_of"),
    "delegations": ("active_for", "delegators_of"),
    "conversations": ("get",),
}


def submit_batch(
    core: Any, actor: str, channel: str, rows: Sequence[tuple[dict[str, Any], str]], chunk: int = CHUNK
) -> list[Submitted | Refused]:
    """Submit validated `(answers, idempotency_key)` rows as `actor` in `channel`;
    returns one Submitted (duplicate=True when already recorded) or Refused per row."""
    out: list[Submitted | Refused] = []
    for start in range(0, len(rows), chunk):
        out.extend(_chunk(core, actor, channel, rows[start : start + chunk]))
    return out


def _chunk(
    core: Any, actor: str, channel: str, rows: Sequence[tuple[dict[str, Any], str]], settle: bool = True
) -> list[Submitted | Refused]:
    """One unit of work for `rows`, a savepoint per row. A row that meets a conflict
    (a concurrent twin, or a uniqueness rule of the database) is settled afterwards in
    a unit of work of its own; with `settle=False` (that second try) it is refused."""
    out: list[Submitted | Refused | None] = [None] * len(rows)
    again: list[int] = []
    now = core.clock.now()
    with core.uow() as uow:
        _memoize(uow)
        audit, outbox = _DeferredAudit(uow.audit), _DeferredOutbox(uow.outbox)
        uow.audit, uow.outbox = audit, outbox
        keys = [idempotency_name(actor, idempotency_key) for _, idempotency_key in rows]
        recorded = uow.settings.get_many(keys)  # one look-up for the chunk
        for i, (answers, _) in enumerate(rows):
            audit.discard()
            outbox.discard()
            key = keys[i]
            done = recorded.get(key)
            if done:
                out[i] = _replay_in(uow, json.loads(done))
                continue
            result = _classify(core, answers)
            try:
                with uow.savepoint():
                    out[i] = _first_in(core, uow, actor, channel, answers, result, key, now, unrecorded=True)
                    audit.write()
                    outbox.write()
            except NoGovernance as exc:
                audit.discard()
                out[i] = core._refuse_in(uow, actor, None, "proposal.refused", str(exc), now)
                audit.write()
            except Conflict as exc:
                if settle:
                    again.append(i)
                    continue
                audit.discard()
                outbox.discard()
                done = uow.settings.get(key)  # a twin that committed meanwhile
                out[i] = (
                    _replay_in(uow, json.loads(done))
                    if done
                    else core._refuse_in(uow, actor, None, "proposal.refused", f"the database refused it ({exc})", now)
                )
                audit.write()
        try:
            uow.commit()
        except Conflict:
            if not settle:
                raise
            logger.info("an import chunk of %s rows met a conflict; settling its rows one by one", len(rows))
            again, out = list(range(len(rows))), [None] * len(rows)
    for item in out:
        if isinstance(item, Submitted) and not item.duplicate:
            _log_first(item, actor)
    for i in again:
        out[i] = _chunk(core, actor, channel, [rows[i]], settle=False)[0]
    assert all(item is not None for item in out)
    return [item for item in out if item is not None]


class _Memo:
    """A repository whose look-ups are read once per chunk (copies are returned)."""

    def __init__(self, repo: Any, methods: Sequence[str]):
        self._repo = repo
        self._methods = set(methods)
        self._seen: dict[tuple[Any, ...], Any] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._repo, name)
        if name not in self._methods:
            return attr

        def read(*args: Any) -> Any:
            key = (name, *args)
            if key not in self._seen:
                self._seen[key] = attr(*args)
            found = self._seen[key]
            return list(found) if isinstance(found, list) else found

        return read


class _DeferredAudit:
    """The audit repository, holding a row's events until `write()` stores them in one
    multi-row INSERT (before the row's savepoint is released, so in its transaction)."""

    def __init__(self, repo: Any):
        self._repo = repo
        self._held: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)

    def add(self, proposal_id: int | None, actor: str, action: str, detail: dict[str, Any], at: Any) -> None:
        self._held.append((proposal_id, actor, action, detail, at))

    def write(self) -> None:
        held, self._held = self._held, []
        self._repo.add_many(held)

    def discard(self) -> None:
        self._held = []


class _DeferredOutbox(_DeferredAudit):
    """The outbox, holding a row's messages until `write()` stores them in one
    multi-row INSERT (a message whose dedupe key is taken is skipped, as `add` does).
    `add` returns None: a first submission does not use the queued row."""

    def add(self, channel: str, recipient: str, kind: str, payload: dict[str, Any], at: Any, **keys: Any) -> None:  # type: ignore[override]
        self._held.append((dict(channel=channel, recipient=recipient, kind=kind, payload=payload, at=at, **keys),))

    def write(self) -> None:
        held, self._held = self._held, []
        self._repo.add_many([message for (message,) in held])


def _memoize(uow: Any) -> None:
    for repo, methods in _MEMOIZED.items():
        setattr(uow, repo, _Memo(getattr(uow, repo), methods))


def row_key(actor: str, raw: Any) -> str:
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return "import:" + hashlib.sha256(f"{actor}\n{canonical}".encode()).hexdigest()[:32]


def import_proposals(
    core: Govbot,
    actor: str,
    channel: str,
    rows: Sequence[Any],
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
) -> dict[str, Any]:
    """Import every row; returns {"imported", "refused", "rows": [per-row report]}."""
    report: list[dict[str, Any]] = []
    for start in range(0, len(rows), chunk):
        report.extend(_import_chunk(core, actor, channel, start, rows[start : start + chunk]))
        if progress:
            progress(len(report))
    imported = sum(1 for r in report if r["status"] == "imported")
    return {"imported": imported, "refused": len(report) - imported, "rows": report}


def _title(raw: Any) -> str | None:
    return raw.get("title") if isinstance(raw, dict) and isinstance(raw.get("title"), str) else None


def _import_chunk(core: Govbot, actor: str, channel: str, start: int, rows: Sequence[Any]) -> list[dict[str, Any]]:
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
    results = submit_batch(core, actor, channel, [(answers, key) for _, _, answers, key in valid], chunk=len(rows) or 1)
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
