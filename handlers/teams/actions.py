"""What each card verb and typed command does in Teams, as cards.

Platform-free apart from the card JSON: the bot (invokes, Action.Submit fallbacks and
typed text) calls `command` and `run`, which call the core in a worker thread and
return the Adaptive Card to show.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.domain import approval_rules, interview, questions
from bot.domain.errors import Refused, UsageError
from bot.domain.proposal import ProposalInvalid
from bot.messages.message import (
    CHECKIN_OPEN,
    DIGEST_POST,
    DIGEST_REGENERATE,
    EDIT_PROPOSAL,
    POLICY_APPLY,
    REASSESSMENT_CONFIRM,
    REASSESSMENT_EDIT,
    Message,
)
from bot.service import approvals, roles
from bot.service.results import InterviewStart, Reply
from handlers.teams import cards

logger = logging.getLogger(__name__)

CHANNEL = "teams"
CHECKIN_SUBMIT = "checkin.submit"
SUBMIT_LABEL = "Submit proposal"
CORE_CALLS = 2  # core calls running at once per process, as in handlers/slack/app.py

_calls: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def core_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a (synchronous) core call off the event loop, at most CORE_CALLS at a time
    per process (one semaphore per event loop): core work holds the GIL, and more
    threads running it would starve the event loop that answers new activities."""
    loop = asyncio.get_running_loop()
    calls = _calls.get(loop)
    if calls is None:
        calls = _calls[loop] = asyncio.Semaphore(CORE_CALLS)
    async with calls:
        return await asyncio.to_thread(fn, *args, **kwargs)


