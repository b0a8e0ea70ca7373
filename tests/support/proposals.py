"""The one proposal factory: a complete, valid proposal as a requester submits it
(the DESIGN.md JSON keys), and the few variants the tests share.

Every test that needs a proposal starts here and overrides only what it is about, so
the fields a test depends on are visible in the test itself.
"""

from __future__ import annotations

from typing import Any


def make_proposal(**overrides: Any) -> dict[str, Any]:
    """A complete, low-risk proposal: internal summaries, every readiness input given
    (owner, metric, exception, escalation, control and rollback paths). Classified low,
    with no stop condition; routed to its owner only."""
    answers: dict[str, Any] = {
        "title": "Summarise weekly support themes",
        "department": "Support",
        "description": "Summarise the week's internal support notes into themes for the team lead.",
        "current_process": "A lead reads every note on Friday and writes a summary by hand.",
        "expected_output": "A one-page internal summary of themes.",
        "data": ["internal"],
        "actions": ["summarize"],
        "audience": "internal",
        "owner": "U_OWNER",
        "review": "every_output",
        "autonomy": "draft_only",
        "exception_path": "The lead drops the summary and writes it by hand.",
        "escalation_path": "The lead escalates to the support manager.",
        "control_points": "The lead reads every summary before it is shared.",
        "rollback_path": "Switch the job off; the manual process still works.",
        "value_metric": "Hours spent on the weekly summary, from 3 to 0.5",
        "failure_visible": True,
        "stack": "processes",
        "capacity": "incremental",
    }
    answers.update(overrides)
    return answers


def medium(**overrides: Any) -> dict[str, Any]:
    """Medium risk (team audience), no stop condition: owner + department lead."""
    return make_proposal(**{"audience": "team", **overrides})


def high_billing(**overrides: Any) -> dict[str, Any]:
    """High risk with a stop condition: a customer-facing agent that issues refunds
    (change_billing)."""
    return make_proposal(
        **{
            "title": "Refund agent",
            "description": "The agent issues the refund to the customer's card.",
            "data": ["customer", "financial"],
            "actions": ["change_billing", "draft"],
            "audience": "customer",
            **overrides,
        }
    )


def interview_answers(**overrides: Any) -> dict[str, Any]:
    """Every answer the interview asks for, as a requester gives them in a channel:
    medium risk (a team audience, customer data), owned by U_OWN, with the regulatory
    pages answered too (no Annex III area, no profiling, a deployer)."""
    return medium(
        **{
            "owner": "U_OWN",
            "data": ["customer", "internal"],
            "actions": ["draft", "summarize"],
            "use_area": "none",
            "profiles_people": False,
            "ai_act_role": "deployer",
            **overrides,
        }
    )


def long_proposal(text_len: int = 4000, **overrides: Any) -> dict[str, Any]:
    """A high-risk proposal at the length limits: a `text_len`-character description
    (ending in a marker, "END-OF-DESCRIPTION"), every path and metric long, markup and
    non-ASCII text in what people typed."""
    tail = " END-OF-DESCRIPTION"
    sentence = (
        "The agent ranks job applicants for the recruiters & issues refunds <!here> [x](https://evil.example) — é. "
    )
    description = (sentence * (text_len // len(sentence) + 1))[: text_len - len(tail)] + tail
    path = ("Step by step, the lead checks every case and writes down what happened — ü. " * 12)[:900]
    return high_billing(
        **{
            "description": description,
            "current_process": path,
            "expected_output": path,
            "control_points": path,
            "exception_path": path,
            "escalation_path": path,
            "rollback_path": path,
            "value_metric": "Minutes per case, from 12 to 4",
            "vendor": "OpenAI",
            "model": "gpt-4.1",
            "downstream": ["Finance", "Legal", "Customer Service"],
            **overrides,
        }
    )
