"""The service facade every channel drives (Slack, Teams, console, CLI).

Handlers only translate: a payload becomes one of these calls, and the returned
neutral `Message` is rendered for the platform. Every state change happens in one
unit of work together with its audit event and its outbox messages. Each method hands
the use case (one module of `bot.service` each) the ports it needs, and a new unit of
work per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.domain import approval_rules
from bot.domain.errors import NotFound, UsageError
from bot.domain.extraction import LexiconExtractor, check_paragraph
from bot.domain.intake import IntakeFlow
from bot.domain.records import ConversationRef, DigestRow, InboundAction, OutboxRow
from bot.domain.roles import clean_user
from bot.domain.similarity import OfflineMatcher
from bot.messages import compose
from bot.messages.message import Message
from bot.ports import Clock, Drafter, Extractor, PolicySource, Sender, SimilarityMatcher, UnitOfWorkFactory
from bot.service import (
    assess,
    auditpack,
    chat,
    checkins,
    decisions,
    delivery,
    digest,
    drafts,
    export,
    importer,
    inbound,
    inbox,
    incidents,
    intake,
    jobs,
    lifecycle,
    people,
    policy_versions,
    portfolio,
    queries,
    reassess,
    reroute,
    roles,
    sprawl,
    submit,
    whatif,
)
from bot.service.results import AssessForm, DecisionForm, DecisionOutcome, InterviewStart, Reply, Submitted
from bot.settings import Settings


class Govbot:
    """The core, wired with its ports by `bot.app.build_core`.

    `uow` makes a new unit of work; `clock` gives the time; `policy` answers the
    classification policy in force; `settings` are the validated settings; `drafter`
    is the digest's LLM (None: the template writes the digest); `extractor` reads a
    requester's paragraph at intake (None: the lexicon reads it); `instance` names this
    process in job claims; `matcher` turns a proposal into what near-duplicates are
    found by (default: the offline terms).
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: PolicySource,
        settings: Settings,
        drafter: Drafter | None,
        *,
        extractor: Extractor | None = None,
        instance: str = "local",
        matcher: SimilarityMatcher | None = None,
    ):
        self.uow = uow
        self.clock = clock
        self.policy = policy
        self.settings = settings
        self.drafter = drafter
        self.instance = instance
        self.extractor: Extractor = extractor if extractor is not None else LexiconExtractor()
        self.matcher: SimilarityMatcher = matcher or OfflineMatcher()

    # Set by `bot.app.build_core`: the database lets one transaction write at a time
    # (SQLite), so channels give the record an ack waits on the write lock first.
    single_writer = False

    # Lanes (handlers.base): LLM work and heavy reads never hold up quick commands.
    LANES = {
        "draft_digest": "llm",
        "regenerate_digest": "llm",
        "portfolio": "heavy",
        "portfolio_data": "heavy",
        "export": "heavy",
        "audit_pack": "heavy",
        "audit_lines": "heavy",
        "read_paragraph": "llm",
        "policy_what_if": "heavy",
        "apply_policy": "heavy",
        "receive_action": "record",
        "receive_actions": "record",
    }

    def lane_for(self, method: str, args: Sequence[Any] = ()) -> str:
        """The lane a call of `method` with `args` needs: "llm", "heavy" or "quick"
        (a typed command by what it asks for, see `chat.command_lane`)."""
        if method == "handle_command" and len(args) >= 3 and isinstance(args[2], str):
            return chat.command_lane(args[2])
        return self.LANES.get(method, "quick")

    def bootstrap(self) -> None:
        """Seed the role directory from GOVBOT_GOVERNANCE and the roles file (raises
        bot.domain.roles.RolesFileError naming a bad entry)."""
        with self.uow() as uow:
            if roles.bootstrap(uow, self.settings.governance_ids(), self.settings.roles_file, self.clock.now()):
                uow.commit()

    # --- chat commands (Slack `/aiwf ...`, Teams typed text, console) -------------
    def handle_command(self, actor: str, channel: str, text: str, conversation_id: str | None = None) -> Reply:
        """Parse and run `propose [desc]`, `mine`, `status <id>`, `portfolio`, `roles
        [set <role> [department] <user>...]`, `digest [here]`, `help`, and the lifecycle
        commands (`pause|resume|retire|promote <id>`, `override <id> <code> <reason>`,
        `delegate <user> <until>`, `checkin <id> <value>`, `autonomy <id>`, `incident <id>
        <low|medium|high> <what happened>`, `resolve <incident id> <what was done>`). An unknown
        subcommand answers with help. Raises nothing: usage errors and refusals come
        back as a Reply whose message says what is wrong. `conversation_id` is the
        Slack channel / Teams conversation the command was typed in (`digest here`)."""
        return chat.run_command(
            self.uow(), self.clock, self.policy, self.settings, self.drafter, actor, channel, text, conversation_id
        )

    def help(self, channel: str | None = None) -> Message:
        """Every command with one line; Slack shows the slash command, other channels
        (commands typed to the bot) show the bare commands."""
        return chat.help_message(self.settings, channel)

    # --- interview ------------------------------------------------------------------
    def interview_flow(self, proposal_id: int | None = None) -> IntakeFlow:
        """The interview stepper under the policy the classifier uses (GOVBOT_POLICY_FILE
        when set), which decides when the regulatory questions are asked. Channels
        walk the pages with it and never choose pages themselves; it opens on the
        summary when a paragraph was read or a proposal is edited. The step that submits
        carries a warning naming similar workflows of other departments (`proposal_id`:
        the proposal being edited, left out of them)."""

        def similar(answers: dict[str, Any]) -> str | None:
            notice = self.similar_notice(answers, proposal_id)
            return None if notice is None else "\n".join([notice.text, *(s.text for s in notice.sections)])

        return IntakeFlow(self.policy.current(), known=self.known_names(), before_submit=similar)

    def load_draft(self, channel: str, actor: str) -> dict[str, Any] | None:
        """The unfinished interview: {"answers", "step", "proposal_id", "updated_at"}."""
        return drafts.load_draft(self.uow(), channel, actor)

    def save_draft(
        self, channel: str, actor: str, answers: dict[str, Any], step: str | None, proposal_id: int | None = None
    ) -> None:
        drafts.save_draft(self.uow(), self.clock, channel, actor, answers, step, proposal_id)

    def discard_draft(self, channel: str, actor: str) -> None:
        drafts.discard_draft(self.uow(), channel, actor)

    def edit_seed(self, actor: str, proposal_id: int) -> InterviewStart:
        """Answers of the latest revision, for reopening the interview prefilled after
        "changes requested". Only the requester (or owner) may edit; else Refused."""
        return intake.edit_seed(self.uow(), self.clock, self.policy, actor, proposal_id)

    def read_paragraph(self, actor: str, channel: str, paragraph: str) -> InterviewStart:
        """Read the requester's paragraph (`propose <paragraph>` or the first step of the
        interview) with the extractor, store the extraction and the draft, and return the
        interview to open: one summary to confirm. Slow with an LLM (bounded by
        GOVBOT_LLM_TIMEOUT): channels acknowledge and say they are reading first. Raises
        UsageError for an empty or too long paragraph."""
        intake.keep_words(self.uow(), self.clock, actor, channel, paragraph)
        return intake.read_paragraph(self.uow(), self.clock, self.policy, self.extractor, actor, channel, paragraph)

    @staticmethod
    def check_paragraph(text: str) -> str:
        """The paragraph as it will be read, or UsageError naming the field (`paragraph`)
        and what is allowed (not empty, at most the description's length): channels check
        it on the form before reading."""
        return check_paragraph(text)

    def intake_stats(self) -> dict[str, Any]:
        """How paragraphs were read, per extractor: questions asked and answered,
        correction rate, fallbacks, latency (`make bench`)."""
        return intake.stats(self.uow())

    def submit(
        self,
        actor: str,
        channel: str,
        answers: dict[str, Any],
        proposal_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """Validate (ProposalInvalid names every bad key), classify, store the proposal
        and its revision, route approvals through the role directory and queue the
        classification message and approval requests in the outbox. With
        `proposal_id`, it is a resubmission after changes were requested (Refused if
        the actor may not edit it). `idempotency_key` (e.g. Slack's view id) makes a
        retried submission return the first result with duplicate=True."""
        extraction_id = intake.pending(self.uow(), channel, actor)  # read before the draft goes
        result = submit.submit(
            self.uow(),
            self.clock,
            self.policy,
            self.settings,
            actor,
            channel,
            answers,
            proposal_id,
            idempotency_key,
            instance=self.instance,
            matcher=self.matcher,
        )
        if extraction_id is not None and not result.duplicate:
            intake.settle(self.uow(), self.clock, extraction_id, result.proposal_id, answers)
        return result

    def import_proposals(
        self,
        actor: str,
        channel: str,
        rows: Sequence[Any],
        progress: Callable[[int], None] | None = None,
        chunk: int = importer.CHUNK,
    ) -> dict[str, Any]:
        """`govbot import`: submit every row as `actor`, `chunk` rows per unit of work;
        returns {"imported", "refused", "rows": [per-row report]}."""
        return importer.import_proposals(
            self.uow(),
            self.clock,
            self.policy,
            self.settings,
            actor,
            channel,
            rows,
            progress,
            chunk,
            instance=self.instance,
            matcher=self.matcher,
        )

    def known_names(self) -> dict[str, list[str]]:
        """Vendors, models and departments the portfolio already uses, most used first,
        for the interview's `vendor`, `model` and `downstream` questions."""
        return sprawl.known_names(self.uow())

    def similar_notice(self, answers: dict[str, Any], proposal_id: int | None = None) -> Message | None:
        """Before the requester submits: the live workflows of other departments that
        look like these answers ("3 similar workflows exist: ..., talk to their
        owners?"); None when there are none or the answers have no title yet."""
        return sprawl.similar_notice(self.uow(), self.matcher, self.policy.current(), answers, proposal_id)

    # --- regulatory questions (`assess <id>`) ---------------------------------------
    def assess_form(self, actor: str, proposal_id: int, given: Mapping[str, Any] | None = None) -> AssessForm:
        """The EU AI Act questions the owner of `proposal_id` still has to answer: those
        that decide its tier and that neither an answer nor its words settled, once
        `given` (answers so far) is applied; `questions` empty means nothing to ask.
        Refused (audited) for anyone but the owner (governance when it has none);
        UsageError for an unknown or closed proposal."""
        return assess.form(self.uow(), self.clock, self.policy.current(), self.settings, actor, proposal_id, given)

    def assess(self, actor: str, proposal_id: int, answers: Mapping[str, Any]) -> Message:
        """Store the owner's answers ({proposal key: value as a form sends it}) to the
        questions of `assess_form`, re-classify, reopen approvals when the risk or the
        roles change, audit; returns what changed. ProposalInvalid names every bad key
        and what it allows (nothing is written); Refused as `assess_form`."""
        message = assess.record(
            self.uow(), self.clock, self.policy.current(), self.settings, actor, proposal_id, answers
        )
        return self.named(message)

    @staticmethod
    def assess_intro(form: AssessForm) -> Message:
        """What to show above the questions of `form` (tier now, what the words settled)."""
        return assess.intro_message(form)

    @staticmethod
    def assess_nothing(form: AssessForm) -> Message:
        """What to say when `form` asks nothing."""
        return assess.nothing_message(form)

    # --- approvals ------------------------------------------------------------------
    def decide(
        self,
        actor: str,
        request_id: int,
        decision: str,
        comment: str | None = None,
        override_reason: str | None = None,
        *,
        in_place: dict[str, Any] | None = None,
    ) -> DecisionOutcome:
        """Record approve / reject / request_changes. Only the routed approver (or any
        other current holder of the routed role), an active delegate of one of them, or
        governance with `override_reason` may decide; anyone else
        gets status="refused" (and the attempt is audited; `may_override` says when a
        written governance reason would do). A repeated or concurrent decision returns
        status="duplicate" with the first decision's card. Raises UsageError for an
        unknown request id or decision, and CommentRequired when rejecting or requesting
        changes without a comment. `in_place` is the channel's reference of the clicked
        message when the channel replaces it with the returned card itself; the outbox
        then updates only the other copies."""
        outcome = decisions.decide(
            self.uow(),
            self.clock,
            self.settings,
            actor,
            request_id,
            decision,
            comment,
            override_reason,
            in_place=in_place,
        )
        with self.uow() as uow:
            outcome.card = people.named(uow, outcome.card)
            outcome.notice = people.named(uow, compose.notice("notice", outcome.notice)).text
        return outcome

    # --- acknowledged actions (an approval click recorded before it is acknowledged) --
    def receive_action(
        self, platform: str, key: str, actor: str, kind: str, payload: dict[str, Any], owner: str
    ) -> InboundAction | None:
        """Record an action before the channel acknowledges it, claimed by the process
        `owner`; None when the platform delivered this key before. UsageError names a
        bad field (nothing is written). See `bot.service.inbound`."""
        return inbound.receive(self.uow(), self.clock, platform, key, actor, kind, payload, owner)

    def receive_actions(self, items: Sequence[inbound.Incoming], owner: str) -> list[InboundAction | None | UsageError]:
        """`receive_action` for a burst, in one transaction: per item the row, None for
        a repeated delivery, or the UsageError naming its bad field."""
        return inbound.receive_many(self.uow(), self.clock, items, owner)

    def process_action(self, action_id: int, owner: str, *, resumed: bool = False) -> DecisionOutcome | None:
        """Carry out a recorded action `owner` holds (the decision, idempotent per
        request) and mark it done or failed; None when it is not `owner`'s to do."""
        return inbound.process(self.uow(), self.clock, action_id, owner, self.decide, resumed=resumed)

    def resume_actions(
        self, owner: str, orphaned: inbound.Orphaned, skip: Sequence[int] = (), limit: int = 50
    ) -> list[int]:
        """Take over unfinished actions whose lease ran out or whose process is gone;
        their ids, for `process_action(..., resumed=True)`."""
        return inbound.resume_due(self.uow(), self.clock, owner, orphaned, frozenset(skip), limit)

    def renew_actions(self, action_ids: Sequence[int], owner: str) -> None:
        """Keep the lease of the actions `owner` is still working on."""
        inbound.renew(self.uow(), self.clock, action_ids, owner)

    def actions_report(self, status: str | None = None, limit: int = 50) -> dict[str, Any]:
        """`govbot actions`: counts per status and the latest actions (of `status`)."""
        return inbound.report(self.uow(), status, limit)

    def parse_decision(self, word: str, rest: str, *, require_comment: bool = True) -> dict[str, Any]:
        """`approve|reject|changes <request id | #proposal id> [comment] [--override <reason>]`
        parsed as every channel parses it: `request_id` or `proposal_id`, `decision`,
        `comment`, `override_reason` (UsageError naming what is wrong)."""
        return chat.parse_decision(word, rest, require_comment=require_comment).args

    def request_on(self, actor: str, proposal_id: int, decision: str, override_reason: str | None = None) -> int:
        """The request a decision typed as `#<proposal id>` means: the one pending request
        on it that waits on `actor`. Raises UsageError listing the request ids otherwise."""
        return chat.request_on(self.uow(), self.clock, self.settings, actor, proposal_id, decision, override_reason)

    def decision_form(self, actor: str, request_id: int, decision: str) -> DecisionForm:
        """Before a channel asks for input: whether `actor` is refused outright, and
        whether the decision needs a comment or a written governance reason."""
        return decisions.decision_form(self.uow(), self.clock, self.settings, actor, request_id, decision)

    def card_not_replaced(self, request_id: int, in_place: dict[str, Any]) -> bool:
        """The channel could not replace the clicked message after `decide(...,
        in_place=...)`: the outbox updates that copy after all."""
        return decisions.requeue_card(self.uow(), self.clock, self.settings, request_id, in_place)

    def approval_card(self, request_id: int, viewer: str | None = None) -> Message:
        """The approval message as `viewer` should see it: buttons only while pending
        and only for someone who may decide (Teams `refresh`)."""
        with self.uow() as uow:
            try:
                request = uow.approvals.get(request_id)
            except NotFound:
                raise UsageError(f"request id: there is no approval request {request_id}") from None
            proposal = uow.proposals.get(request.proposal_id)
            card = decisions.card_for(uow, self.settings, self.clock.now(), proposal, request, viewer)
            return people.named(uow, card)

    def approval_viewers(self, request_id: int) -> list[str]:
        """Who may see an approval card with its buttons (Teams refreshes the card for
        them): the holders of the routed role, their active delegates, and governance."""
        users: list[str] = []
        with self.uow() as uow:
            try:
                request = uow.approvals.get(request_id)
            except NotFound:
                request = None  # unknown request: governance still sees it
            if request is not None:
                people = roles.request_holders(uow, self.settings, request)
                users.extend(people)
                now = self.clock.now()
                for holder in approval_rules.delegating(request, people):
                    users.extend(d.delegate_id for d in uow.delegations.active_for(holder, now))
            users.extend(roles.governance_members(uow, self.settings))
        return [u for u in dict.fromkeys(users) if u]

    # --- lifecycle and running workflows --------------------------------------------
    def transition(self, actor: str, proposal_id: int, action: str, *, reason: str | None = None) -> Message:
        """`pause`, `resume`, `retire` or `promote` a proposal (see `lifecycle.transition`)."""
        return lifecycle.transition(
            self.uow(), self.clock, self.settings, actor, proposal_id, action, reason=reason, policy=self.policy
        )

    def override_stop(self, actor: str, proposal_id: int, code: str, reason: str | None) -> Message:
        """Governance lifts one open stop condition with a written reason."""
        return lifecycle.override_stop(
            self.uow(), self.clock, self.policy, self.settings, actor, proposal_id, code, reason
        )

    def delegate(
        self,
        actor: str,
        delegate_id: str,
        until: str | date | datetime,
        since: str | date | datetime | None = None,
    ) -> Message:
        """An approver names a delegate who may decide for them until `until`."""
        return lifecycle.delegate(self.uow(), self.clock, self.settings, actor, delegate_id, until, since)

    def record_checkin(self, actor: str, proposal_id: int, value: str, note: str | None = None) -> Message:
        """The owner (or governance) reports the latest value of a running workflow's metric."""
        return checkins.record_checkin(self.uow(), self.clock, self.settings, actor, proposal_id, value, note)

    def request_autonomy_step(self, actor: str, proposal_id: int) -> Message:
        """Ask to move a running workflow one autonomy step on."""
        return checkins.request_autonomy_step(self.uow(), self.clock, self.settings, actor, proposal_id)

    def report_incident(
        self, actor: str, proposal_id: int, severity: str, text: str, *, source: str | None = None
    ) -> Message:
        """`incident <id> <low|medium|high> <what happened>` (anyone; a high one pauses a
        pilot or production workflow and tells the owner and governance). `source` is
        where it was noticed (a message permalink). UsageError names a bad field."""
        return incidents.report(
            self.uow(), self.clock, self.settings, actor, proposal_id, severity, text, source=source
        )

    def resolve_incident(self, actor: str, incident_id: int, text: str) -> Message:
        """`resolve <incident id> <what was done>` (owner or governance; Refused otherwise)."""
        return incidents.resolve(self.uow(), self.clock, self.settings, actor, incident_id, text)

    def confirm_reassessment(self, actor: str, reassessment_id: int) -> Message:
        """`reassessment.confirm`: the owner (or governance) says a running workflow's
        answers still hold (Refused for anyone else; UsageError for an unknown id)."""
        return reassess.confirm(self.uow(), self.clock, self.settings, self.policy.current(), actor, reassessment_id)

    def user_id(self, token: str) -> str | None:
        """The user id in what someone typed (`<@U123|name>`, `<@U123>`, `@U123` or
        `U123`); None when it is not a plausible user id."""
        return clean_user(token)

    def is_governance(self, actor: str) -> bool:
        """True when `actor` holds the governance role (directory or GOVBOT_GOVERNANCE)."""
        with self.uow() as uow:
            return roles.is_governance(uow, actor, self.settings)

    # --- views ----------------------------------------------------------------------
    def status(self, proposal_id: int, viewer: str | None = None) -> Message:
        """`status <id>`: everything for the operator (`viewer` None) and for the people
        involved, role holders asked and governance; a summary without comments,
        decisions or trail for anyone else."""
        days = self.policy.current().min_pilot_days
        message = queries.status_message(
            self.uow(), self.settings, proposal_id, viewer, now=self.clock.now(), min_pilot_days=days
        )
        return self.named(message)

    def full_proposal(self, proposal_id: int, viewer: str | None = None) -> Message:
        """`proposal <id>` and the "Full proposal" button: every answer, the verdict and
        what the last resubmission changed, for the people who may see its details
        (Refused for anyone else)."""
        return self.named(queries.proposal_message(self.uow(), self.settings, proposal_id, viewer))

    def check_database(self) -> None:
        """Read from the database once; raises when it does not answer (`/readyz`)."""
        with self.uow() as uow:
            uow.keyvalues.get("govbot.readyz")

    def status_data(self, proposal_id: int) -> dict[str, Any]:
        """`govbot status ID --json`: proposal, classification, stop conditions,
        approvals, decisions, check-ins, audit trail, undelivered outbox rows.
        Raises NotFound for an unknown id."""
        return queries.status_data(
            self.uow(), proposal_id, now=self.clock.now(), min_pilot_days=self.policy.current().min_pilot_days
        )

    def mine(self, actor: str, channel: str | None = None) -> Message:
        """`mine`: the actor's proposals, their unfinished interview in `channel` (and how
        to resume it), and the requests waiting on them with their ids."""
        return self.named(inbox.mine(self.uow(), self.clock, self.settings, actor, channel))

    def home(self, actor: str) -> Message:
        """App Home / personal tab: the actor's proposals and the approvals waiting on
        them, with the approval buttons."""
        return self.named(inbox.home(self.uow(), self.clock, self.settings, actor))

    def portfolio(self) -> Message:
        return self.named(portfolio.portfolio_message(self.uow(), self.clock, self.settings))

    def portfolio_data(self) -> dict[str, Any]:
        """Portfolio facts computed in SQL (`uow.facts.portfolio`)."""
        return portfolio.portfolio_data(self.uow(), self.clock, self.settings)

    def roles(self, viewer: str | None = None) -> Message:
        return self.named(roles.roles_message(self.uow(), self.settings, viewer))

    def set_role(self, actor: str, role: str, department: str, users: list[str]) -> Message:
        """Governance only (Refused otherwise). Replaces the holders of (role,
        department); an empty list clears it. Raises UsageError for a bad role,
        department or user."""
        return roles.set_role(
            self.uow(), self.clock, self.settings, actor, role, department, users, follow=reroute.reroute
        )

    def audit_lines(self, proposal_id: int) -> list[str]:
        """`govbot audit ID`: the full trail of a proposal, oldest first (NotFound)."""
        return export.audit_lines(self.uow(), proposal_id)

    def audit_pack(self, proposal_id: int, fmt: str) -> bytes:
        """`govbot audit-pack ID`: Markdown (UTF-8) or PDF bytes (NotFound, UsageError)."""
        return auditpack.build_audit_pack(self.uow(), self.clock, proposal_id, fmt)

    def export(self, fmt: str) -> str:
        """`govbot export`: the portfolio as CSV or JSON text."""
        return export.export(self.uow(), self.clock, fmt)

    # --- policy versions ------------------------------------------------------------
    def policy_info(self) -> policy_versions.ActiveInfo:
        """The policy in force: version, hash, where it comes from, who applied it when."""
        return policy_versions.active_info(self.uow(), self.policy, self.settings)

    def policy_text(self) -> str:
        """`govbot policy export`: the TOML of the policy in force, as written."""
        return policy_versions.active_text(self.uow(), self.settings)

    def policy_what_if(self, candidate: whatif.Candidate, *, workers: int | None = None) -> dict[str, Any]:
        """`govbot policy what-if`: the DESIGN.md report; writes nothing."""
        return whatif.what_if(self.uow(), self.policy.refresh(), candidate, workers=workers)

    def apply_policy(self, actor: str, candidate: whatif.Candidate) -> policy_versions.Applied:
        """`govbot policy apply` (governance; Refused otherwise): make `candidate` active,
        re-classify live proposals, ask newly needed roles, tell owners and requesters."""
        return policy_versions.apply_policy(self.uow(), self.clock, self.policy, self.settings, actor, candidate)

    def try_policy(self, actor: str, text: str) -> Message:
        """A candidate policy uploaded in chat (governance): its what-if summary with
        the `policy.apply` button; nothing is applied."""
        return policy_versions.try_candidate(self.uow(), self.clock, self.policy, self.settings, actor, text)

    def confirm_policy(self, actor: str, candidate_id: int) -> Message:
        """The `policy.apply` button: apply the kept candidate (governance; Refused otherwise)."""
        return policy_versions.confirm_candidate(
            self.uow(), self.clock, self.policy, self.settings, actor, candidate_id
        )

    # --- digest ---------------------------------------------------------------------
    def draft_digest(
        self,
        now: datetime | None = None,
        actor: str | None = None,
        *,
        period: tuple[datetime, datetime] | None = None,
    ) -> DigestRow:
        """Draft and store one digest for `period` (default: the 7 days up to `now`)."""
        return digest.draft_digest(self.uow(), self.clock, self.settings, self.drafter, now, actor, period=period)

    def post_digest(self, actor: str | None, digest_id: int | str) -> Message:
        """Queue the digest to its channels (governance, the CLI or the scheduler only)."""
        return digest.post_digest(self.uow(), self.clock, self.settings, actor, digest_id)

    def regenerate_digest(self, actor: str, digest_id: int | str) -> Message:
        """Governance only: draft the same period again and send it for review."""
        return digest.regenerate_digest(self.uow(), self.clock, self.settings, self.drafter, actor, digest_id)

    # --- scheduled work and delivery ------------------------------------------------
    def run_due(self, now: datetime, *, dry_run: bool = False) -> dict[str, Any]:
        """Run each job due at `now` once (`govbot run-jobs`); what each did, JSON-ready.
        With `dry_run` every job's work is rolled back (`"status": "would_run"`)."""
        return jobs.run_due(
            self.uow(),
            self.clock,
            self.settings,
            self.drafter,
            now,
            instance=self.instance,
            dry_run=dry_run,
            policy=self.policy,
        )

    async def run_jobs_loop(self, interval_s: float, stop: asyncio.Event) -> None:
        """Run due jobs every `interval_s` seconds until `stop` is set (`govbot serve`)."""
        await jobs.run_jobs_loop(
            self.uow(),
            self.clock,
            self.settings,
            self.drafter,
            interval_s,
            stop,
            instance=self.instance,
            policy=self.policy,
        )

    async def deliver_due(self, senders: Mapping[str, Sender | None]) -> int:
        """Hand due outbox rows to the channels' senders; returns how many were sent."""
        return await delivery.deliver_due(self.uow(), self.clock, senders)

    async def run_outbox_loop(self, senders: Mapping[str, Sender | None], interval: float, stop: asyncio.Event) -> None:
        """Deliver the outbox until `stop` is set (`govbot serve`)."""
        await delivery.run_outbox_loop(self.uow(), self.clock, senders, interval, stop)

    # --- people -------------------------------------------------------------------
    def remember_person(self, platform: str, user_id: str, name: object) -> bool:
        """A channel learnt `user_id`'s display name (Slack users.info, Teams from.name):
        keep it, cleaned of markup. True when it was new or changed."""
        with self.uow() as uow:
            changed = people.remember(uow, platform, user_id, name, self.clock.now())
            if changed:
                uow.commit()
        return changed

    def named(self, message: Message) -> Message:
        """`message` with people's display names next to their mentions (`<@ID|Name>`)."""
        ids = people.mentions_in(message)
        if not ids:
            return message
        with self.uow() as uow:
            return people.with_known_names(message, uow.people.names(ids))

    def resolve_user(self, token: str) -> str:
        """The user id a typed mention, id or known name means; UsageError otherwise."""
        with self.uow() as uow:
            return people.resolve_user(uow, token)

    def whoami(self, actor: str, channel: str | None = None) -> Message:
        """Who the actor is to govbot: name, user id (for GOVBOT_GOVERNANCE and the
        roles file) and the roles they hold."""
        return self.named(roles.whoami(self.uow(), self.settings, actor))

    # --- conversation references (Teams proactive messages) -------------------------
    def remember_conversation(
        self, platform: str, user_id: str, conversation_id: str, reference: dict[str, Any]
    ) -> bool:
        """Store where `user_id` (or a channel) last talked to the bot on `platform`.
        Nothing is written when the stored reference is the same; True when it was new
        or changed."""
        with self.uow() as uow:
            stored = uow.conversations.get(platform, user_id)
            if stored is not None and stored.conversation_id == conversation_id and stored.reference == reference:
                return False
            uow.conversations.upsert(
                ConversationRef(platform, user_id, conversation_id, dict(reference), self.clock.now())
            )
            uow.commit()
        return True

    def conversation_reference(self, platform: str, user_id: str) -> dict[str, Any] | None:
        """The reference `remember_conversation` stored for `user_id`, for a proactive
        message; None when they never talked to the bot there."""
        with self.uow() as uow:
            ref = uow.conversations.get(platform, user_id)
        return dict(ref.reference) if ref else None

    def outbox_for(self, recipient: str, *, limit: int = 50) -> list[OutboxRow]:
        """The newest `limit` outbox rows addressed to `recipient`, on every channel and
        delivered or not, newest first (the console reads its inbox from them)."""
        with self.uow() as uow:
            return uow.outbox.for_recipient(recipient, limit)
