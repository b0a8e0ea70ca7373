"""Near-duplicates across the portfolio (implements `bot.ports.SimilarityRepo`).

Each proposal's `TextVector` (offline terms, and an embedding when configured) is a row
of `proposal_terms`. Finding the near-duplicates of a new proposal compares it with
every other one, so the rows live in an in-memory `TermIndex` per engine, shared by the
units of work of a process: an inverted index of numpy posting arrays for the terms (a
query adds up only the postings of its own terms, `np.bincount`) and one matrix per
embeddings model. The index catches up incrementally before each search: it reads the
ids above its high-water mark (minus a window, because concurrent transactions commit
out of order) and loads only the rows it has not seen. A changed text is a new row (a
new id) that replaces the proposal's old one in the index. Rows written by the caller's
own, uncommitted unit of work are searched from that unit of work only, so a rollback
never leaves a phantom in the shared index.

The index gives scores; SQL then says which candidates are live (not rejected or
retired), of another department, and what they are called now. `similar_pairs` keeps
the near-duplicates found at submission (both directions are read), for approval
cards, `status`, the digest and the portfolio's clusters.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Engine, Integer, Table, bindparam, delete, insert, or_, select
from sqlalchemy.orm import Session

from bot.domain.similarity import (
    Match,
    SimilarityRules,
    TextVector,
    reason,
    reasons,
    same_department,
    word_counts,
)
from store import models as m

INACTIVE = ("rejected", "retired")
WINDOW = 2000  # ids below the high-water mark read again (transactions commit out of order)
CANDIDATES = 30  # highest-scoring candidates checked in SQL (same department or not live: dropped)
PAIRS_KEPT = 10  # near-duplicates stored per proposal


class _Growable:
    """A 1-D numpy array with amortised O(1) append."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: Any, capacity: int = 4):
        self.data = np.zeros(capacity, dtype=dtype)
        self.size = 0

    def append(self, value: Any) -> None:
        if self.size == len(self.data):
            self.data = np.resize(self.data, max(4, 2 * self.size))
        self.data[self.size] = value
        self.size += 1

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class _Dense:
    """The embeddings of one model: normalised rows of a growable matrix."""

    def __init__(self, dim: int):
        self.dim = dim
        self.matrix = np.zeros((16, dim), dtype=np.float32)
        self.pids: list[int] = []
        self.row_of: dict[int, int] = {}
        self.alive = _Growable(bool)

    def add(self, pid: int, vector: Sequence[float]) -> None:
        old = self.row_of.get(pid)
        if old is not None:
            self.alive.data[old] = False
        if len(self.pids) == len(self.matrix):
            self.matrix = np.resize(self.matrix, (2 * len(self.matrix), self.dim))
        v = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(v))
        self.matrix[len(self.pids)] = v / norm if norm else v
        self.row_of[pid] = len(self.pids)
        self.pids.append(pid)
        self.alive.append(True)

    def scores(self, query: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """(pids, cosines) of every live row."""
        q = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(q))
        n = len(self.pids)
        if n == 0 or norm == 0 or len(q) != self.dim:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        sims = self.matrix[:n] @ (q / norm)
        keep = self.alive.view()
        return np.asarray(self.pids, dtype=np.int64)[keep], sims[keep]


