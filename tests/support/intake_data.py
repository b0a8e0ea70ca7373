"""A complete paragraph and the reply of an LLM that reads it well (the intake tests and
`bench/intake.py` script the OpenAI stub with it)."""

from __future__ import annotations

import json
from typing import Any

PARAGRAPH = (
    "Refund reply assistant for Support. Each new customer ticket about a late delivery is read by the AI, "
    "which drafts a reply and, when the order qualifies, issues the refund of the delivery fee. Today agents "
    "write every reply by hand and spend about 12 minutes per ticket. The output is a draft reply in the "
    "ticket that the agent edits and sends to the customer. An agent checks every output before anything is "
    "sent, and the AI acts only after the agent approves. It does not score or rank anyone. A wrong refund "
    "would be noticed by the customer. Tickets the AI cannot handle go to the normal queue without a draft. "
    "Problems go to the support lead on call, then #support-escalations. The agent approves every reply and "
    "refund; QA reviews 20 tickets a week. To roll back we switch the integration off and agents answer by "
    "hand as today. Success is handling time from 12 to 6 minutes per ticket."
)

# What a good reader answers, each with the words it came from.
GOOD: dict[str, tuple[Any, str]] = {
    "title": ("Refund reply assistant", "Refund reply assistant"),
    "department": ("Support", "for Support"),
    "current_process": (
        "Agents write every reply by hand, about 12 minutes per ticket.",
        "agents write every reply by hand and spend about 12 minutes per ticket",
    ),
    "expected_output": (
        "A draft reply in the ticket that the agent edits and sends to the customer.",
        "a draft reply in the ticket that the agent edits and sends to the customer",
    ),
    "value_metric": ("Handling time from 12 to 6 minutes per ticket", "handling time from 12 to 6 minutes per ticket"),
    "data": (["customer", "financial"], "customer ticket … refund of the delivery fee"),
    "actions": (["change_billing", "draft"], "drafts a reply … issues the refund"),
    "audience": ("customer", "sends to the customer"),
    "review": ("every_output", "An agent checks every output"),
    "autonomy": ("human_approves", "acts only after the agent approves"),
    "failure_visible": (True, "would be noticed by the customer"),
    "exception_path": (
        "Tickets the AI cannot handle go to the normal queue without a draft.",
        "Tickets the AI cannot handle go to the normal queue without a draft",
    ),
    "escalation_path": (
        "The support lead on call, then #support-escalations.",
        "the support lead on call, then #support-escalations",
    ),
    "control_points": (
        "The agent approves every reply and refund; QA reviews 20 tickets a week.",
        "The agent approves every reply and refund; QA reviews 20 tickets a week",
    ),
    "rollback_path": (
        "Switch the integration off; agents answer by hand as today.",
        "switch the integration off and agents answer by hand as today",
    ),
    "interacts_with_people": (True, "sends to the customer"),
    "generates_content": (True, "drafts a reply"),
    "profiles_people": (False, "It does not score or rank anyone"),
}

# What the requester still has to say after a good reading, in interview order.
STILL_TO_ASK = ["owner", "capacity", "stack", "use_area", "ai_act_role"]


def good_reply(**changes: tuple[Any, str] | None) -> str:
    """The JSON object a good reader answers (`changes` replace or, with None, remove keys)."""
    items = {**GOOD, **changes}
    kept = {k: v for k, v in items.items() if v is not None}
    return json.dumps({"answers": {k: v[0] for k, v in kept.items()}, "evidence": {k: v[1] for k, v in kept.items()}})
