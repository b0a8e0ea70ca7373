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
    readiness: int = 6,
    **over: Any,
) -> ProposalRow:
    """A proposal in `stage`, with its open stop conditions and readiness score (of 6),
    as the store holds it."""
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
                "readiness": {
                    "score": readiness,
                    "max": 6,
                    "missing": ["exception_path", "escalation_path", "control_points", "owner"][: 6 - readiness],
                    "ready_to_scale": not stops and readiness == 6,
                },
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
    """One pending approval request, created now, routed to `approver` as a holder of
    `role` (added to the directory when not there yet: authority follows it)."""
    with core.uow() as uow:
        if role != "owner" and approver not in uow.roles.holders(role, ""):
            uow.roles.set(role, "", [*uow.roles.holders(role, ""), approver], "test", core.clock.now())
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


def gated_pilot(core: Any, **over: Any) -> ProposalRow:
    """A pilot that passes the production gate once a check-in meets its target: 6/6,
    the regulatory questions answered, a metric "from 12 to 6 minutes per ticket"."""
    fields = {"use_area": "none", "value_metric": "Handling time from 12 to 6 minutes per ticket", **over}
    return seed(core, "pilot", **fields)
