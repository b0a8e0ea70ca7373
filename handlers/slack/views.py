"""View listeners: interview steps, the decision comment, the value check-in, and
saving the interview draft when a modal is closed."""

from __future__ import annotations

import json
import logging
from typing import Any

from bot.domain import interview, questions
from bot.domain.errors import FieldError, ProposalInvalid, Refused, UsageError
from bot.messages.message import Message, Section
from handlers.slack import intake as slack_intake
from handlers.slack import modal
from handlers.slack.app import SlackFrontEnd, user_of
from handlers.slack.forms import CHECKIN, DECISION, decision_form_of

logger = logging.getLogger(__name__)

ERROR_MAX = 500  # keep inline errors short; Slack shows them under the field


def register(fe: SlackFrontEnd) -> None:
    """Add the view listeners to `fe.bolt`."""
    bolt = fe.bolt

    @bolt.view(modal.CALLBACK)
    async def on_interview(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = user_of(body)
        async with fe.work("handling your proposal", fe.reporter(body), ack):
            await interview_step(fe, ack, user, view)

    @bolt.view_closed(modal.CALLBACK)
    async def on_interview_closed(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = user_of(body)
        async with fe.work("saving your draft", fe.reporter(body), ack):
            await ack()
            state = modal.decode_state(view.get("private_metadata", ""))
            if state["p"] == questions.PARAGRAPH:
                await slack_intake.paragraph_closed(fe, user, view)
                return
            answers = await _answers(fe, user, state)
            page = fe.core.interview_flow().show(state["p"], answers).page
            clean, _errors = interview.parse_page(page, modal.submitted_values(view))
            answers.update(clean)
            await fe.call(fe.core.save_draft, "slack", user, answers, page.id, state.get("pid"))

    @bolt.view(DECISION)
    async def on_decision(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        from handlers.slack.actions import decide, record_decision

        async with fe.work("recording your decision", fe.reporter(body), ack):
            meta = json.loads(view.get("private_metadata") or "{}")
            form = decision_form_of(meta)
            values = modal.submitted_values(view)
            comment = (values.get("comment") or "").strip() or None
            reason = (values.get("override_reason") or "").strip() or None
            errors = form.missing(comment, reason)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            where = {"channel": meta.get("ch"), "ts": meta.get("ts")}
            key = f"view:{view.get('id')}:{view.get('hash')}"  # one submission of this modal
            recorded = await record_decision(
                fe, body, key, form.request_id, form.decision, comment, reason, where=where
            )
            await ack(response_action="update", view=modal.working_view("Recording", "Recording your decision…"))
            if recorded is None:  # this submission was recorded before; whoever holds it finishes it
                return
            shown: list[str] = []

            async def report(text: str) -> None:
                shown.append(text)

            outcome = await decide(
                fe,
                body,
                None,
                form.request_id,
                form.decision,
                comment,
                reason,
                where=where,
                report=report,
                recorded=recorded,
            )
            title = "Refused" if outcome.status == "refused" else "Done"
            await fe.client.views_update(
                view_id=view["id"],
                view=modal.message_view(title, Message(kind="decision_notice", text=" ".join(shown) or outcome.notice)),
            )

    @bolt.view(CHECKIN)
    async def on_checkin(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        async with fe.work("recording your check-in", fe.reporter(body), ack):
            meta = json.loads(view.get("private_metadata") or "{}")
            value = (modal.submitted_values(view).get("value") or "").strip()
            if not value:
                await ack(response_action="errors", errors={"value": "Give the latest value of the metric."})
                return
            await ack(response_action="update", view=modal.working_view("Value check-in", "Recording…"))
            try:
                message = await fe.call(fe.core.record_checkin, user_of(body), int(meta["p"]), value)
            except (Refused, UsageError) as exc:
                message = Message(kind="refused", text=exc.message)
            await fe.client.views_update(view_id=view["id"], view=modal.message_view("Value check-in", message))


async def _answers(fe: SlackFrontEnd, user: str, state: dict[str, Any]) -> dict[str, Any]:
    """The answers so far: carried in the view, or (when too big) in the user's draft."""
    if isinstance(state.get("a"), dict):
        return dict(state["a"])
    draft = await fe.call(fe.core.load_draft, "slack", user)
    if isinstance(draft, dict) and isinstance(draft.get("answers"), dict):
        draft = draft["answers"]
    return dict(draft or {})


async def interview_step(fe: SlackFrontEnd, ack: Any, user: str, view: dict[str, Any]) -> None:
    """One interview page submitted: errors inline, the next page, or the final submit."""
    try:
        state = modal.decode_state(view.get("private_metadata", ""))
    except ValueError as exc:
        await ack(
            response_action="update",
            view=modal.working_view(
                "Proposal", f"This form is out of date ({exc}). Run the command again; your draft is kept."
            ),
        )
        return
    if state["p"] == questions.PARAGRAPH:
        await slack_intake.paragraph_step(fe, ack, user, view)
        return
    answers = await _answers(fe, user, state)
    flow = fe.core.interview_flow(state.get("pid"))
    page = flow.show(state["p"], answers).page
    clean, errors = interview.parse_page(page, modal.submitted_values(view))
    if errors:
        await ack(response_action="errors", errors={k: _short(v) for k, v in errors.items()})
        return
    answers.update(clean)
    pid = state.get("pid")
    nxt = flow.after(page.id, answers)
    if nxt is not None:
        next_view, needs_draft = slack_intake.step_view(nxt, answers, pid)
        if needs_draft:  # the next step must find the answers when it is submitted
            await fe.call(fe.core.save_draft, "slack", user, answers, nxt.page.id, pid)
        await ack(response_action="update", view=next_view)
        if not needs_draft:
            await fe.call(fe.core.save_draft, "slack", user, answers, nxt.page.id, pid)
        return
    problems = interview.proposal_problems(answers)
    if problems:
        await ack(response_action="errors", errors=_errors_on_page(page, problems))
        return
    proposal = interview.to_proposal(answers)
    await ack(response_action="update", view=modal.working_view("Submitting", "Classifying your proposal…"))
    message, title = await _submit(fe, user, proposal, pid, view["id"])
    if message.kind == "submit_failed":  # keep every answer for the next try
        await fe.call(fe.core.save_draft, "slack", user, answers, page.id, pid)
    await fe.client.views_update(view_id=view["id"], view=modal.message_view(title, message))


async def _submit(
    fe: SlackFrontEnd, user: str, proposal: dict[str, Any], pid: int | None, view_id: str
) -> tuple[Message, str]:
    """Submit to the core; any failure becomes a message saying the draft is kept."""
    try:
        submitted = await fe.call(fe.core.submit, user, "slack", proposal, proposal_id=pid, idempotency_key=view_id)
    except ProposalInvalid as exc:
        lines = "\n".join(f"• {e}" for e in exc.errors)
        return _kept(f"The proposal has problems:\n{lines}"), "Not submitted"
    except Refused as exc:
        return _kept(exc.message), "Not submitted"
    except Exception:
        logger.exception("slack: submit failed for %s", user)
        return _kept("Something went wrong while submitting."), "Not submitted"
    return submitted.message, f"Proposal #{submitted.proposal_id}"


def _kept(text: str) -> Message:
    return Message(
        kind="submit_failed",
        text=text,
        sections=(Section(text="Your answers are saved as a draft: run the command with `propose` to continue."),),
    )


def _errors_on_page(page: questions.Page, problems: list[FieldError]) -> dict[str, str]:
    """Inline errors for a whole-proposal problem: on its field when this page shows it,
    else on the first field of the page, naming the key."""
    keys = page.keys()
    errors: dict[str, str] = {}
    for e in problems:
        target = e.key if e.key in keys else keys[0]
        text = e.message if e.key in keys else f"{e.key}: {e.message}"
        errors[target] = _short(f"{errors[target]}; {text}" if target in errors else text)
    return errors


def _short(text: str) -> str:
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"
