"""Portfolio and digest facts of issue 16, in SQL: AI sprawl as clusters of
near-duplicates, live workflows per vendor, and hand-offs to departments that never
signed off. Used by `store.facts.SqlFacts`; every list is capped and comes with its total.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.domain.records import as_utc
from store import models as m

P = m.Proposal
INACTIVE = ("rejected", "retired")
RUNNING = ("pilot", "production")
SPRAWL_MEMBERS = 5


def sprawl_clusters(session: Session, cap: int) -> dict[str, Any]:
    """Connected groups of live proposals joined by near-duplicate pairs."""
    s, a, b = m.SimilarPair, aliased(P), aliased(P)
    edges = session.execute(
        select(s.proposal_id, s.other_id, s.score, s.reason)
        .join(a, and_(a.id == s.proposal_id, a.stage.not_in(INACTIVE)))
        .join(b, and_(b.id == s.other_id, b.stage.not_in(INACTIVE)))
    ).all()
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y, _, _ in edges:
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    best: dict[int, tuple[float, str]] = {}
    for x, _, score, why in edges:
        r = root(x)
        if r not in best or score > best[r][0]:
            best[r] = (float(score), why)
    members: dict[int, list[int]] = {}
    for x in parent:
        members.setdefault(root(x), []).append(x)
    info = {}
    ids = list(parent)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        info.update({r.id: r for r in session.execute(select(P.id, P.title, P.department).where(P.id.in_(chunk)))})
    groups = []
    for r, pids in members.items():
        pids.sort()
        depts = sorted({(info[i].department or "").strip() for i in pids if i in info} - {""}, key=str.casefold)
        groups.append((r, pids, depts))
    groups.sort(key=lambda g: (-len(g[1]), -len(g[2]), g[0]))
    out = []
    for r, pids, depts in groups[:cap]:
        first_of: dict[str, int] = {}
        for i in pids:
            first_of.setdefault((info[i].department or "").casefold(), i)
        shown = sorted(first_of.values(), key=lambda i: ((info[i].department or "").casefold(), i))
        shown += [i for i in pids if i not in shown]
        out.append(
            {
                "signature": f"cluster:{r}",
                "reason": best[r][1],
                "count": len(pids),
                "departments": depts[:cap],
                "department_count": len(depts),
                "proposals": [
                    {"id": i, "title": info[i].title, "department": info[i].department} for i in shown[:SPRAWL_MEMBERS]
                ],
            }
        )
    return {"groups_total": len(groups), "groups": out}


def by_vendor(session: Session, cap: int) -> dict[str, Any]:
    """Live workflows per named vendor (the same name in any case counts once), and
    how many name none."""
    live = P.stage.not_in(INACTIVE)
    key = func.lower(P.vendor)
    rows = session.execute(
        select(func.min(P.vendor), func.count()).where(live, P.vendor.is_not(None)).group_by(key)
    ).all()
    unnamed = session.scalar(select(func.count()).select_from(P).where(live, P.vendor.is_(None))) or 0
    top = sorted(rows, key=lambda r: (-r[1], str(r[0]).casefold()))[:cap]
    return {
        "total": len(rows),
        "items": [{"vendor": name, "count": int(n)} for name, n in top],
        "unnamed": int(unnamed),
    }


def handoffs(session: Session, cap: int) -> dict[str, Any]:
    """Live workflows that hand work to a department whose lead never approved them
    (imported ones too): automation islands in the making."""
    d, ar = m.ProposalDownstream, m.ApprovalRequest
    signed = exists().where(
        ar.proposal_id == d.proposal_id,
        ar.role == "department_lead",
        ar.kind == "proposal",
        ar.status == "approved",
        func.lower(ar.department) == func.lower(d.department),
    )
    where = and_(P.stage.not_in(INACTIVE), ~signed)
    base = select(d.proposal_id, d.department, P.title, P.department.label("from_dept"), P.stage).join(
        P, P.id == d.proposal_id
    )
    count = session.scalar(select(func.count()).select_from(d).join(P, P.id == d.proposal_id).where(where)) or 0
    rows = session.execute(base.where(where).order_by(d.proposal_id, d.department).limit(cap)).all()
    return {
        "count": int(count),
        "items": [
            {"id": pid, "title": title, "department": from_dept, "stage": stage, "to": to}
            for pid, to, title, from_dept, stage in rows
        ],
    }


def new_duplicates(session: Session, start: datetime, end: datetime, cap: int) -> dict[str, Any]:
    """Proposals new in [start, end) that duplicate a running one (pilot, production)
    of another department: each pair with its score and reason."""
    s, new, old = m.SimilarPair, aliased(P), aliased(P)
    pairs: list[Any] = []
    for mine, theirs in ((s.proposal_id, s.other_id), (s.other_id, s.proposal_id)):
        stmt = (
            select(new.id, new.title, new.department, old.id, old.title, old.department, old.stage, s.score, s.reason)
            .join(new, new.id == mine)
            .join(old, old.id == theirs)
            .where(
                new.created_at >= as_utc(start),
                new.created_at < as_utc(end),
                new.stage.not_in(INACTIVE),
                old.stage.in_(RUNNING),
            )
        )
        pairs += session.execute(stmt).all()
    seen: set[tuple[int, int]] = set()
    items = []
    for nid, ntitle, ndept, oid, otitle, odept, ostage, score, why in sorted(pairs, key=lambda r: (-r[7], r[0], r[3])):
        if (nid, oid) in seen:
            continue
        seen.add((nid, oid))
        items.append(
            {
                "id": nid,
                "title": ntitle,
                "department": ndept,
                "duplicates": {"id": oid, "title": otitle, "department": odept, "stage": ostage},
                "score": round(float(score), 4),
                "reason": why,
            }
        )
    return {"count": len(items), "items": items[:cap]}
