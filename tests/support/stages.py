"""Proposals seeded straight into the real store in a given lifecycle stage (the way
submit and decide would leave them), so lifecycle, jobs, export and audit-pack rules
can be tested from any stage."""

from __future__ import annotations

from typing import Any

from bot.domain.proposal import normalise
from bot.domain.records import ApprovalRequestRow, ProposalRow
from tests.support.proposals import make_proposal
from tests.support.records import proposal_row

OWNER = "UOWN"
REQUESTER = "UREQ"
STRANGER = "UX"


def seed(
    core: Any,
    stage: str = "pilot",
    *,
    risk: str = "medium",
    owner: str | None = OWNER,
    stops: tuple[str, ...] = (),
    autonomy: str = "draft_only",
    title: str = "Refund triage assistant",
    eu_tier: str | None = "minimal",
    **over: Any,
) -> ProposalRow:
    """A proposal in `stage`, with its open stop conditions, as the store holds it."""
    now = core.clock.now()
    data = normalise(
        make_proposal(**{"data": ["customer"], "owner": owner, "autonomy": autonomy, "title": title, **over})
    )
    with core.uow() as uow:
        row = uow.proposals.add(
            proposal_row(
                title=title,
                channel="console",
                department=data["department"],
                owner=owner,
                stage=stage,
                risk_level=risk,
                capacity=data["capacity"],
                autonomy=autonomy,
                eu_tier=eu_tier,
                answers=data,
                created_at=now,
                updated_at=now,
                stage_changed_at=now,
            ),
            author=REQUESTER,
        )
        uow.classifications.add(
            row.id,
            1,
            {
                "risk_level": risk,
                "reasons": [f"seeded as {risk}"],
                "stop_conditions": sorted(stops),
                "readiness": {"score": 6, "max": 6, "missing": [], "ready_to_scale": not stops},
                "approver_roles": ["owner"],
                "rollout": {},
                "effective": {"data": data["data"], "actions": data["actions"]},
            },
            now,
        )
        uow.stop_conditions.set_open(row.id, stops, now)
        uow.audit.add(row.id, REQUESTER, "proposal.submitted", {"revision": 1, "seeded_stage": stage}, now)
        uow.commit()
    return row


def pending_request(core: Any, proposal_id: int, approver: str, role: str = "security") -> ApprovalRequestRow:
    """One pending approval request, created now."""
    with core.uow() as uow:
        row = uow.approvals.add(
            ApprovalRequestRow(
                id=0,
                proposal_id=proposal_id,
                role=role,
                department=None,
                approver=approver,
                kind="proposal",
                target=None,
                round=1,
                status="pending",
                note=None,
                created_at=core.clock.now(),
            )
        )
        uow.commit()
    return row


def bare_core(settings: Any, clock: Any, instance: str = "local") -> Any:
    """Another app instance on the same database: its own engine and connections."""
    from bot.app import build_core

    return build_core(settings, clock=clock, instance=instance)