class TermIndex:
    """Every proposal's terms (and embeddings) in memory, for fast look-ups."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.vocab: dict[str, int] = {}
        self.post_rows: list[_Growable] = []
        self.post_weights: list[_Growable] = []
        self.row_pid = _Growable(np.int64)
        self.alive = _Growable(bool)
        self.row_of: dict[int, int] = {}
        self.dense: dict[str, _Dense] = {}
        self.high = 0  # highest proposal_terms id loaded
        self.seen: set[int] = set()  # ids above high - WINDOW already loaded

    def __len__(self) -> int:
        return len(self.row_of)

    def add(self, pid: int, vector: TextVector) -> None:
        """Index (or re-index) proposal `pid`."""
        old = self.row_of.get(pid)
        if old is not None:
            self.alive.data[old] = False
        row = self.row_pid.size
        self.row_pid.append(pid)
        self.alive.append(True)
        self.row_of[pid] = row
        for term, weight in vector.terms.items():
            col = self.vocab.get(term)
            if col is None:
                col = self.vocab[term] = len(self.post_rows)
                self.post_rows.append(_Growable(np.int32))
                self.post_weights.append(_Growable(np.float32))
            self.post_rows[col].append(row)
            self.post_weights[col].append(weight)
        if vector.embedding and vector.model:
            dense = self.dense.get(vector.model)
            if dense is None:
                dense = self.dense[vector.model] = _Dense(len(vector.embedding))
            if len(vector.embedding) == dense.dim:
                dense.add(pid, vector.embedding)

    def search(self, vector: TextVector, rules: SimilarityRules, top: int | None = None) -> dict[int, float]:
        """{pid: score} of the indexed proposals at or above the threshold (the `top`
        best of them when given): the embedding's cosine where both have one of the
        same model, else the terms'."""
        out: dict[int, float] = {}
        n = self.row_pid.size
        embedded: set[int] = set()
        if vector.embedding and vector.model and vector.model in self.dense:
            pids, sims = self.dense[vector.model].scores(vector.embedding)
            embedded = set(pids.tolist())
            hit = sims >= rules.embeddings_threshold
            out.update(zip(pids[hit].tolist(), np.round(sims[hit], 4).tolist(), strict=True))
        if n == 0:
            return out
        rows: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for term, qw in vector.terms.items():
            col = self.vocab.get(term)
            if col is not None:
                rows.append(self.post_rows[col].view())
                weights.append(self.post_weights[col].view() * np.float32(qw))
        if not rows:
            return out
        scores = np.bincount(np.concatenate(rows), weights=np.concatenate(weights), minlength=n)
        scores[~self.alive.view()] = 0.0
        hits = np.flatnonzero(scores >= rules.threshold - 1e-9)
        if top is not None and len(hits) > top + len(embedded):  # keep the best (ties may go either way)
            hits = hits[np.argpartition(-scores[hits], top + len(embedded))[: top + len(embedded)]]
        for row, score in zip(hits.tolist(), np.round(scores[hits], 4).tolist(), strict=True):
            pid = int(self.row_pid.data[row])
            if pid not in embedded:
                out[pid] = min(1.0, score)
        return out


_INDEXES: weakref.WeakKeyDictionary[Engine, TermIndex] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def index_for(bind: Engine | Connection) -> TermIndex:
    """The process's index of the database behind `bind` (one per engine)."""
    engine = bind.engine if isinstance(bind, Connection) else bind
    with _REGISTRY_LOCK:
        found = _INDEXES.get(engine)
        if found is None:
            found = _INDEXES[engine] = TermIndex()
        return found


def _vector(terms_: dict[str, Any], embedding: list[float] | None, model: str | None) -> TextVector:
    return TextVector(
        {str(k): float(v) for k, v in (terms_ or {}).items()}, tuple(embedding) if embedding else None, model
    )


def catch_up(index: TermIndex, run: Any, skip: Iterable[int] = ()) -> int:
    """Load the rows of `proposal_terms` the index has not seen; `run` executes a
    statement (a session's or a connection's). Returns how many were loaded."""
    t = m.ProposalTerms
    skip = set(skip)
    floor = index.high - WINDOW
    cols = (t.id, t.proposal_id, t.terms, t.embedding, t.embedding_model)
    if index.high == 0:
        rows = run(select(*cols).order_by(t.id)).all()
    else:
        ids = [i for i in run(select(t.id).where(t.id > floor)).scalars() if i not in index.seen and i not in skip]
        rows = []
        for start in range(0, len(ids), 500):
            rows += run(select(*cols).where(t.id.in_(ids[start : start + 500])).order_by(t.id)).all()
    loaded = 0
    for rid, pid, terms_, embedding, model in rows:
        if rid in skip or rid in index.seen:
            continue
        index.add(pid, _vector(terms_, embedding, model))
        index.seen.add(rid)
        index.high = max(index.high, rid)
        loaded += 1
    if loaded:
        floor = index.high - WINDOW
        index.seen = {i for i in index.seen if i > floor}
    return loaded