class TeamsActions:
    def __init__(self, core: Any, settings: Any):
        self.core = core
        self.settings = settings

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await core_call(fn, *args, **kwargs)

    # ------------------------------------------------------------------ typed commands
    async def command(self, actor: str, text: str, conversation_id: str | None = None) -> dict[str, Any]:
        """A typed command: the core's reply as a card, or the first interview page.
        `conversation_id` is where it was typed (`digest here` registers it)."""
        reply: Reply = await self._call(self.core.handle_command, actor, CHANNEL, text, conversation_id=conversation_id)
        if reply.interview is not None:
            return await self.start_interview(actor, reply.interview, reply.message)
        if reply.message is not None:
            return await self.render(actor, reply.message)
        return cards.notice_card("Done.")

    async def render(self, actor: str, message: Message, notice: str | None = None) -> dict[str, Any]:
        if cards.has_decision_buttons(message) and message.meta.get("request_id") is not None:
            users = await self._call(refresh_users, self.core, message.meta["request_id"])
            return cards.approval_card(
                message,
                refresh_users=users,
                notice=notice,
                override=await self._needs_override(actor, message.meta["request_id"]),
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
    async def run(self, actor: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        """One card action; always returns a card (errors are shown on it, never lost)."""
        try:
            if verb == cards.INTERVIEW_NEXT:
                return await self.interview_next(actor, data)
            if verb == cards.INTERVIEW_CANCEL:
                return cards.notice_card(
                    "Interview paused.",
                    detail="Your answers are saved as a draft; type `propose` to continue where you left off.",
                )
            if verb in cards.DECISION_VERBS:
                return await self.decide(actor, verb, data)
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
            if verb == CHECKIN_OPEN:
                return checkin_card(_int(data.get("proposal_id", data.get("value")), "proposal_id"))
            if verb == CHECKIN_SUBMIT:
                return await self.checkin(actor, data)
            if verb == POLICY_APPLY:
                candidate = _int(data.get("value"), "candidate_id")
                return await self.render(actor, await self._call(self.core.confirm_policy, actor, candidate))
        except Refused as exc:
            return cards.notice_card(exc.message, attention=True)
        except UsageError as exc:
            return cards.notice_card(exc.message, attention=True)
        except Exception:  # report on the card; never leave the click unanswered
            logger.exception("Teams: card action %r by %s failed", verb[:80], actor)
            return cards.notice_card(
                "Sorry, that failed on our side; the error is logged. Please try again.", attention=True
            )
        logger.info("Teams: unknown card verb %r", verb[:80])
        return cards.notice_card(f"Unknown action {verb[:80]!r}.", attention=True)

    # ------------------------------------------------------------------ interview
    async def start_interview(
        self, actor: str, start: InterviewStart, message: Message | None = None
    ) -> dict[str, Any]:
        answers = dict(start.seed or {})
        first = interview.first_page(answers)
        await self._call(self.core.save_draft, CHANNEL, actor, answers, first.id, start.proposal_id)
        intro = message.text if message is not None else None
        if start.resumed and not intro:
            intro = "Welcome back: your draft is filled in below."
        return page_card(first, answers, _state(first.id, start.proposal_id, None, actor), intro=intro)

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
        try:
            page = interview.get_page(page_id, answers)
        except KeyError:
            return cards.notice_card("This form is out of date; type `propose` to continue.", attention=True)
        raw = {q.key: _me(q, data[q.key], actor) for q in page.questions if q.key in data}
        clean, errors = interview.parse_page(page, raw)
        if errors:
            return page_card(page, {**answers, **raw}, _state(page.id, proposal_id, key, actor), errors=errors)
        answers.update(clean)
        nxt = interview.next_page(page.id, answers) if page.id != "followup" else None
        if nxt is None and page.id != "followup":
            nxt = interview.followup_page(answers)
        if nxt is not None:
            await self._call(self.core.save_draft, CHANNEL, actor, answers, nxt.id, proposal_id)
            return page_card(nxt, answers, _state(nxt.id, proposal_id, key, actor))
        await self._call(self.core.save_draft, CHANNEL, actor, answers, "submit", proposal_id)
        return await self.submit(actor, answers, proposal_id, key)

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
            page = _page_with(errors, answers)
            return page_card(page, answers, _state(page.id, proposal_id, key, actor), errors=errors)
        risk = submitted.classification.get("risk_level", "?")
        again = " (already submitted)" if submitted.duplicate else ""
        return cards.notice_card(
            f"Proposal #{submitted.proposal_id} submitted{again}: {risk} risk.",
            detail="Your classification and the approvals it needs are on their way in this chat.",
        )

    # ------------------------------------------------------------------ approvals
    async def _needs_override(self, actor: str, request_id: Any) -> bool:
        return await self._call(needs_override, self.core, actor, request_id)

    async def approval_view(
        self,
        actor: str,
        request_id: int,
        notice: str | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        message = await self._call(self.core.approval_card, request_id, actor)
        users = await self._call(refresh_users, self.core, request_id)
        return cards.approval_card(
            message,
            request_id=request_id,
            refresh_users=users,
            notice=notice,
            errors=errors,
            values=values,
            override=await self._needs_override(actor, request_id),
        )

    async def decide(self, actor: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        request_id = _int(data.get("request_id", data.get("value")), "request_id")
        decision = cards.DECISION_VERBS[verb]
        comment = _text(data.get(cards.COMMENT_ID))
        override_reason = _text(data.get(cards.OVERRIDE_ID))
        values = {k: v for k, v in ((cards.COMMENT_ID, comment), (cards.OVERRIDE_ID, override_reason)) if v}
        if decision != "approve" and not comment:
            what = "reject" if decision == "reject" else "request changes"
            return await self.approval_view(
                actor,
                request_id,
                errors={cards.COMMENT_ID: f"comment: a comment is required to {what}; say what must change or why"},
                values=values,
            )
        outcome = await self._call(self.core.decide, actor, request_id, decision, comment, override_reason)
        if outcome.status == "refused":
            return cards.approval_card(
                outcome.card,
                request_id=request_id,
                notice=outcome.notice,
                values=values,
                override=bool(override_reason) or await self._needs_override(actor, request_id),
            )
        users = await self._call(refresh_users, self.core, request_id)
        return cards.approval_card(outcome.card, request_id=request_id, refresh_users=users, notice=outcome.notice)

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
            return checkin_card(pid, error="value: give the latest value of the metric, e.g. '7 minutes'")
        note = " ".join(str(data.get("note") or "").split())
        text = f"checkin {pid} {value}" + (f" {note}" if note else "")
        return await self.command(actor, text)


# --------------------------------------------------------------------------- helpers

POLICY_FILE_MAX = 1_000_000  # bytes of an attached policy file


async def download_text(url: str, limit: int) -> str:
    """GET a UTF-8 text file of at most `limit` bytes (ValueError when it is not)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("not an http(s) link")
    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
        if resp.status != 200:
            raise ValueError(f"the download answered HTTP {resp.status}")
        body = await resp.content.read(limit + 1)
    if len(body) > limit:
        raise ValueError(f"the file is larger than {limit:,} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None


def page_card(
    page: questions.Page,
    values: dict[str, Any],
    state: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    intro: str | None = None,
) -> dict[str, Any]:
    """One interview page as a card form."""
    order = [pid for pid in questions.PAGE_ORDER if interview.get_page(pid, values).questions]
    step = f"Step {order.index(page.id) + 1} of {len(order)}" if page.id in order else "Last step"
    final = page.id == "followup" or (
        page.id in order and interview.next_page(page.id, values) is None and interview.followup_page(values) is None
    )
    if page.id == "followup":
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
        step=step,
        submit_label=SUBMIT_LABEL if final else "Next",
    )


def _state(page_id: str, proposal_id: int | None, key: str | None, user: str) -> dict[str, Any]:
    """What rides on the form's buttons: the page, the submission's idempotency key, the
    proposal being edited, and whose form it is (in a channel others can see it)."""
    state: dict[str, Any] = {"page": page_id, "key": key or uuid.uuid4().hex, "user": user}
    if proposal_id is not None:
        state["proposal_id"] = proposal_id
    return state


def _page_with(errors: dict[str, str], answers: dict[str, Any]) -> questions.Page:
    """The page that asks the first key with an error (so the form can show it)."""
    for pid in questions.PAGE_ORDER:
        page = interview.get_page(pid, answers)
        if any(q.key in errors for q in page.questions):
            return page
    return interview.first_page(answers)


def _me(question: questions.Question, raw: Any, actor: str) -> Any:
    if question.kind == questions.USER and isinstance(raw, str) and raw.strip().lower() in ("me", "myself", "i"):
        return actor
    return raw


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise UsageError(f"{name}: expected a number, got {str(value)[:40]!r}") from None


def _opt_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return _int(value, "proposal_id")


def checkin_card(proposal_id: int, error: str | None = None) -> dict[str, Any]:
    inputs = [
        {
            "type": "Input.Text",
            "id": "value_input",
            "label": "Latest value of the metric",
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


def refresh_users(core: Any, request_id: Any) -> list[str]:
    """Users whose Teams client should fetch their own view of an approval card: the
    holders of the routed role, their active delegates and governance (sync; run in a thread)."""
    users: list[str] = []
    with core.uow() as uow:
        try:
            request = uow.approvals.get(int(request_id))
            people = roles.request_holders(uow, core.settings, request)
            users.extend(people)
            now = core.clock.now()
            for holder in approval_rules.delegating(request, people):
                users.extend(d.delegate_id for d in uow.delegations.active_for(holder, now))
        except Exception:  # unknown request: governance still sees it
            logger.debug("Teams: no approval request %s for refresh", request_id)
        users.extend(uow.roles.holders("governance", ""))
    users.extend(core.settings.governance_ids())
    return [u for u in dict.fromkeys(users) if u]


def needs_override(core: Any, actor: str, request_id: Any) -> bool:
    """True when `actor` is not the routed approver, another holder of the routed role
    or an active delegate of one of them (governance deciding for them must give a reason)."""
    with core.uow() as uow:
        try:
            request = uow.approvals.get(int(request_id))
        except Exception:
            return False
        auth = approvals.authority(uow, core.settings, request, actor, None, core.clock.now())
        return not (auth.ok and auth.via in ("approver", "holder", "delegate"))
