"""Realistic, varied proposals for the benchmarks (deterministic: a seeded RNG).

`proposals(n)` gives `n` valid proposal dicts (the DESIGN.md keys) mixing low, medium
and high risk, declared and text-detected actions, stop conditions and EU AI Act
areas, so the classifier, the importer and the seeded portfolio see the spread a
real inventory has rather than one row repeated.
"""

from __future__ import annotations

import random
from typing import Any

from tests.support.proposals import make_proposal

DEPARTMENTS = (
    "Support",
    "Finance",
    "Sales",
    "Marketing",
    "Legal",
    "HR",
    "Engineering",
    "Operations",
    "Security",
    "Procurement",
    "Product",
    "Data",
    "Customer Success",
    "IT",
    "Facilities",
    "Research",
    "Compliance",
    "Partnerships",
    "Training",
    "Communications",
)
TOPICS = (
    ("Summarise weekly support themes", "Summarise the week's internal support notes into themes.", ["summarize"]),
    (
        "Draft refund emails",
        "The agent drafts the refund email and issues the refund to the customer's card.",
        ["draft"],
    ),
    ("Triage inbound tickets", "Classifies inbound tickets and routes them to the right queue.", ["classify_route"]),
    ("Invoice summariser", "Reads supplier invoices and summarises amounts and due dates for the team.", ["summarize"]),
    ("Contract clause finder", "Finds risky clauses in contracts for the legal team to review.", ["research"]),
    ("Lead scoring assistant", "Scores inbound leads for the sales team.", ["analyze", "recommend"]),
    ("Release notes writer", "Drafts release notes from merged pull requests.", ["draft", "format"]),
    ("Access request helper", "Grants admin access to internal tools after a manager approves.", ["recommend"]),
    ("Deploy assistant", "Deploys to production after the tests pass.", ["analyze"]),
    ("CV screening", "Ranks job applicants' CVs for recruiters.", ["classify_route"]),
    ("Customer record updater", "Edits customer records when a customer changes address.", ["update_records"]),
    ("Website FAQ publisher", "Publishes answers on our website from the support knowledge base.", ["draft"]),
    ("Patient intake summary", "Summarises patient medical histories for clinicians.", ["summarize"]),
    (
        "Security alert triage",
        "Triage of security alerts with a recommendation to the on-call engineer.",
        ["security_decision"],
    ),
    ("Meeting notes formatter", "Formats meeting notes into the team template.", ["format"]),
    ("Churn analysis", "Analyses churn drivers from customer usage data.", ["analyze"]),
)
DATA_SETS = (
    ["internal"],
    ["internal"],
    ["internal"],
    ["public"],
    ["internal"],
    ["customer"],
    ["employee"],
    ["financial"],
    ["customer", "financial"],
    ["public"],
    ["source_code"],
    ["security"],
    ["regulated"],
)
AUDIENCES = ("internal", "internal", "internal", "team", "customer", "public")
REVIEWS = ("none", "spot_check", "every_output", "every_output")
AUTONOMY = ("draft_only", "human_approves", "human_monitors", "autonomous")
STACKS = ("strategy", "operating_model", "processes", "software", "data_security", "automation")
CAPACITY = ("keep_the_lights_on", "incremental", "incremental", "strategic")
USE_AREAS = ("none",) * 12 + ("employment", "essential_services", "education", "critical_infrastructure")


def proposal(rng: random.Random, i: int) -> dict[str, Any]:
    """One proposal: the tests' proposal with what varies across an inventory drawn at
    random; `i` makes its title unique."""
    title, description, actions = TOPICS[i % len(TOPICS)]
    blank = rng.random()
    return make_proposal(
        title=f"{title} {i:06d}",
        department=rng.choice(DEPARTMENTS),
        description=description,
        data=list(rng.choice(DATA_SETS)),
        actions=list(actions),
        audience=rng.choice(AUDIENCES),
        owner=None if blank < 0.08 else f"U{rng.randrange(1000):04d}",
        review=rng.choice(REVIEWS),
        autonomy=rng.choice(AUTONOMY),
        exception_path="" if blank < 0.2 else "A person takes over and does it by hand.",
        escalation_path="" if blank < 0.25 else "Escalate to the team lead.",
        control_points="" if blank < 0.3 else "A person reads every output before it is used.",
        rollback_path="" if blank < 0.15 else "Switch it off; the manual process still works.",
        value_metric=None if blank < 0.12 else "Hours per week, from 5 to 1",
        failure_visible=rng.random() > 0.1,
        stack=rng.choice(STACKS),
        capacity=rng.choice(CAPACITY),
        use_area=rng.choice(USE_AREAS),
        interacts_with_people=rng.random() < 0.3,
        generates_content=rng.random() < 0.4,
    )


def proposals(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """`n` varied, valid proposals."""
    rng = random.Random(seed)
    return [proposal(rng, i) for i in range(n)]