class SqlSimilarityRepo:
    """Near-duplicates over one session (see the module docstring)."""

    def __init__(self, session: Session):
        self.session = session
        self._written: set[int] = set()  # proposal_terms ids written by this unit of work
        self._local = TermIndex()  # their vectors (searched from this unit of work only)
        self._caught_up = False  # the shared index is read once per unit of work

    def vector(self, proposal_id: int) -> TextVector | None:
        t = m.ProposalTerms
        row = self.session.execute(
            select(t.terms, t.embedding, t.embedding_model).where(t.proposal_id == proposal_id)
        ).first()
        return None if row is None else _vector(*row)

    def put(self, proposal_id: int, vector: TextVector, at: datetime, *, replace: bool = True) -> None:
        if replace:
            self.session.execute(_stmt("terms.delete"), {"w_pid": proposal_id})
        new_id = self.session.execute(
            _stmt("terms.insert"),
            {
                "proposal_id": proposal_id,
                "terms": vector.counts,
                "embedding": list(vector.embedding) if vector.embedding else None,
                "embedding_model": vector.model if vector.embedding else None,
                "created_at": at,
            },
        ).scalar_one()
        self._written.add(new_id)
        self._local.add(proposal_id, vector)

    def nearest(
        self,
        vector: TextVector,
        title: str,
        description: str | None,
        *,
        department: str | None,
        rules: SimilarityRules,
        exclude_id: int | None = None,
        limit: int = 10,
    ) -> list[Match]:
        """Live proposals of other departments at or above the threshold, best first."""
        index = index_for(self.session.get_bind())
        with index.lock:
            if not self._caught_up:
                catch_up(index, self.session.execute, self._written)
                self._caught_up = True
            scores = index.search(vector, rules, top=CANDIDATES)
        if len(self._local):  # this unit of work's own, uncommitted rows replace the shared ones
            for pid in self._local.row_of:
                scores.pop(pid, None)
            scores.update(self._local.search(vector, rules, top=CANDIDATES))
        scores.pop(exclude_id, None)  # type: ignore[arg-type]
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:CANDIDATES]
        return self._matches(best, title, description, department, rules, limit)

    def _matches(
        self,
        scored: Sequence[tuple[int, float]],
        title: str,
        description: str | None,
        department: str | None,
        rules: SimilarityRules,
        limit: int,
    ) -> list[Match]:
        if not scored:
            return []
        info = {r[0]: r for r in self.session.execute(_stmt("proposals.info"), {"w_ids": [pid for pid, _ in scored]})}
        keep = [
            (pid, score)
            for pid, score in scored
            if pid in info and info[pid][3] not in INACTIVE and not same_department(department, info[pid][2])
        ][:limit]
        why = reasons(title, description, [(info[pid][1], info[pid][5]) for pid, _ in keep], rules)
        return [
            Match(pid, info[pid][1], info[pid][2], score, because, info[pid][3], info[pid][4])
            for (pid, score), because in zip(keep, why, strict=True)
        ]

    def link(self, proposal_id: int, matches: Sequence[Match], at: datetime, *, replace: bool = True) -> None:
        """Replace the stored near-duplicates of `proposal_id` (both directions)."""
        if replace:
            self.session.execute(_stmt("pairs.delete"), {"w_pid": proposal_id})
        rows = [
            {"proposal_id": proposal_id, "other_id": x.id, "score": x.score, "reason": x.reason, "created_at": at}
            for x in matches[:PAIRS_KEPT]
            if x.id != proposal_id
        ]
        if rows:
            self.session.execute(_stmt("pairs.insert"), rows)

    def linked(self, proposal_id: int, limit: int = 10) -> list[Match]:
        """The stored near-duplicates of a proposal that are still live, best first."""
        me = self.session.execute(_stmt("proposals.department"), {"w_pid": proposal_id}).scalar()
        out: dict[int, Match] = {}
        for name in ("pairs.forward", "pairs.backward"):
            for pid, title, dept, score, why, stage, owner in self.session.execute(_stmt(name), {"w_pid": proposal_id}):
                if not same_department(me, dept) and (pid not in out or out[pid].score < score):
                    out[pid] = Match(pid, title, dept, round(float(score), 4), why, stage, owner)
        return sorted(out.values(), key=lambda x: (-x.score, x.id))[:limit]


