"""Events, then messages: the one place that turns approval events into outbox messages.

A use case changes state, collects the events of `bot.domain.events` and calls
`publish` in the same unit of work, after the change and before it commits. Each
approval card is composed here once, from the event, and every copy of it is updated
once: the copy a channel replaces itself (the message that was clicked, `in_place`)
is left to that channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.events import (
    AutonomyChanged,
    AutonomyDeclined,
    Decided,
    Event,
    IncidentReported,
    IncidentResolved,
    QuorumCounted,
    RequestReleased,
    RequestRevised,
    RequestSuperseded,
    StageChanged,
)
from bot.domain.records import ApprovalRequestRow, ProposalRow
from bot.messages import compose
from bot.messages.message import Message, user_text
from bot.ports import UnitOfWork
from bot.service.notify import (
    MessageRef,
    card_key,
    queue_request,
    send,
    similar_on_card,
    tell_requester,
    update_card,
)
from bot.service.roles import governance_members
from bot.service.rounds import show
from bot.settings import Settings

ON_BEHALF = ("delegate", "governance", "governance_peer")  # decided by someone other than a holder


def publish(
    uow: UnitOfWork,
    settings: Settings,
    proposal: ProposalRow,
    events: Iterable[Event],
    now: datetime,
    *,
    in_place: MessageRef | None = None,
    classification: dict[str, Any] | None = None,
) -> dict[int, Message]:
    """Queue what `events` (all about `proposal`) tell people, in `uow` (the caller
    commits). `classification` is the proposal's latest result when the caller has it
    at hand. Returns the approval cards composed, by request id."""
    return _Publisher(uow, settings, proposal, now, in_place, classification).run(events)


class _Publisher:
    def __init__(
        self,
        uow: UnitOfWork,
        settings: Settings,
        proposal: ProposalRow,
        now: datetime,
        in_place: MessageRef | None,
        classification: dict[str, Any] | None,
    ):
        self.uow = uow
        self.settings = settings
        self.proposal = proposal
        self.now = now
        self.in_place = in_place
        self._classification = classification
        self.cards: dict[int, Message] = {}
        self.told_by_stage: set[int] = set()

    def run(self, events: Iterable[Event]) -> dict[int, Message]:
        events = list(events)
        # a decision that sent the proposal back (rejected, changes requested) is told to
        # the requester once, by the stage change with its comment and Edit button
        self.told_by_stage = {
            e.request_id
            for e in events
            if isinstance(e, StageChanged)
            and e.before == "in_review"
            and e.after in ("rejected", "changes_requested")
            and e.request_id is not None
        }
        for event in events:
            match event:
                case Decided():
                    self.decided(event)
                case QuorumCounted():
                    card = compose.approval_request_card(
                        self.proposal,
                        event.request,
                        self.classification(),
                        similar=similar_on_card(self.uow, self.proposal.id),
                        approvals=event.approvals,
                    )
                    self.cards[event.request.id] = card
                    update_card(
                        self.uow,
                        self.settings,
                        self.proposal,
                        event.request,
                        card,
                        self.now,
                        f"quorum{event.approvals}",
                        in_place=self.in_place,
                    )
                case StageChanged():
                    self.stage_changed(event)
                case RequestReleased():
                    self.cards[event.request.id] = queue_request(
                        self.uow, self.settings, self.proposal, event.request, self.classification(), self.now
                    )
                case RequestRevised():
                    similar = similar_on_card(self.uow, self.proposal.id)
                    changes = show(self.uow, self.proposal, event.request)  # since the revision they saw
                    card = compose.approval_request_card(
                        self.proposal, event.request, self.classification(), similar=similar, changes=changes
                    )
                    self.update(event.request, card, f"rev{event.revision}")
                case RequestSuperseded():
                    if event.was_pending:
                        card = compose.closed_card(self.proposal, event.request, event.why)
                        self.update(event.request, card, "closed")
                case AutonomyChanged() | AutonomyDeclined():
                    self.autonomy(event)
                case IncidentReported():
                    self.incident_reported(event)
                case IncidentResolved():
                    self.incident_resolved(event)
        return self.cards

    # ------------------------------------------------------------------ helpers
    def classification(self) -> dict[str, Any]:
        if self._classification is None:
            found = self.uow.classifications.latest(self.proposal.id)
            self._classification = found.result if found else {}
        return self._classification

    def update(self, request: ApprovalRequestRow, card: Message, tag: str) -> None:
        self.cards[request.id] = card
        update_card(self.uow, self.settings, self.proposal, request, card, self.now, tag)

    def tell(self, kind: str, text: str, dedupe_key: str, detail: str = "", **extra: Any) -> None:
        notice = compose.notice(kind, text, self.proposal.id, detail=detail, **extra)
        tell_requester(self.uow, self.settings, self.proposal, notice, self.now, dedupe_key)

    def send(self, user: str, message: Message, dedupe_key: str, thread_key: str | None = None) -> None:
        send(
            self.uow,
            self.settings,
            self.proposal,
            user,
            message,
            self.now,
            thread_key=thread_key,
            dedupe_key=dedupe_key,
        )

    # ------------------------------------------------------------------ events
    def decided(self, event: Decided) -> None:
        """The card loses its buttons everywhere; the requester hears the decision, and
        so does the routed approver when someone decided in their place."""
        p, request, row = self.proposal, event.request, event.decision
        card = compose.decided_card(p, request, row, self.settings.timezone)
        self.cards[request.id] = card
        update_card(self.uow, self.settings, p, request, card, self.now, "decided", in_place=self.in_place)
        line = compose.decided_line(row, self.settings.timezone)
        what = (
            f"on the autonomy step to {request.target}"
            if request.kind == "autonomy"
            else f"as {compose.ROLE_LABEL.get(request.role, request.role)}"
        )
        if request.id not in self.told_by_stage:
            self.tell(
                "decision_notice",
                f"{line} {what} — #{p.id} {user_text(p.title)}",
                f"decision:{row.id}:requester",
                user_text(row.comment),
            )
        if event.via in ON_BEHALF:
            whose = row.on_behalf_of or request.approver
            by = "your delegate" if event.via == "delegate" else "governance"
            notice = compose.notice(
                "decision_on_your_behalf",
                f"{line} on your behalf ({by}) — #{p.id} {user_text(p.title)}",
                p.id,
                detail=user_text(row.override_reason or row.comment),
            )
            self.send(whose, notice, f"decision:{row.id}:approver", thread_key=card_key(request, whose))

    def stage_changed(self, event: StageChanged) -> None:
        """What a decision did to the proposal, told to the requester (and to whoever
        must act next). Moves that no decision caused tell nobody here."""
        p = self.proposal
        if event.before != "in_review":
            return
        who = compose.mention(event.actor)
        if event.after == "rejected" and event.request_id is not None:
            text = f"#{p.id} {user_text(p.title)} was rejected by {who}."
            self.tell("proposal_rejected", text, f"rejected:{p.id}:{event.request_id}", user_text(event.comment))
        elif event.after == "changes_requested" and event.request_id is not None:
            text = f"{who} asks for changes to #{p.id} {user_text(p.title)}. Edit and resubmit it."
            self.tell(
                "changes_requested",
                text,
                f"changes:{p.id}:{event.request_id}",
                user_text(event.comment),
                buttons=(compose.edit_button(p.id),),
            )
        elif event.after == "pilot":
            text = f"All approvals are in: #{p.id} {user_text(p.title)} moves to pilot."
            self.tell("stage_pilot", text, f"stage:{p.id}:pilot:{p.revision}")
            if p.owner and p.owner != p.requester:
                notice = compose.notice("stage_pilot", text, p.id)
                self.send(p.owner, notice, f"stage:{p.id}:pilot:{p.revision}:owner")
        elif event.after == "approved":
            blocking = list(event.blocking)
            detail = "\n".join(compose.stop_label(c) for c in blocking)
            text = (
                f"All approvals are in for #{p.id} {user_text(p.title)}, but stop conditions block pilot: "
                f"{', '.join(blocking)}. Resolve them and resubmit, or governance may override each with a written "
                f"reason: `override {p.id} <code> <reason>`."
            )
            self.tell("stage_approved_blocked", text, f"stage:{p.id}:approved:{p.revision}", detail)
            for member in governance_members(self.uow, self.settings):
                notice = compose.notice("stage_approved_blocked", text, p.id, detail=detail)
                self.send(member, notice, f"stage:{p.id}:approved:{p.revision}:{member}")

    def autonomy(self, event: AutonomyChanged | AutonomyDeclined) -> None:
        """The owner and the requester hear how an autonomy step ended."""
        p, request = self.proposal, event.request
        if isinstance(event, AutonomyDeclined):
            decision = event.decision
            text = (
                f"The autonomy step to {request.target} for #{p.id} {user_text(p.title)} was declined by "
                f"{compose.mention(event.actor)}."
            )
        else:
            decision = "approve"
            text = (
                f"#{p.id} {user_text(p.title)} now runs at autonomy level {request.target} (was {event.before or '-'})."
            )
        for user in dict.fromkeys(u for u in (p.owner, p.requester) if u):
            self.send(user, compose.notice("autonomy_result", text, p.id), f"autonomy:{request.id}:{decision}:{user}")

    def incident_reported(self, event: IncidentReported) -> None:
        """The owner hears of every incident; governance too when it is high (a high one
        on a running workflow has paused it). The reporter has their answer already."""
        p, i = self.proposal, event.incident
        text = (
            f"{i.severity.capitalize()} incident {i.id} reported on #{p.id} {user_text(p.title)} by "
            f"{compose.mention(event.actor)}."
        )
        if event.paused_from:
            text += (
                f" govbot paused it (it was in {event.paused_from}). Once the cause is dealt with: "
                f"`resolve {i.id} <what was done>`, then `resume {p.id}`."
            )
        else:
            text += f" Once dealt with: `resolve {i.id} <what was done>`."
        people = [p.owner] + (governance_members(self.uow, self.settings) if i.severity == "high" else [])
        for user in dict.fromkeys(u for u in people if u and u != event.actor):
            notice = compose.notice("incident_reported", text, p.id, detail=user_text(i.text))
            self.send(user, notice, f"incident:{i.id}:reported:{user}")

    def incident_resolved(self, event: IncidentResolved) -> None:
        """The reporter and the owner hear that an incident was resolved, and what was done."""
        p, i = self.proposal, event.incident
        text = f"Incident {i.id} on #{p.id} {user_text(p.title)} was resolved by {compose.mention(event.actor)}."
        if event.still_open:
            text += " Still open: " + ", ".join(f"incident {n}" for n in event.still_open) + "."
        elif p.stage == "paused":
            text += f" No incident is open any more: the owner or governance may `resume {p.id}`."
        for user in dict.fromkeys(u for u in (i.reported_by, p.owner) if u and u != event.actor):
            notice = compose.notice("incident_resolved", text, p.id, detail=user_text(i.resolution))
            self.send(user, notice, f"incident:{i.id}:resolved:{user}")
