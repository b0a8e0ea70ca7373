"""The service facade every channel drives (Slack, Teams, console, CLI).

Handlers only translate: a payload becomes one of these calls, and the returned
neutral `Message` is rendered for the platform. Every state change happens in one
unit of work together with its audit event and its outbox messages.

CONTRACT (written first so the channel work can proceed in parallel): the names,
parameters and result types below are what handlers call.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.domain import approval_rules
from bot.domain.errors import NotFound, Refused, UsageError
from bot.domain.interview import InterviewFlow
from bot.domain.records import ConversationRef, InterviewDraft, ProposalRow
from bot.domain.roles import validate_role
from bot.messages import compose
from bot.messages.message import Message
from bot.service import decisions, people, roles
from bot.service.results import DecisionForm, DecisionOutcome, InterviewStart, Reply, Submitted
from bot.service.roles import directory, governance_members, holders, is_governance

logger = logging.getLogger(__name__)


class Govbot:
    """The core, wired with its ports by `bot.app.build_core`.

    `uow` makes a new unit of work; `clock` gives the time; `policy` is the loaded
    classification policy; `settings` is `bot.settings.Settings`.
    """

    def __init__(self, uow: Any, clock: Any, policy: Any, settings: Any, instance: str = "local"):
        self.uow = uow
        self.clock = clock
        self.policy = policy
        self.settings = settings
        self.instance = instance
        self.drafter: Any = None  # bot.ports.Drafter for the digest; set by bot.app.build_drafter

    def bootstrap(self) -> None:
        """Seed the role directory from GOVBOT_GOVERNANCE and the roles file (raises
        bot.roles.RolesFileError naming a bad entry)."""
        from bot.service.roles import bootstrap

        with self.uow() as uow:
            if bootstrap(uow, self.settings.governance_ids(), self.settings.roles_file, self.clock.now()):
                uow.commit()

    # --- chat commands (Slack `/aiwf ...`, Teams typed text, console) -------------
    def handle_command(self, actor: str, channel: str, text: str, conversation_id: str | None = None) -> Reply:
        """Parse and run `propose [desc]`, `mine`, `status <id>`, `portfolio`, `roles
        [set <role> [department] <user>...]`, `digest [here]`, `help`, and the lifecycle
        commands (`pause|resume|retire|promote <id>`, `override <id> <code> <reason>`,
        `delegate <user> <until>`, `checkin <id> <value>`, `autonomy <id>`). An unknown
        subcommand answers with help. Raises nothing: usage errors and refusals come
        back as a Reply whose message says what is wrong. `conversation_id` is the
        Slack channel / Teams conversation the command was typed in (`digest here`)."""
        from bot.service.chat import run_command

        return run_command(self, actor, channel, text, conversation_id)

    def help(self, channel: str | None = None) -> Message:
        """Every command with one line; Slack shows the slash command, other channels
        (commands typed to the bot) show the bare commands."""
        command = getattr(self.settings, "slack_command", "/aiwf") if channel in (None, "slack") else ""
        return compose.help_message(command)

    # --- interview ------------------------------------------------------------------
    def interview_flow(self) -> InterviewFlow:
        """The interview stepper under the policy the classifier uses (GOVBOT_POLICY_FILE
        when set), which decides when the regulatory questions are asked. Channels
        walk the pages with it and never choose pages themselves."""
        return InterviewFlow(self.policy)

    def load_draft(self, channel: str, actor: str) -> dict[str, Any] | None:
        """The unfinished interview: {"answers", "step", "proposal_id", "updated_at"}."""
        with self.uow() as uow:
            draft = uow.drafts.get(channel, actor)
        if draft is None:
            return None
        return {
            "answers": dict(draft.answers or {}),
            "step": draft.step,
            "proposal_id": draft.proposal_id,
            "updated_at": draft.updated_at.isoformat(),
        }

    def save_draft(
        self, channel: str, actor: str, answers: dict[str, Any], step: str | None, proposal_id: int | None = None
    ) -> None:
        with self.uow() as uow:
            uow.drafts.put(InterviewDraft(channel, actor, dict(answers), step, proposal_id, self.clock.now()))
            uow.commit()

    def discard_draft(self, channel: str, actor: str) -> None:
        with self.uow() as uow:
            uow.drafts.delete(channel, actor)
            uow.commit()

    def edit_seed(self, actor: str, proposal_id: int) -> InterviewStart:
        """Answers of the latest revision, for reopening the interview prefilled after
        "changes requested". Only the requester (or owner) may edit; else Refused."""
        with self.uow() as uow:
            row = self._proposal(uow, proposal_id)
        problem = self._edit_problem(actor, row)
        if problem:
            raise self._refuse(actor, row.id, "proposal.edit_refused", problem)
        return InterviewStart(seed=dict(row.answers), proposal_id=row.id, resumed=False)

    @staticmethod
    def _edit_problem(actor: str, row: ProposalRow) -> str | None:
        if actor not in (row.requester, row.owner):
            return f"only the requester ({compose.mention(row.requester)}) or the owner may edit #{row.id}"
        if row.stage != "changes_requested":
            return f"#{row.id} is {row.stage}; a proposal can be edited only after changes were requested"
        return None

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
        from bot.service.submit import submit

        return submit(self, actor, channel, answers, proposal_id, idempotency_key)

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
            self.uow,
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

    def request_on(self, actor: str, proposal_id: int, decision: str, override_reason: str | None = None) -> int:
        """The request a decision typed as `#<proposal id>` means: the one pending request
        on it that waits on `actor`. Raises UsageError listing the request ids otherwise."""
        from bot.service.chat import request_on

        return request_on(self, actor, proposal_id, decision, override_reason)

    def decision_form(self, actor: str, request_id: int, decision: str) -> DecisionForm:
        """Before a channel asks for input: whether `actor` is refused outright, and
        whether the decision needs a comment or a written governance reason."""
        return decisions.decision_form(self.uow, self.clock, self.settings, actor, request_id, decision)

    def card_not_replaced(self, request_id: int, in_place: dict[str, Any]) -> bool:
        """The channel could not replace the clicked message after `decide(...,
        in_place=...)`: the outbox updates that copy after all."""
        return decisions.requeue_card(self.uow, self.clock, self.settings, request_id, in_place)

    def approval_card(self, request_id: int, viewer: str | None = None) -> Message:
        """The approval message as `viewer` should see it: buttons only while pending
        and only for someone who may decide (Teams `refresh`)."""
        with self.uow() as uow:
            request = self._request(uow, request_id)
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
            users.extend(governance_members(uow, self.settings))
        return [u for u in dict.fromkeys(users) if u]

    # --- views ----------------------------------------------------------------------
    def status(self, proposal_id: int) -> Message:
        return self.named(compose.status_message(self.status_data(proposal_id), self.settings.timezone))

    def status_data(self, proposal_id: int) -> dict[str, Any]:
        """`govbot status ID --json`: proposal, classification, stop conditions,
        approvals, decisions, check-ins, audit trail, undelivered outbox rows.
        Raises NotFound for an unknown id."""
        from bot.service.queries import status_data

        return status_data(self, proposal_id)

    def mine(self, actor: str, channel: str | None = None) -> Message:
        """`mine`: the actor's proposals, their unfinished interview in `channel` (and how
        to resume it), and the requests waiting on them with their ids."""
        with self.uow() as uow:
            proposals = self._own_proposals(uow, actor)
            pending = self._waiting_on(uow, actor)
            draft = uow.drafts.get(channel, actor) if channel else None
        return compose.mine_message(actor, proposals, pending, draft)

    def home(self, actor: str) -> Message:
        """App Home / personal tab: the actor's proposals and the approvals waiting on
        them, with the approval buttons."""
        with self.uow() as uow:
            proposals = self._own_proposals(uow, actor)
            now = self.clock.now()
            cards = [decisions.card_for(uow, self.settings, now, p, r, actor) for r, p in self._waiting_on(uow, actor)]
            return people.named(uow, compose.home_message(actor, proposals, cards))

    def _own_proposals(self, uow: Any, actor: str) -> list[ProposalRow]:
        seen: dict[int, ProposalRow] = {}
        for p in list(uow.proposals.by_requester(actor)) + list(uow.proposals.by_owner(actor)):
            seen.setdefault(p.id, p)
        return sorted(seen.values(), key=lambda p: p.id, reverse=True)

    def _waiting_on(self, uow: Any, actor: str) -> list[tuple[Any, ProposalRow]]:
        """Pending requests the actor can decide now: routed to them, to a role they
        hold (any holder may decide), or to someone who delegated to them."""
        now = self.clock.now()
        users = [actor, *uow.delegations.delegators_of(actor, now)]
        out = []
        seen: set[int] = set()
        memo: dict[tuple[Any, ...], list[str]] = {}

        def holds(r: Any, user: str) -> bool:  # one directory look-up per route
            key = (approval_rules.routed_to_governance(r), r.role, (r.department or "").casefold(), r.approver)
            if key not in memo:
                memo[key] = roles.request_holders(uow, self.settings, r)
            return user in memo[key]

        for user in dict.fromkeys(users):
            held = sorted({a.role for a in uow.roles.roles_of(user)})
            governance = user in governance_members(uow, self.settings)
            if governance:
                held = sorted({*held, "governance"})
            # a governance member also sees what fell back to governance because nobody held the role
            pending = uow.approvals.pending_in_roles(held, governance_fallback=governance)
            candidates = list(uow.approvals.pending_for(user)) + list(pending)
            for r in sorted(candidates, key=lambda r: r.id):
                if r.id in seen or r.status != "pending":
                    continue
                if r.approver != user and not holds(r, user):
                    continue
                if user != actor and user not in approval_rules.delegating(r, [user]):
                    continue
                p = uow.proposals.get(r.proposal_id)
                if decisions.not_decidable(uow, p, r) is None:
                    seen.add(r.id)
                    out.append((r, p))
        return out

    def portfolio(self) -> Message:
        from bot.messages.portfolio import render_portfolio

        return self.named(render_portfolio(self.portfolio_data()))

    def portfolio_data(self) -> dict[str, Any]:
        """Portfolio facts computed in SQL (`uow.facts.portfolio`)."""
        config = self.portfolio_config()
        with self.uow() as uow:
            return uow.facts.portfolio(self.clock.now(), config)

    def portfolio_config(self) -> dict[str, Any]:
        from bot.domain.portfolio import portfolio_config

        return portfolio_config(self.settings)

    def roles(self, viewer: str | None = None) -> Message:
        with self.uow() as uow:
            entries = directory(uow)
            can_edit = viewer is None or is_governance(uow, viewer, self.settings)
            return people.named(uow, compose.roles_message(entries, can_edit))

    def set_role(self, actor: str, role: str, department: str, users: list[str]) -> Message:
        """Governance only (Refused otherwise). Replaces the holders of (role,
        department); an empty list clears it. Raises UsageError for a bad role,
        department or user."""
        try:
            role, department = validate_role(role, department)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        now = self.clock.now()
        with self.uow() as uow:
            clean = people.resolve_users(uow, users)
            if not is_governance(uow, actor, self.settings):
                refused = "only governance may change the role directory"
            elif role == "governance" and not clean:
                refused = "the governance role cannot be left empty; name at least one member"
            else:
                refused = None
                before = holders(uow, role, department) if department else list(uow.roles.holders(role, ""))
                uow.roles.set(role, department, clean, actor, now)
                uow.audit.add(
                    None,
                    actor,
                    "roles.set",
                    {"role": role, "department": department, "before": before, "after": clean},
                    now,
                )
                uow.commit()
        if refused:
            raise self._refuse(actor, None, "roles.refused", refused, role=role, department=department)
        where = f" for {department}" if department else ""
        who = ", ".join(compose.mention(u) for u in clean) or "nobody (routed to governance)"
        return compose.notice("roles_set", f"{role}{where} is now held by {who}.")

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
        with self.uow() as uow:
            held = sorted({a.role + (f" ({a.department})" if a.department else "") for a in uow.roles.roles_of(actor)})
            if actor in governance_members(uow, self.settings) and "governance" not in held:
                held.append("governance")
        return compose.whoami_message(actor, held)

    # --- conversation references (Teams proactive messages) -------------------------
    def remember_conversation(
        self, platform: str, user_id: str, conversation_id: str, reference: dict[str, Any]
    ) -> None:
        with self.uow() as uow:
            uow.conversations.upsert(
                ConversationRef(platform, user_id, conversation_id, dict(reference), self.clock.now())
            )
            uow.commit()

    # --- helpers --------------------------------------------------------------------
    @staticmethod
    def _proposal(uow: Any, proposal_id: int, *, for_update: bool = False) -> ProposalRow:
        try:
            return uow.proposals.get(proposal_id, for_update=for_update)
        except NotFound:
            raise UsageError(f"id: there is no proposal {proposal_id}; see `mine` for yours") from None

    @staticmethod
    def _request(uow: Any, request_id: int) -> Any:
        try:
            return uow.approvals.get(request_id)
        except NotFound:
            raise UsageError(f"request id: there is no approval request {request_id}") from None

    def _refuse(self, actor: str, proposal_id: int | None, action: str, message: str, **detail: Any) -> Refused:
        """Audit a refused attempt in its own unit of work; return the exception."""
        with self.uow() as uow:
            refused = self._refuse_in(uow, actor, proposal_id, action, message, self.clock.now(), **detail)
            uow.commit()
        return refused

    def _refuse_in(
        self, uow: Any, actor: str, proposal_id: int | None, action: str, message: str, now: Any, **detail: Any
    ) -> Refused:
        """Audit a refused attempt inside `uow` (the caller commits); return the exception."""
        uow.audit.add(proposal_id, actor, action, {"reason": message, **detail}, now)
        logger.info("%s for %s on %s", action, actor, proposal_id)
        return Refused(message[:1].upper() + message[1:] + ".")
