"""The audit trail of one proposal (`govbot audit ID`) and the portfolio export
(`govbot export --format csv|json`).

The export pages through the proposals instead of loading them all at once, and each
page is read in its own short unit of work.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.domain.errors import UsageError
from bot.domain.incidents import IncidentRow
from bot.domain.records import ApprovalRequestRow, AuditEvent, Checkin, DecisionRow, ProposalRow, StopConditionRow
from bot.ports import Clock, UnitOfWork

Iso = Callable[[datetime | None], str | None]

logger = logging.getLogger(__name__)

FORMATS = ("csv", "json")
PAGE = 200
WHY_KEYS = ("reason", "override_reason", "comment", "note")
CSV_COLUMNS = (
    "id",
    "title",
    "department",
    "requester",
    "owner",
    "channel",
    "stage",
    "risk_level",
    "eu_ai_act_tier",
    "stack",
    "capacity",
    "autonomy",
    "vendor",
    "model",
    "downstream",
    "similar",
    "revision",
    "reasons",
    "stop_conditions",
    "overrides",
    "readiness_score",
    "ready_to_scale",
    "approver_roles",
    "approvals",
    "checkins",
    "latest_checkin_value",
    "latest_checkin_period",
    "created_at",
    "updated_at",
    "stage_changed_at",
    "policy_version",
    "policy_hash",
    "incidents",
    "open_incidents",
)


def iso_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- audit trail


def format_event(event: AuditEvent) -> str:
    """One audit event as a line: when, who, what, why (and the other details)."""
    detail = dict(event.detail or {})
    why = [f"{key}: {detail.pop(key)}" for key in WHY_KEYS if detail.get(key)]
    rest = " ".join(f"{k}={_short(v)}" for k, v in sorted(detail.items()) if v not in (None, "", [], {}))
    line = f"{iso_time(event.created_at)}  {event.actor}  {event.action}"
    if rest:
        line += f"  {rest}"
    if why:
        line += "  — " + "; ".join(why)
    return line


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def audit_lines(uow: UnitOfWork, proposal_id: int) -> list[str]:
    """The full trail of a proposal, oldest first: who did what, when, and why.

    Raises `bot.domain.errors.NotFound` when there is no such proposal."""
    with uow:
        row = uow.proposals.get(proposal_id)
        events = uow.audit.for_proposal(proposal_id)
    head = (
        f'Audit trail of #{row.id} "{row.title}" — stage {row.stage}, risk {row.risk_level}, '
        f"requester {row.requester}, owner {row.owner or '(none)'}"
    )
    return [head, *(format_event(e) for e in events)]


# --------------------------------------------------------------------------- export


def _pages(uow: UnitOfWork) -> Iterator[list[ProposalRow]]:
    offset = 0
    while True:
        with uow:
            page = uow.proposals.list(limit=PAGE, offset=offset)
        if not page:
            return
        yield page
        if len(page) < PAGE:
            return
        offset += PAGE


def proposal_record(uow: UnitOfWork, row: ProposalRow) -> dict[str, Any]:
    """Everything the export says about one proposal (JSON-ready)."""
    latest = uow.classifications.latest(row.id)
    result = latest.result if latest is not None else {}
    regulatory = result.get("regulatory") or {}
    eu = regulatory.get("eu_ai_act") or {}
    requests = uow.approvals.for_proposal(row.id)
    decisions = {d.request_id: d for d in uow.decisions.for_proposal(row.id)}
    checkins = uow.checkins.for_proposal(row.id)
    stops = uow.stop_conditions.for_proposal(row.id)
    return {
        "id": row.id,
        "title": row.title,
        "department": row.department,
        "requester": row.requester,
        "owner": row.owner,
        "channel": row.channel,
        "stage": row.stage,
        "risk_level": row.risk_level,
        "eu_ai_act_tier": row.eu_tier or eu.get("tier"),
        "eu_ai_act": eu or None,
        "stack": row.answers.get("stack"),
        "capacity": row.capacity,
        "autonomy": row.autonomy,
        "vendor": row.vendor,
        "model": row.model,
        "downstream": uow.handoffs.for_proposal(row.id),
        "similar": [x.to_json() for x in uow.similarity.linked(row.id)],
        "revision": row.revision,
        "created_at": iso_time(row.created_at),
        "updated_at": iso_time(row.updated_at),
        "stage_changed_at": iso_time(row.stage_changed_at),
        "classification": {
            "revision": latest.revision if latest else None,
            "reasons": result.get("reasons", []),
            "stop_conditions": result.get("stop_conditions", []),
            "readiness": result.get("readiness"),
            "approver_roles": result.get("approver_roles", []),
            "effective": result.get("effective"),
            "policy_version": result.get("policy_version"),
            "policy_hash": result.get("policy_hash"),
        },
        "stop_conditions": [stop_record(s, iso_time) for s in stops],
        "approvals": [approval_record(r, decisions.get(r.id), iso_time) for r in requests],
        "checkins": [checkin_record(c, iso_time) for c in checkins],
        "incidents": [incident_record(i, iso_time) for i in uow.incidents.for_proposal(row.id)],
    }


# ----------------------------------------------------- records shared with `status --json`


def decision_record(d: DecisionRow | None, iso: Iso) -> dict[str, Any] | None:
    """One decision, JSON-ready (None when the request has none); `iso` writes times."""
    if d is None:
        return None
    return {
        "decision": d.decision,
        "actor": d.actor,
        "on_behalf_of": d.on_behalf_of,
        "comment": d.comment,
        "override_reason": d.override_reason,
        "created_at": iso(d.created_at),
    }


def approval_record(
    r: ApprovalRequestRow,
    decision: DecisionRow | None,
    iso: Iso,
    *,
    sequence: bool = False,
    decisions: Sequence[DecisionRow] = (),
) -> dict[str, Any]:
    """One approval request with its decision, JSON-ready; `sequence` adds the
    owner-first order (shown by `status`); `decisions`, every decision on it (a
    quorum collects several), adds `approvals` and `decisions`."""
    out: dict[str, Any] = {
        "id": r.id,
        "kind": r.kind,
        "target": r.target,
        "role": r.role,
        "department": r.department,
        "approver": r.approver,
        "round": r.round,
        "status": r.status,
        "note": r.note,
    }
    if sequence:
        out["sequence"] = r.sequence
        out["quorum"] = r.quorum
        out["approvals"] = len({d.actor for d in decisions if d.decision == "approve"})
        out["waiting"] = r.waiting
        out["governance_fallback"] = r.governance_fallback
        out["decisions"] = [decision_record(d, iso) for d in decisions]
    out.update(
        {
            "created_at": iso(r.created_at),
            "reminded_at": iso(r.reminded_at),
            "escalated_at": iso(r.escalated_at),
            "decided_at": iso(r.decided_at),
            "decision": decision_record(decision, iso),
        }
    )
    return out


def stop_record(s: StopConditionRow, iso: Iso) -> dict[str, Any]:
    """One stop condition with its override, JSON-ready."""
    return {
        "code": s.code,
        "status": s.status,
        "overridden_by": s.overridden_by,
        "override_reason": s.override_reason,
        "changed_at": iso(s.changed_at),
    }


def checkin_record(c: Checkin, iso: Iso) -> dict[str, Any]:
    """One value check-in, JSON-ready."""
    return {
        "period": c.period,
        "value": c.value,
        "note": c.note,
        "reported_by": c.reported_by,
        "created_at": iso(c.created_at),
    }


def incident_record(i: IncidentRow, iso: Iso) -> dict[str, Any]:
    """One incident, JSON-ready: the DESIGN.md keys of `status --json` (`incidents`),
    then who resolved it when."""
    return {
        "id": i.id,
        "severity": i.severity,
        "status": i.status,
        "text": i.text,
        "reported_by": i.reported_by,
        "created_at": iso(i.created_at),
        "resolution": i.resolution,
        "resolved_by": i.resolved_by,
        "resolved_at": iso(i.resolved_at),
    }


def records(uow: UnitOfWork) -> Iterator[dict[str, Any]]:
    """Every proposal's export record, page by page (one unit of work per page)."""
    for page in _pages(uow):
        with uow:
            for row in page:
                yield proposal_record(uow, row)


