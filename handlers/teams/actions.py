"""What each card verb and typed command does in Teams, as cards.

Platform-free apart from the card JSON: the bot (invokes, Action.Submit fallbacks and
typed text) calls `command` and `run`, which call the core in a worker thread and
return the Adaptive Card to show.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import aiohttp

from bot.domain import interview, questions
from bot.domain.errors import CommentRequired, ProposalInvalid, Refused, UsageError
from bot.domain.records import InboundAction
from bot.messages.message import (
    ASSESS_OPEN,
    CHECKIN_OPEN,
    DIGEST_POST,
    DIGEST_REGENERATE,
    EDIT_PROPOSAL,
    FULL_PROPOSAL,
    POLICY_APPLY,
    REASSESSMENT_CONFIRM,
    REASSESSMENT_EDIT,
    Message,
)
from bot.service.core import Govbot
from bot.service.results import AssessForm, InterviewStart, Reply
from handlers.base import EXPECTED, core_call, error_text
from handlers.guard import parse_id
from handlers.inbound import desk_for
from handlers.teams import assess as teams_assess
from handlers.teams import cards
from handlers.teams import intake as teams_intake

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger(__name__)

CHANNEL = "teams"
CHECKIN_SUBMIT = "checkin.submit"
SUBMIT_LABEL = "Submit proposal"
Progress = Callable[[dict[str, Any]], Awaitable[Any]]  # posts a card at once


class TeamsActions:
    def __init__(self, core: Govbot, settings: Any):
        self.core = core
        self.settings = settings
        self.desk = desk_for(core)  # records approval clicks before they are answered

    async def _call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await core_call(fn, *args, **kwargs)

    # ------------------------------------------------------------------ typed commands
    async def command(
        self, actor: str, text: str, conversation_id: str | None = None, progress: Progress | None = None
    ) -> dict[str, Any]:
        """A typed command: the core's reply as a card, or the first interview page.
        `conversation_id` is where it was typed (`digest here` registers it); `progress`
        posts a card at once (the "reading your description…" of `propose <paragraph>`)."""
        reply: Reply = await self._call(self.core.handle_command, actor, CHANNEL, text, conversation_id=conversation_id)
        if reply.interview is not None:
            start = reply.interview
            if start.paragraph:
                return await self.read(actor, start.paragraph, progress)
            return await self.start_interview(actor, start, reply.message)
        if reply.assess is not None:
            return await self.assess_view(actor, reply.assess)
        if reply.message is not None:
            return await self.render(actor, reply.message)
        return cards.notice_card("Done.")

    async def render(self, actor: str, message: Message, notice: str | None = None) -> dict[str, Any]:
        if cards.has_decision_buttons(message) and message.meta.get("request_id") is not None:
            request_id = int(message.meta["request_id"])
            return cards.approval_card(
                message,
                refresh_users=await self._call(self.core.approval_viewers, request_id),
                notice=notice,
                override=await self._reason_required(actor, request_id),
            )
        return cards.message_card(message, notice=notice, image_png=await self._image(message))

    async def _image(self, message: Message) -> bytes | None:
        """The portfolio chart, small enough to ride inside the card."""
        if message.image_png != "portfolio_chart" or not isinstance(message.meta.get("by_stage_risk"), dict):
            return None
        try:
            from bot.messages.chart import pipeline_chart_png

            return await self._call(pipeline_chart_png, message.meta["by_stage_risk"], dpi=50)
        except Exception:  # a missing chart must not cost the user the summary
            logger.warning("Teams: could not draw the portfolio chart", exc_info=True)
            return None

    # ------------------------------------------------------------------ card verbs
    async def run(
        self,
        actor: str,
        verb: str,
        data: dict[str, Any],
        shown: dict[str, Any] | None = None,
        progress: Progress | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """One card action; always returns a card (errors are shown on it, never lost).
        `shown` is the stored reference of the message the card came from, which the
        returned card replaces (the outbox then leaves that copy alone); `progress`
        posts a card at once while slow work (reading a paragraph) runs; `key` names
        the click (see `click_key`): a decision is recorded under it before it is made."""
        try:
            if verb == cards.INTERVIEW_NEXT and data.get("page") == questions.PARAGRAPH:
                return await self.paragraph_next(actor, data, progress)
            if verb == cards.INTERVIEW_NEXT:
                return await self.interview_next(actor, data)
            if verb == cards.INTERVIEW_CANCEL:
                return cards.notice_card(
                    "Interview paused.",
                    detail="Your answers are saved as a draft; type `propose` to continue where you left off.",
                )
            if verb in cards.DECISION_VERBS:
                return await self.decide(actor, verb, data, shown, key)
            if verb == cards.APPROVAL_REFRESH:
                return await self.approval_view(actor, _int(data.get("request_id"), "request_id"))
            if verb in (DIGEST_POST, DIGEST_REGENERATE):
                return await self.digest(actor, verb, _int(data.get("digest_id", data.get("value")), "digest_id"))
            if verb == REASSESSMENT_CONFIRM:
                reassessment = _int(data.get("value"), "reassessment_id")
                return await self.render(actor, await self._call(self.core.confirm_reassessment, actor, reassessment))
            if verb in (EDIT_PROPOSAL, REASSESSMENT_EDIT):
                pid = _int(data.get("proposal_id", data.get("value")), "proposal_id")
                start = await self._call(self.core.edit_seed, actor, pid)
                return await self.start_interview(actor, start)
            if verb == FULL_PROPOSAL:  # cards unfold it in place; this answers a button without it
                pid = _int(data.get("proposal_id", data.get("value")), "proposal_id")
                return await self.render(actor, await self._call(self.core.full_proposal, pid, actor))
            if verb == CHECKIN_OPEN:
                return checkin_card(_int(data.get("proposal_id", data.get("value")), "proposal_id"))
            if verb == CHECKIN_SUBMIT:
                return await self.checkin(actor, data)
            if verb == ASSESS_OPEN:
                pid = _int(data.get("proposal_id", data.get("value")), "proposal_id")
                return await self.assess_view(actor, await self._call(self.core.assess_form, actor, pid))
            if verb == teams_assess.SUBMIT:
                return await self.assess(actor, data)
            if verb == teams_assess.CANCEL:
                return cards.notice_card("Nothing was stored.", detail="Type `assess <id>` to answer later.")
            if verb == POLICY_APPLY:
                candidate = _int(data.get("value"), "candidate_id")
                return await self.render(actor, await self._call(self.core.confirm_policy, actor, candidate))
        except Exception as exc:  # report on the card; never leave the click unanswered
            if isinstance(exc, EXPECTED):
                logger.info("Teams: card action %r by %s refused: %s", verb[:80], actor, type(exc).__name__)
            else:
                logger.exception("Teams: card action %r by %s failed", verb[:80], actor)
            return cards.notice_card(error_text(exc), attention=True)
        logger.info("Teams: unknown card verb %r", verb[:80])
        return cards.notice_card(f"Unknown action {verb[:80]!r}.", attention=True)

    # ------------------------------------------------------------------ interview
    async def start_interview(
        self, actor: str, start: InterviewStart, message: Message | None = None
    ) -> dict[str, Any]:
        if start.describe:
            return teams_intake.paragraph_card(_state(questions.PARAGRAPH, None, None, actor))
        answers = dict(start.seed or {})
        first = self.core.interview_flow().start(answers)
        await self._call(self.core.save_draft, CHANNEL, actor, answers, first.page.id, start.proposal_id)
        intro = message.text if message is not None else first.note
        if start.resumed and not intro:
            intro = "Welcome back: your draft is filled in below."
        return page_card(first, answers, _state(first.page.id, start.proposal_id, None, actor), intro=intro)

    async def read(self, actor: str, paragraph: str, progress: Progress | None) -> dict[str, Any]:
        """Say "reading…" at once, read the paragraph, then the summary (or, when the LLM
        failed, the plain interview with what the lexicon found)."""
        if progress is not None:
            await progress(teams_intake.reading_card())
        start = await self._call(self.core.read_paragraph, actor, CHANNEL, paragraph)
        return await self.start_interview(actor, start)

    async def paragraph_next(self, actor: str, data: dict[str, Any], progress: Progress | None) -> dict[str, Any]:
        """The "Describe it in your own words" card was sent: read it, or (left empty)
        start the question-by-question interview."""
        if data.get("user") not in (None, actor):
            return cards.notice_card("This form belongs to someone else.", attention=True)
        text = str(data.get(questions.PARAGRAPH) or "").strip()
        if not text:
            return await self.start_interview(actor, InterviewStart(seed={}))
        try:
            paragraph = self.core.check_paragraph(text)
        except UsageError as exc:
            state = _state(questions.PARAGRAPH, None, str(data.get("key") or "") or None, actor)
            return teams_intake.paragraph_card(state, error=exc.message, value=text)
        return await self.read(actor, paragraph, progress)

    async def _draft(self, actor: str) -> dict[str, Any]:
        draft = await self._call(self.core.load_draft, CHANNEL, actor)
        if isinstance(draft, dict) and isinstance(draft.get("answers"), dict):
            return dict(draft["answers"])
        return dict(draft or {})

    async def interview_next(self, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        page_id = str(data.get("page") or "")
        proposal_id = _opt_int(data.get("proposal_id"))
        key = str(data.get("key") or "") or None
        if data.get("user") not in (None, actor):
            return cards.notice_card(
                "This form belongs to someone else.",
                detail="Type `propose` to start your own proposal.",
                attention=True,
            )
        answers = await self._draft(actor)
        flow = self.core.interview_flow(proposal_id)
        try:
            shown = flow.show(page_id, answers)
        except KeyError:
            return cards.notice_card("This form is out of date; type `propose` to continue.", attention=True)
        page = shown.page
        raw = {q.key: _me(q, data[q.key], actor) for q in page.questions if q.key in data}
        unknown = await self._people(page, raw)
        clean, errors = interview.parse_page(page, raw)
        errors = {**errors, **unknown}
        if errors:
            return page_card(shown, {**answers, **raw}, _state(page.id, proposal_id, key, actor), errors=errors)
        answers.update(clean)
        nxt = flow.after(page.id, answers)
        if nxt is not None:
            await self._call(self.core.save_draft, CHANNEL, actor, answers, nxt.page.id, proposal_id)
            return page_card(nxt, answers, _state(nxt.page.id, proposal_id, key, actor))
        await self._call(self.core.save_draft, CHANNEL, actor, answers, "submit", proposal_id)
        return await self.submit(actor, answers, proposal_id, key)

    async def _people(self, page: interview.Page, raw: dict[str, Any]) -> dict[str, str]:
        """Turn a typed person (an id, `@name`, the name of someone govbot knows) into
        their id in `raw`; return the errors of those who are nobody."""
        errors: dict[str, str] = {}
        for q in page.questions:
            value = raw.get(q.key)
            if q.kind != interview.USER or not isinstance(value, str) or not value.strip():
                continue
            try:
                raw[q.key] = await self._call(self.core.resolve_user, value)
            except UsageError as exc:
                errors[q.key] = f"{q.key}: {exc.message.removeprefix('user: ')}"
        return errors

    async def submit(
        self, actor: str, answers: dict[str, Any], proposal_id: int | None, key: str | None
    ) -> dict[str, Any]:
        proposal = interview.to_proposal(answers)
        try:
            submitted = await self._call(
                self.core.submit,
                actor,
                CHANNEL,
                proposal,
                proposal_id=proposal_id,
                idempotency_key=f"teams:{key}" if key else None,
            )
        except ProposalInvalid as exc:
            errors = {e.key: str(e) for e in exc.errors}
            shown = _page_with(self.core.interview_flow(), errors, answers)
            return page_card(shown, answers, _state(shown.page.id, proposal_id, key, actor), errors=errors)
        risk = submitted.classification.get("risk_level", "?")
        again = " (already submitted)" if submitted.duplicate else ""
        return cards.notice_card(
            f"Proposal #{submitted.proposal_id} submitted{again}: {risk} risk.",
            detail="Your classification and the approvals it needs are on their way in this chat.",
        )

    # ------------------------------------------------------------------ regulatory questions
    async def assess_view(
        self,
        actor: str,
        form: AssessForm,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The card of `assess <id>`, or what to say when nothing is left to ask."""
        if not form.questions:
            return await self.render(actor, await self._call(self.core.assess_nothing, form))
        intro = await self._call(self.core.assess_intro, form)
        return teams_assess.assess_card(form, intro, actor, values=values, errors=errors)

    async def assess(self, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        """The card was sent: store the answers, or show it again with the errors."""
        if data.get("user") not in (None, actor):
            return cards.notice_card("This form belongs to someone else.", attention=True)
        pid = _int(data.get("proposal_id"), "proposal_id")
        raw = {k: v for k, v in data.items() if k not in ("verb", "proposal_id", "user")}
        try:
            message = await self._call(self.core.assess, actor, pid, raw)
        except ProposalInvalid as exc:
            form = await self._call(self.core.assess_form, actor, pid)
            asked = {q.key for q in form.questions}
            errors = {e.key if e.key in asked else "form": str(e) for e in exc.errors}
            return await self.assess_view(actor, form, values=raw, errors=errors)
        return await self.render(actor, message)

    # ------------------------------------------------------------------ approvals
    async def _reason_required(self, actor: str, request_id: int) -> bool:
        """Governance deciding in the routed approver's place: the card asks for a reason."""
        form = await self._call(self.core.decision_form, actor, request_id, "approve")
        return form.reason_required

    async def approval_view(
        self,
        actor: str,
        request_id: int,
        notice: str | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        message = await self._call(self.core.approval_card, request_id, actor)
        return cards.approval_card(
            message,
            request_id=request_id,
            refresh_users=await self._call(self.core.approval_viewers, request_id),
            notice=notice,
            errors=errors,
            values=values,
            override=await self._reason_required(actor, request_id),
        )

    async def decide(
        self,
        actor: str,
        verb: str,
        data: dict[str, Any],
        shown: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Record the decision; the answer is the card that replaces the clicked one.
        With `key`, the click is recorded first and the decision made from the record."""
        request_id = _int(data.get("request_id", data.get("value")), "request_id")
        decision = cards.DECISION_VERBS[verb]
        comment = _text(data.get(cards.COMMENT_ID))
        override_reason = _text(data.get(cards.OVERRIDE_ID))
        values = {k: v for k, v in ((cards.COMMENT_ID, comment), (cards.OVERRIDE_ID, override_reason)) if v}
        try:
            recorded = None
            if key is not None and (decision == "approve" or comment):  # else the card asks for a comment first
                recorded = await self.record_click(actor, key, request_id, decision, comment, override_reason, shown)
            outcome = await self.desk.process(recorded.id) if recorded is not None else None
            if outcome is None:  # not recorded, or recorded before: decisions are idempotent per request
                outcome = await self._call(
                    self.core.decide, actor, request_id, decision, comment, override_reason, in_place=shown
                )
        except CommentRequired as exc:  # shown on the comment input
            return await self.approval_view(actor, request_id, errors={cards.COMMENT_ID: exc.message}, values=values)
        if outcome.status == "refused":
            return cards.approval_card(
                outcome.card,
                request_id=request_id,
                notice=outcome.notice,
                values=values,
                override=bool(override_reason) or outcome.may_override,
            )
        users = await self._call(self.core.approval_viewers, request_id)
        return cards.approval_card(outcome.card, request_id=request_id, refresh_users=users, notice=outcome.notice)

    async def record_click(
        self,
        actor: str,
        key: str,
        request_id: int,
        decision: str,
        comment: str | None,
        override_reason: str | None,
        shown: dict[str, Any] | None,
    ) -> InboundAction | None:
        """The durable record of an approval click (Action.Execute or Action.Submit),
        written inside the turn before it is answered; None when this click was
        recorded before (`handlers.inbound`)."""
        in_place = {k: str(v) for k, v in shown.items() if v is not None} if shown else None
        payload = {
            "request_id": request_id,
            "decision": decision,
            "comment": comment,
            "override_reason": override_reason,
            "in_place": in_place,
        }
        return await self.desk.receive(CHANNEL, key, actor, "decide", payload)

    # ------------------------------------------------------------------ policy
    async def policy_file(self, actor: str, url: str) -> dict[str, Any]:
        """A candidate policy attached as a .toml file: download it, show its what-if."""
        try:
            text = await download_text(url, POLICY_FILE_MAX)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return cards.notice_card(f"Could not read the attached policy file: {exc}", attention=True)
        try:
            message = await self._call(self.core.try_policy, actor, text)
        except Refused as exc:
            return cards.notice_card(exc.message, attention=True)
        return await self.render(actor, message)

    # ------------------------------------------------------------------ digest and check-ins
    async def digest(self, actor: str, verb: str, digest_id: int) -> dict[str, Any]:

        fn = self.core.post_digest if verb == DIGEST_POST else self.core.regenerate_digest
        result = await self._call(fn, actor, digest_id)
        if isinstance(result, Message):
            return await self.render(actor, result)
        text = "Digest posted." if verb == DIGEST_POST else "Digest regenerated."
        return cards.notice_card(text, detail=str(result) if isinstance(result, str) else None)

    async def checkin(self, actor: str, data: dict[str, Any]) -> dict[str, Any]:
        pid = _int(data.get("proposal_id"), "proposal_id")
        value = " ".join(str(data.get("value_input") or "").split())
        if not value:
            return checkin_card(pid, error="value: give the latest value of the metric as a number in its unit, e.g. 7")
        note = " ".join(str(data.get("note") or "").split())
        text = f"checkin {pid} {value}" + (f" {note}" if note else "")
        return await self.command(actor, text)


# --------------------------------------------------------------------------- helpers


def click_key(conversation_id: str | None, activity_id: str | None) -> str | None:
    """What identifies one click across deliveries: the activity in its conversation
    (hashed when too long to store); None without an activity id."""
    if not activity_id:
        return None
    raw = f"{conversation_id or ''}|{activity_id}"
    return raw if len(raw) <= 200 else "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


POLICY_FILE_MAX = 1_000_000  # bytes of an attached policy file


async def download_text(url: str, limit: int) -> str:
    """GET a UTF-8 text file of at most `limit` bytes (ValueError when it is not)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("not an http(s) link")
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
        if resp.status != 200:
            raise ValueError(f"the download answered HTTP {resp.status}")
        body = bytearray()  # StreamReader.read(n) may return fewer bytes than are left: read to the end
        async for chunk in resp.content.iter_chunked(65536):
            body.extend(chunk)
            if len(body) > limit:
                break
    if len(body) > limit:
        raise ValueError(f"the file is larger than {limit:,} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None


def page_card(
    step: interview.Step,
    values: dict[str, Any],
    state: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    intro: str | None = None,
) -> dict[str, Any]:
    """One interview step as a card form (the step says where it stands and whether it is the last)."""
    page = step.page
    if page.id == questions.SUMMARY:
        label = SUBMIT_LABEL if step.last else "Next"
        return teams_intake.summary_card(step, values, state, errors=errors, intro=intro, submit_label=label)
    progress = f"Step {step.position[0]} of {step.position[1]}" if step.position else "Last step"
    if step.warning:  # e.g. similar workflows in other departments, before submitting
        intro = f"{intro}\n\n{step.warning}" if intro else step.warning
    if page.id == interview.FOLLOWUP:
        intro = intro or (
            "A few answers are blank or too vague for approvers to act on. Improve them if you "
            "can, or submit as they are: the classification will say what is missing."
        )
    return cards.interview_card(
        title=f"Propose an AI workflow: {page.title}",
        questions=page.questions,
        values=values,
        data=state,
        errors=errors,
        intro=intro,
        step=progress,
        submit_label=SUBMIT_LABEL if step.last else "Next",
    )


def _state(page_id: str, proposal_id: int | None, key: str | None, user: str) -> dict[str, Any]:
    """What rides on the form's buttons: the page, the submission's idempotency key, the
    proposal being edited, and whose form it is (in a channel others can see it)."""
    state: dict[str, Any] = {"page": page_id, "key": key or uuid.uuid4().hex, "user": user}
    if proposal_id is not None:
        state["proposal_id"] = proposal_id
    return state


def _page_with(flow: interview.InterviewFlow, errors: dict[str, str], answers: dict[str, Any]) -> interview.Step:
    """The step that asks the first key with an error (so the form can show it)."""
    for page in flow.pages(answers):
        if any(q.key in errors for q in page.questions):
            return flow.show(page.id, answers)
    return flow.start(answers)


def _me(question: questions.Question, raw: Any, actor: str) -> Any:
    if question.kind == questions.USER and isinstance(raw, str) and raw.strip().lower() in ("me", "myself", "i"):
        return actor
    return raw


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _int(value: Any, name: str) -> int:
    return parse_id(value, name)


def _opt_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return _int(value, "proposal_id")


def checkin_card(proposal_id: int, error: str | None = None) -> dict[str, Any]:
    inputs = [
        {
            "type": "Input.Text",
            "id": "value_input",
            "label": "Latest value of the metric (a number in its unit)",
            "isRequired": True,
            **({"errorMessage": error} if error else {}),
        },
        {"type": "Input.Text", "id": "note", "label": "Note (optional)", "isMultiline": True},
    ]
    body = [cards.text_block(f"Value check-in for #{proposal_id}", weight="Bolder", size="Medium"), *inputs]
    if error:
        body.append(cards.text_block(f"⚠ {error}", color="Attention"))
    return cards.new_card(
        body,
        [cards.execute(CHECKIN_SUBMIT, "Send", {"proposal_id": proposal_id}, "primary")],
        fallback_text=f"Value check-in for #{proposal_id}",
    )
