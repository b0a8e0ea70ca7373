"""Small modals: the decision comment (reject / request changes / governance override)
and the value check-in. Built with slack_sdk.models."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import ContextBlock, InputBlock, MarkdownTextObject, PlainTextInputElement, PlainTextObject
from slack_sdk.models.views import View

from bot.service.results import DecisionForm

DECISION = "decision"
CHECKIN = "checkin"
COMMENT_MAX = 2000

_TITLES = {"approve": "Approve", "reject": "Reject", "request_changes": "Request changes"}


def decision_modal(form: DecisionForm, where: dict[str, Any]) -> dict[str, Any]:
    """Ask for what the core's decision form requires: a comment (optional only when
    approving) and, for governance deciding in the routed approver's place, the
    override reason. The form rides in the view's metadata to check the submission."""
    decision = form.decision
    blocks: list[Any] = [
        ContextBlock(elements=[MarkdownTextObject(text=f"Approval request #{form.request_id}")]),
        InputBlock(
            block_id="comment",
            label=PlainTextObject(text="What must change?" if decision == "request_changes" else "Comment"),
            element=PlainTextInputElement(action_id="v", multiline=True, max_length=COMMENT_MAX),
            hint=PlainTextObject(text="The requester sees this with your decision."),
            optional=not form.comment_required,
        ),
    ]
    if form.reason_required:
        blocks.append(
            InputBlock(
                block_id="override_reason",
                label=PlainTextObject(text="Override reason (governance)"),
                element=PlainTextInputElement(action_id="v", multiline=True, max_length=COMMENT_MAX),
                hint=PlainTextObject(
                    text="You are not the routed approver. Governance members may decide in their "
                    "place with a written reason; it is recorded in the audit trail."
                ),
            )
        )
    metadata = {
        "r": form.request_id,
        "d": decision,
        "c": form.comment_required,
        "o": form.reason_required,
        "ch": where.get("channel"),
        "ts": where.get("ts"),
    }
    view = View(
        type="modal",
        callback_id=DECISION,
        title=PlainTextObject(text=_TITLES[decision]),
        submit=PlainTextObject(text=_TITLES[decision] if decision != "request_changes" else "Send"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    )
    return view.to_dict()


def decision_form_of(metadata: dict[str, Any]) -> DecisionForm:
    """The decision form a submitted decision modal was built from."""
    return DecisionForm(
        int(metadata["r"]),
        str(metadata["d"]),
        comment_required=bool(metadata.get("c")),
        reason_required=bool(metadata.get("o")),
    )


def checkin_modal(proposal_id: int) -> dict[str, Any]:
    """Ask the owner for the latest value of the workflow's metric."""
    blocks = [
        ContextBlock(elements=[MarkdownTextObject(text=f"Proposal #{proposal_id}")]),
        InputBlock(
            block_id="value",
            label=PlainTextObject(text="Latest value (a number)"),
            element=PlainTextInputElement(action_id="v", max_length=200),
            hint=PlainTextObject(text="A number in the metric's unit, e.g. 7 for 7 minutes per ticket."),
        ),
    ]
    view = View(
        type="modal",
        callback_id=CHECKIN,
        title=PlainTextObject(text="Value check-in"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps({"p": proposal_id}),
        blocks=blocks,
    )
    return view.to_dict()
