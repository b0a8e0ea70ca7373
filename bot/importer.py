"""`govbot import`: submit an existing AI inventory as if each row were proposed in chat.

Each row is validated, classified, stored and routed as a chat submission would be
(`bot.batch`: rows share one unit of work per chunk, each in a savepoint of its own),
so a refused row never blocks or half-writes the others. Re-importing the same file is
harmless: a row's idempotency key is a hash of its content and requester.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from bot.batch import CHUNK, submit_batch
from bot.domain import ProposalInvalid, validate_proposal
from bot.service import Govbot, Refused


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
