"""Seed helpers for the lifecycle, jobs, export and audit-pack tests.

`seed` writes a proposal straight into the real store in a given stage (the way H3's
submit/decide would leave it), so lifecycle rules can be tested from any stage.
"""

from __future__ import annotations

from typing import Any

from bot.domain.proposal import normalise
from bot.domain.records import ApprovalRequestRow, ProposalRow

OWNER = "UOWN"
REQUESTER = "UREQ"
GOV = "UGOV"  # the `settings` fixture names UGOV as governance
STRANGER = "UX"


def answers(**over: Any) -> dict[str, Any]:
    base = {
        "title": "Refund triage assistant",
        "department": "Support",
        "description": "Drafts refund replies for agents to review.",
        "current_process": "Agents write every reply by hand.",
        "expected_output": "A draft reply per ticket.",
        "data": ["customer"],
        "actions": ["draft"],
        "audience": "internal",
        "owner": OWNER,
        "review": "every_output",
        "autonomy": "draft_only",
        "value_metric": "minutes per ticket (baseline 12, target 6)",
        "failure_visible": True,
        "stack": "automation",
        "capacity": "incremental",
    }
    base.update(over)
    return normalise(base)


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
    data = answers(owner=owner, autonomy=autonomy, title=title, **over)
    with core.uow() as uow:
        row = uow.proposals.add(
            ProposalRow(
                id=0,
                title=title,
                requester=REQUESTER,
                channel="console",
                department=data["department"],
                owner=owner,
                stage=stage,
                risk_level=risk,
                capacity=data["capacity"],
                autonomy=autonomy,
                eu_tier=eu_tier,
                revision=1,
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


def stage_of(core: Any, proposal_id: int) -> str:
    with core.uow() as uow:
        return uow.proposals.get(proposal_id).stage


def audit_actions(core: Any, proposal_id: int) -> list[str]:
    with core.uow() as uow:
        return [e.action for e in uow.audit.for_proposal(proposal_id)]


def audit_events(core: Any, proposal_id: int, action: str) -> list[Any]:
    with core.uow() as uow:
        return [e for e in uow.audit.for_proposal(proposal_id) if e.action == action]


def outbox_for(core: Any, user: str) -> list[Any]:
    with core.uow() as uow:
        return uow.outbox.for_recipient(user)


def bare_core(settings: Any, clock: Any, instance: str = "local") -> Any:
    """Another app instance on the same database: its own engine and connections."""
    from bot.app import build_core

    return build_core(settings, clock=clock, instance=instance)
