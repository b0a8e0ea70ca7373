"""`govbot import`: submit an existing AI inventory as if each row were proposed in chat.

Each row is validated, classified, stored and routed on its own (one unit of work per
row), so a refused row never blocks or half-writes the others. Re-importing the same
file is harmless: a row's idempotency key is a hash of its content and requester.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from bot.domain import ProposalInvalid, validate_proposal
from bot.service import Govbot, Refused


def row_key(actor: str, raw: Any) -> str:
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return "import:" + hashlib.sha256(f"{actor}\n{canonical}".encode()).hexdigest()[:32]


def import_proposals(
    core: Govbot, actor: str, channel: str, rows: Sequence[Any], progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Import every row; returns {"imported", "refused", "rows": [per-row report]}."""
    report: list[dict[str, Any]] = []
    for index, raw in enumerate(rows, start=1):
        report.append(_import_one(core, actor, channel, index, raw))
        if progress and (index % 25 == 0 or index == len(rows)):
            progress(index)
    imported = sum(1 for r in report if r["status"] == "imported")
    return {"imported": imported, "refused": len(report) - imported, "rows": report}


def _import_one(core: Govbot, actor: str, channel: str, index: int, raw: Any) -> dict[str, Any]:
    title = raw.get("title") if isinstance(raw, dict) and isinstance(raw.get("title"), str) else None
    try:
        answers = validate_proposal(raw)
        result = core.submit(actor, channel, answers, idempotency_key=row_key(actor, raw))
    except ProposalInvalid as exc:
        return {"row": index, "status": "refused", "title": title, "errors": [str(e) for e in exc.errors]}
    except Refused as exc:
        return {"row": index, "status": "refused", "title": title, "errors": [exc.message]}
    return {
        "row": index,
        "status": "imported",
        "title": answers["title"],
        "proposal_id": result.proposal_id,
        "risk_level": result.classification["risk_level"],
        "already_imported": result.duplicate,
    }