_STATEMENTS: dict[str, Any] = {}


def _stmt(name: str) -> Any:
    """A statement with bound parameters, built once (the import runs these per row)."""
    found = _STATEMENTS.get(name)
    if found is None:
        found = _STATEMENTS[name] = _build(name)
    return found


def _build(name: str) -> Any:
    t, s, p = _table(m.ProposalTerms), _table(m.SimilarPair), _table(m.Proposal)
    pid = bindparam("w_pid", type_=Integer())
    if name == "terms.delete":
        return delete(t).where(t.c.proposal_id == pid)
    if name == "terms.insert":
        return insert(t).returning(t.c.id)
    if name == "pairs.delete":
        return delete(s).where(or_(s.c.proposal_id == pid, s.c.other_id == pid))
    if name == "pairs.insert":
        return insert(s)
    if name == "proposals.info":  # the description is one key of the answers: not the whole document
        description = p.c.answers["description"].as_string()
        return select(p.c.id, p.c.title, p.c.department, p.c.stage, p.c.owner, description).where(
            p.c.id.in_(bindparam("w_ids", expanding=True))
        )
    if name == "proposals.department":
        return select(p.c.department).where(p.c.id == pid)
    mine, theirs = (s.c.proposal_id, s.c.other_id) if name == "pairs.forward" else (s.c.other_id, s.c.proposal_id)
    return (
        select(p.c.id, p.c.title, p.c.department, s.c.score, s.c.reason, p.c.stage, p.c.owner)
        .join(p, p.c.id == theirs)
        .where(mine == pid, p.c.stage.not_in(INACTIVE))
    )


def backfill(conn: Connection, rules: SimilarityRules | None = None) -> int:
    """Migration 0007: terms, vendor, model, downstream departments and near-duplicates
    of every existing proposal, in id order (as if each were submitted again)."""
    from bot.domain.policy_file import load_policy
    from bot.domain.proposal import check_field

    rules = rules or load_policy().similarity
    p = _table(m.Proposal)
    index = TermIndex()
    texts: dict[int, tuple[str, str | None, str | None, str]] = {}
    now = datetime.now().astimezone()
    count = 0
    for pid, title, department, stage, raw in conn.execute(
        select(p.c.id, p.c.title, p.c.department, p.c.stage, p.c.answers).order_by(p.c.id)
    ):
        answers: dict[str, Any] = raw or {}
        description = answers.get("description")
        vector = TextVector(word_counts(title, description, rules))
        conn.execute(
            insert(_table(m.ProposalTerms)),
            {"proposal_id": pid, "terms": vector.counts, "embedding": None, "embedding_model": None, "created_at": now},
        )
        vendor, model = _clip(answers.get("vendor")), _clip(answers.get("model"))
        if vendor or model:
            conn.execute(p.update().where(p.c.id == pid).values(vendor=vendor, model=model))
        downstream, problem = check_field("downstream", answers.get("downstream") or [])
        for dept in [] if problem else downstream:
            conn.execute(insert(_table(m.ProposalDownstream)), {"proposal_id": pid, "department": dept})
        found = sorted(index.search(vector, rules).items(), key=lambda kv: (-kv[1], kv[0]))
        pairs = []
        for other, score in found:
            o_title, o_desc, o_dept, o_stage = texts[other]
            if same_department(department, o_dept) or o_stage in INACTIVE or stage in INACTIVE:
                continue
            why = reason(title, description, o_title, o_desc, rules)
            pairs.append({"proposal_id": pid, "other_id": other, "score": score, "reason": why, "created_at": now})
        if pairs:
            conn.execute(insert(_table(m.SimilarPair)), pairs[:PAIRS_KEPT])
        index.add(pid, vector)
        texts[pid] = (title, description, department, stage)
        count += 1
    return count


def _table(model: type[m.Base]) -> Table:
    return cast(Table, model.__table__)


def _clip(value: Any) -> str | None:
    return value.strip()[:120] or None if isinstance(value, str) else None
