"""The "Report an AI incident" message action (messaging extension command
`incident.report`, context `message`): `composeExtension/fetchTask` answers with a task
module holding an Adaptive Card (which workflow, how severe, what happened prefilled
with the message quoted as plain text and its link); `composeExtension/submitAction`
records the incident through the core, or shows the form again with the problem on
its field."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from bot.domain.errors import Refused, UsageError
from bot.messages import incident_form as form
from bot.messages.message import Message
from handlers.base import core_call
from handlers.guard import parse_id
from handlers.teams import cards

logger = logging.getLogger(__name__)

COMMAND = "incident.report"  # the command id in the Teams manifest (composeExtensions)
FETCH = "composeExtension/fetchTask"
SUBMIT = "composeExtension/submitAction"
TITLE = form.TITLE
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"(?i)<br\s*/?>|</p>|</div>")


def plain_html(content: str) -> str:
    """A Teams message body (HTML) as plain text: tags dropped, entities unescaped."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content or ""))).strip()


def incident_form(
    proposal: str | None, severity: str | None, text: str, source: str | None, error: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The task module's Adaptive Card; `error` = (field, message) shows a problem on its field."""
    problem = dict([error]) if error else {}
    choices = [{"title": label, "value": value} for value, label in form.SEVERITY_CHOICES]
    severity_input: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": "severity",
        "label": form.SEVERITY_LABEL,
        "style": "expanded",
        "isRequired": True,
        "errorMessage": problem.get("severity") or "Choose low, medium or high.",
        "choices": choices,
    }
    if severity in form.SEVERITIES:
        severity_input["value"] = severity
    body = [
        cards.text_block(form.INTRO, isSubtle=True),
        cards._text_input(
            "proposal",
            f"{form.PROPOSAL_LABEL}: {form.PROPOSAL_HINT}",
            proposal,
            problem.get("proposal"),
            required=True,
            max_length=12,
        ),
        severity_input,
        cards._text_input(
            "text", form.TEXT_LABEL, text, problem.get("text"), multiline=True, required=True, max_length=form.TEXT_MAX
        ),
    ]
    submit = {"type": "Action.Submit", "title": "Report", "data": {"source": (source or "")[:500]}}
    return cards.new_card(body, [submit], fallback_text=TITLE)


def _task(card: dict[str, Any]) -> dict[str, Any]:
    """A messaging extension action response that shows `card` in a task module."""
    return {
        "task": {
            "type": "continue",
            "value": {"title": TITLE, "height": "medium", "width": "medium", "card": cards.attachment(card)},
        }
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def fetch_task(value: dict[str, Any]) -> dict[str, Any]:
    """`composeExtension/fetchTask` from a message: the form, prefilled."""
    payload = _dict(value.get("messagePayload"))
    body = _dict(payload.get("body"))
    content = str(body.get("content") or "")
    quote = plain_html(content) if str(body.get("contentType") or "html").lower() == "html" else content
    link = str(payload.get("linkToMessage") or "") or None
    found = form.proposal_in(quote)
    return _task(incident_form(str(found) if found else None, None, form.prefill(quote, link), link))


async def submit_action(core: Any, actor: str, value: dict[str, Any]) -> dict[str, Any]:
    """`composeExtension/submitAction`: record the incident, then show the answer; bad
    input shows the form again with the problem on its field."""
    data = _dict(value.get("data"))
    proposal, severity = str(data.get("proposal") or "").strip(), str(data.get("severity") or "")
    text, source = str(data.get("text") or ""), str(data.get("source") or "") or None
    try:
        message = await core_call(core.report_incident, actor, parse_id(proposal, "id"), severity, text, source=source)
    except UsageError as exc:
        return _task(incident_form(proposal, severity, text, source, (form.error_field(exc.message), exc.message)))
    except Refused as exc:
        message = Message(kind="refused", text=exc.message)
    return _task(cards.message_card(message))
