"""Near-duplicates (issue 16): quality on the labelled pairs and the speed of a look-up.

- `quality()`: precision and recall of the offline matcher on
  `tests/support/similarity_pairs.json` at the policy's threshold, and at a few others;
  and on `similarity_holdout.json`, pairs written after the synonym table was tuned
  (the honest figure for proposals nobody has seen).
- `speed(sizes)`: a portfolio of N generated proposals in the in-memory index
  (`store.similarity.TermIndex`): the time to index it, to add one more, and to compare
  a new proposal with all of them (p50/p95 of 200 look-ups).
- `sql(n)`: the same look-up through the repository on a SQLite file holding N
  proposals: the first look-up of a process (the index loads every row), then each
  later one (catching up with SQL, checking the candidates and writing the reasons).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.policy_file import load_policy
from bot.domain.similarity import OfflineMatcher, TextVector
from tests.support.similarity_eval import HOLDOUT_FILE, evaluate

VERBS = (
    ("Summarises", "summary"),
    ("Drafts replies to", "reply drafting"),
    ("Classifies", "classifier"),
    ("Translates", "translation"),
    ("Extracts key fields from", "extraction"),
    ("Checks", "checker"),
    ("Routes", "routing"),
    ("Scores", "scoring"),
    ("Answers questions about", "Q&A"),
    ("Monitors", "monitoring"),
    ("Tags", "tagging"),
    ("Matches", "matching"),
    ("Redacts personal data in", "redaction"),
    ("Forecasts volumes of", "forecast"),
    ("Reviews", "review assistant"),
)
OBJECTS = (
    "support tickets",
    "supplier invoices",
    "sales call transcripts",
    "job adverts",
    "pull requests",
    "expense claims",
    "customer contracts",
    "survey comments",
    "release notes",
    "security alerts",
    "customer emails",
    "purchase requests",
    "board papers",
    "CVs",
    "NDAs",
    "app store reviews",
    "application logs",
    "help centre articles",
    "product descriptions",
    "incident timelines",
    "shift logs",
    "training courses",
    "tender questionnaires",
    "warehouse orders",
    "CRM leads",
)
PURPOSES = (
    "for the team lead to check",
    "so agents can answer faster",
    "into a weekly report for management",
    "and flags the ones that need a person",
    "before they reach the customer",
    "for the finance team",
    "so nobody retypes them",
    "and suggests the next step",
)
SOURCES = ("from the CRM", "from Jira", "from SharePoint", "from the ERP", "from email", "from the data warehouse", "")
DEPARTMENTS = (
    "Support",
    "Finance",
    "Sales",
    "HR",
    "Legal",
    "Engineering",
    "Marketing",
    "Operations",
    "IT",
    "Procurement",
)


def generated(rng: random.Random, i: int) -> tuple[str, str, str]:
    """(title, description, department) of one generated proposal."""
    verb, noun = rng.choice(VERBS)
    obj = rng.choice(OBJECTS)
    title = f"{obj.capitalize()} {noun} {rng.choice(('pilot', 'helper', 'v2', 'for ' + rng.choice(DEPARTMENTS)))}"
    description = f"{verb} {obj} {rng.choice(SOURCES)} {rng.choice(PURPOSES)}. Ref {i:06d}."
    return title, " ".join(description.split()), rng.choice(DEPARTMENTS)


def quality() -> dict[str, Any]:
    rules = load_policy().similarity
    report = evaluate(rules)
    sweep = {}
    for t in (0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        r = evaluate(rules, t)
        sweep[str(t)] = {"precision": round(r.precision, 3), "recall": round(r.recall, 3)}
    held = evaluate(rules, path=HOLDOUT_FILE)
    return {
        "holdout": {
            "pairs": held.true_pos + held.false_pos + held.false_neg + held.true_neg,
            "precision": round(held.precision, 3),
            "recall": round(held.recall, 3),
        },
        "threshold": rules.threshold,
        "pairs": report.true_pos + report.false_pos + report.false_neg + report.true_neg,
        "precision": round(report.precision, 3),
        "recall": round(report.recall, 3),
        "true_pos": report.true_pos,
        "false_pos": report.false_pos,
        "false_neg": report.false_neg,
        "missed": list(report.missed),
        "wrongly_found": list(report.wrongly_found),
        "sweep": sweep,
    }


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def speed(sizes: list[int], queries: int = 200, log: Any = print) -> dict[str, Any]:
    from store.similarity import TermIndex

    rules = load_policy().similarity
    matcher = OfflineMatcher()
    out: dict[str, Any] = {}
    for n in sizes:
        log(f"  similarity index of {n:,} proposals ...")
        rng = random.Random(n)
        vectors = [matcher.describe(*generated(rng, i)[:2], rules) for i in range(n)]
        index = TermIndex()
        began = time.perf_counter()
        for pid, vector in enumerate(vectors, start=1):
            index.add(pid, vector)
        build = time.perf_counter() - began
        probes = [matcher.describe(*generated(rng, n + i)[:2], rules) for i in range(queries)]
        found, looks = [], []
        for probe in probes:
            began = time.perf_counter()
            hits = index.search(probe, rules)
            looks.append(time.perf_counter() - began)
            found.append(len(hits))
        adds = []
        for i, probe in enumerate(probes[:50]):
            began = time.perf_counter()
            index.add(n + 1 + i, probe)
            adds.append(time.perf_counter() - began)
        out[str(n)] = {
            "index_s": round(build, 2),
            "add_ms": round(statistics.median(adds) * 1000, 3),
            "lookup": _ms(looks),
            "matches_per_lookup": round(statistics.mean(found), 1),
            "terms": len(index.vocab),
        }
    return out


def sql(database_url: str, n: int, queries: int = 50, log: Any = print) -> dict[str, Any]:
    """Look-ups through `SqlSimilarityRepo.nearest` on a database of `n` proposals."""
    from sqlalchemy import insert

    from store import models as m
    from store.db import make_engine
    from store.uow import SqlUnitOfWorkFactory

    rules = load_policy().similarity
    matcher = OfflineMatcher()
    rng = random.Random(7)
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    log(f"  seeding {n:,} proposals with their terms ...")
    with engine.begin() as conn:
        for start in range(0, n, 5000):
            rows, terms_rows = [], []
            for i in range(start, min(n, start + 5000)):
                title, description, dept = generated(rng, i)
                rows.append(_row(i + 1, title, description, dept, now))
                terms_rows.append(
                    {
                        "proposal_id": i + 1,
                        "terms": matcher.describe(title, description, rules).counts,
                        "embedding": None,
                        "embedding_model": None,
                        "created_at": now,
                    }
                )
            conn.execute(insert(m.Proposal.__table__), rows)
            conn.execute(insert(m.ProposalTerms.__table__), terms_rows)
    uow_factory = SqlUnitOfWorkFactory(engine)
    probes = [generated(rng, n + i) for i in range(queries + 1)]

    def look(title: str, description: str, dept: str) -> tuple[float, int]:
        vector: TextVector = matcher.describe(title, description, rules)
        began = time.perf_counter()
        with uow_factory() as uow:
            found = uow.similarity.nearest(vector, title, description, department=dept, rules=rules, limit=20)
        return time.perf_counter() - began, len(found)

    cold, _ = look(*probes[0])
    timings, counts = [], []
    for probe in probes[1:]:
        spent, k = look(*probe)
        timings.append(spent)
        counts.append(k)
    engine.dispose()
    return {
        "n": n,
        "first_lookup_ms": round(cold * 1000, 1),
        "lookup": _ms(timings),
        "matches_per_lookup": round(statistics.mean(counts), 1),
    }


def _row(pid: int, title: str, description: str, dept: str, now: datetime) -> dict[str, Any]:
    return {
        "id": pid,
        "title": title,
        "requester": "UBENCH",
        "channel": "import",
        "department": dept,
        "owner": "UOWN",
        "stage": "pilot",
        "risk_level": "low",
        "capacity": None,
        "autonomy": "draft_only",
        "eu_tier": "minimal",
        "revision": 1,
        "answers": {"title": title, "description": description, "department": dept},
        "created_at": now,
        "updated_at": now,
        "stage_changed_at": now,
    }


def run(work: Path, quick: bool, log: Any = print) -> dict[str, Any]:
    from store.db import upgrade

    results: dict[str, Any] = {"quality": quality()}
    q = results["quality"]
    log(f"  labelled pairs: precision {q['precision']}, recall {q['recall']} at {q['threshold']}")
    results["index"] = speed([1000, 5000] if quick else [1000, 10_000, 100_000], log=log)
    n = 2000 if quick else 10_000
    url = f"sqlite:///{work / 'similarity.sqlite3'}"
    upgrade(url)
    results["sqlite"] = sql(url, n, log=log)
    return results
