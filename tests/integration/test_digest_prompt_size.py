"""The digest prompt stays the same size whatever the portfolio's size: facts are
aggregates and capped lists (sizes compared, never timed)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import insert

from bot.domain.portfolio import portfolio_config, sprawl_signature
from bot.service.digest_writer import build_prompt, load_prompt
from store import models as m
from tests.support.clock import T0
from tests.support.portfolio import store_env

STAGES = ("in_review", "pilot", "production", "pilot", "rejected", "changes_requested")
RISKS = ("low", "medium", "high")
TOPICS = ("invoice summary", "refund drafting", "ticket triage", "contract review", "lead scoring")


def bulk_seed(env, n: int) -> None:
    """n proposals spread over 20 departments and 30 days, with approvals, check-ins
    and stage moves, inserted in bulk (the listener-free path, so sprawl_key is set here)."""
    rows = []
    for i in range(n):
        created = T0 - timedelta(hours=(i * 7) % (30 * 24))
        title = f"Workflow {i:06d} {TOPICS[i % len(TOPICS)]}"
        rows.append(
            {
                "title": title,
                "requester": "UREQ",
                "channel": "import",
                "department": f"Dept {i % 20:02d}",
                "owner": "UOWN",
                "stage": STAGES[i % len(STAGES)],
                "risk_level": RISKS[i % 3],
                "capacity": ("keep_the_lights_on", "incremental", "strategic")[i % 3],
                "autonomy": "draft_only",
                "eu_tier": "minimal",
                "revision": 1,
                "answers": {},
                "created_at": created,
                "updated_at": created,
                "stage_changed_at": T0 - timedelta(days=(i % 200)),
                "sprawl_key": sprawl_signature(TOPICS[i % len(TOPICS)], ["draft"]),
            }
        )
    with env.uow() as uow:
        uow.session.execute(insert(m.Proposal), rows)
        ids = [
            pid
            for (pid,) in uow.session.execute(
                m.Proposal.__table__.select().with_only_columns(m.Proposal.id).order_by(m.Proposal.id)
            )
        ]
        uow.session.execute(
            insert(m.ApprovalRequest),
            [
                {
                    "proposal_id": pid,
                    "role": "finance",
                    "department": None,
                    "approver": "UFIN",
                    "kind": "proposal",
                    "target": None,
                    "round": 1,
                    "status": "pending",
                    "note": None,
                    "created_at": T0 - timedelta(hours=(pid % 100)),
                    "sequence": 0,
                }
                for pid in ids[::3]
            ],
        )
        uow.session.execute(
            insert(m.CheckinModel),
            [
                {
                    "proposal_id": pid,
                    "value": f"{pid % 50}% fewer manual touches",
                    "note": None,
                    "reported_by": "UOWN",
                    "period": "2026-W46",
                    "created_at": T0 - timedelta(hours=pid % 300),
                }
                for pid in ids[1::4]
            ],
        )
        uow.audit.add_many(  # through the repository: the events are hash-chained
            [
                (pid, "UOWN", f"stage.{STAGES[pid % len(STAGES)]}", {}, T0 - timedelta(hours=pid % 400))
                for pid in ids[::2]
            ]
        )
        uow.commit()


def prompt_size(env) -> tuple[int, dict]:
    with env.uow() as uow:
        facts = uow.facts.digest(T0 - timedelta(days=7), T0, T0, portfolio_config(env.settings))
        portfolio = uow.facts.portfolio(T0, portfolio_config(env.settings))
    system, user = build_prompt(load_prompt(), facts)
    return len(system) + len(user), portfolio


def test_prompt_size_is_bounded(settings, clock, tmp_path):
    small = store_env(settings, clock)
    bulk_seed(small, 1000)
    size_1k, portfolio_1k = prompt_size(small)

    with small.uow() as uow:  # same database, ten times the proposals
        uow.session.execute(m.CheckinModel.__table__.delete())
        uow.session.execute(m.ApprovalRequest.__table__.delete())
        uow.session.execute(m.Proposal.__table__.delete())
        uow.commit()
    bulk_seed(small, 10_000)
    size_10k, portfolio_10k = prompt_size(small)

    assert portfolio_1k["total"] == 1000 and portfolio_10k["total"] == 10_000
    assert size_10k <= 1.1 * size_1k, (size_1k, size_10k)
    assert len(json.dumps(portfolio_10k)) <= 1.1 * len(json.dumps(portfolio_1k))
    # the lists are full at both sizes, so the comparison means something
    assert len(portfolio_1k["approvals"]["oldest_overdue"]) == len(portfolio_10k["approvals"]["oldest_overdue"]) == 10
    assert len(portfolio_10k["value"]["latest"]) == 10
