"""Migration 0007 on a database with proposals in it: their terms, vendor, model,
downstream departments and near-duplicates are filled in from their answers."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from store.db import make_engine, upgrade

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PROPOSALS = sa.table(
    "proposals",
    *(sa.column(c) for c in ("id", "title", "requester", "channel", "department", "owner", "stage", "risk_level")),
    *(sa.column(c) for c in ("capacity", "autonomy", "eu_tier", "revision", "created_at", "updated_at")),
    sa.column("stage_changed_at"),
    sa.column("answers", sa.JSON),
)


def _row(pid, title, department, description, stage="pilot", **answers):
    return {
        "id": pid,
        "title": title,
        "requester": "U1",
        "channel": "import",
        "department": department,
        "owner": "U2",
        "stage": stage,
        "risk_level": "low",
        "capacity": None,
        "autonomy": "draft_only",
        "eu_tier": "minimal",
        "revision": 1,
        "created_at": NOW,
        "updated_at": NOW,
        "stage_changed_at": NOW,
        "answers": {"title": title, "department": department, "description": description, **answers},
    }


def test_existing_proposals_get_terms_vendor_downstream_and_their_near_duplicates(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(PROPOSALS),
            [
                _row(1, "Job ad writer", "HR", "Drafts job adverts from the hiring manager's notes.", vendor="OpenAI"),
                _row(2, "Vacancy text drafting", "Talent", "Writes vacancy postings from a role brief."),
                _row(3, "Shift rota planner", "Ops", "Plans the shift rota.", downstream=["HR", " hr "]),
            ],
        )
    upgrade(url, "head")
    with engine.connect() as conn:
        terms = conn.execute(sa.text("SELECT count(*) FROM proposal_terms")).scalar()
        pairs = conn.execute(sa.text("SELECT proposal_id, other_id FROM similar_pairs")).all()
        vendors = conn.execute(sa.text("SELECT id, vendor FROM proposals ORDER BY id")).all()
        downstream = conn.execute(sa.text("SELECT proposal_id, department FROM proposal_downstream")).all()
    engine.dispose()
    assert (terms, pairs, vendors, downstream) == (
        3,
        [(2, 1)],
        [(1, "OpenAI"), (2, None), (3, None)],
        [(3, "HR")],
    )