def export(uow: UnitOfWork, clock: Clock, fmt: str) -> str:
    """The portfolio as CSV (one row per proposal) or JSON (records and counts)."""
    if fmt not in FORMATS:
        raise UsageError(f"format: unknown {fmt!r}; allowed: {', '.join(FORMATS)}")
    if fmt == "csv":
        return _csv(uow)
    counts: dict[str, Counter[str]] = {
        "stage": Counter(),
        "risk_level": Counter(),
        "eu_ai_act_tier": Counter(),
        "capacity": Counter(),
        "stack": Counter(),
        "vendor": Counter(),
    }
    out = io.StringIO()  # written record by record: no list of every proposal is kept
    out.write('{\n  "generated_at": ' + json.dumps(iso_time(clock.now())) + ',\n  "proposals": [')
    n = 0
    for record in records(uow):
        for key, counter in counts.items():
            counter[record.get(key) or "unknown"] += 1
        text = json.dumps(record, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        out.write(("," if n else "") + "\n    " + text)
        n += 1
    out.write(("\n  " if n else "") + '],\n  "count": ' + str(n) + ',\n  "counts": ')
    summary = {f"by_{k}": dict(sorted(v.items())) for k, v in counts.items()}
    out.write(json.dumps(summary, indent=2, ensure_ascii=False).replace("\n", "\n  ") + "\n}\n")
    return out.getvalue()


def _csv(uow: UnitOfWork) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records(uow):
        c = r["classification"]
        latest = r["checkins"][-1] if r["checkins"] else {}
        readiness = c.get("readiness") or {}
        flat = {
            **{k: r[k] for k in CSV_COLUMNS if k in r},
            "reasons": "; ".join(c["reasons"]),
            "stop_conditions": "; ".join(f"{s['code']}:{s['status']}" for s in r["stop_conditions"]),
            "overrides": "; ".join(
                f"{s['code']} by {s['overridden_by']}: {s['override_reason']}"
                for s in r["stop_conditions"]
                if s["status"] == "overridden"
            ),
            "readiness_score": readiness.get("score"),
            "ready_to_scale": readiness.get("ready_to_scale"),
            "approver_roles": "; ".join(c["approver_roles"]),
            "downstream": "; ".join(r["downstream"]),
            "similar": "; ".join(f"#{x['id']} ({x['score']})" for x in r["similar"]),
            "approvals": "; ".join(_approval_cell(a) for a in r["approvals"]),
            "checkins": len(r["checkins"]),
            "latest_checkin_value": latest.get("value"),
            "latest_checkin_period": latest.get("period"),
            "policy_version": c.get("policy_version"),
            "policy_hash": c.get("policy_hash"),
            "incidents": len(r["incidents"]),
            "open_incidents": "; ".join(
                f"{i['id']}:{i['severity']}: {i['text']}" for i in r["incidents"] if i["status"] == "open"
            ),
        }
        writer.writerow([_cell(flat.get(k)) for k in CSV_COLUMNS])
    return buffer.getvalue()


def _approval_cell(a: dict[str, Any]) -> str:
    label = a["role"] if a["kind"] == "proposal" else f"{a['role']}[autonomy->{a['target']}]"
    text = f"{label}:{a['status']}:{a['approver']}"
    if a["decision"] and a["decision"]["actor"] != a["approver"]:
        text += f" (by {a['decision']['actor']})"
    return text


def _cell(value: Any) -> str:
    """A CSV cell that spreadsheets will not run as a formula."""
    if value is None:
        return ""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text
