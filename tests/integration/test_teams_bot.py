"""The Teams bot through botbuilder's TestAdapter, on the real core and store.

One test per typed command and per card action; every card the bot answers with is
validated against the Adaptive Card 1.5 schema.
"""

from __future__ import annotations

import base64

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount

from bot.domain import interview
from bot.messages.message import APPROVE, REJECT, REQUEST_CHANGES
from handlers.teams import cards
from handlers.teams.bot import GovbotTeamsBot
from tests.support.bot_connector import TeamsTurns, card_action, card_inputs, card_text, card_verbs, validate_card
from tests.support.proposals import high_billing

REQUESTER = "29:requester"
OWNER = "29:owner"
LEAD = "29:lead"
GOV = "UGOV"  # GOVBOT_GOVERNANCE of the settings fixture
STRANGER = "29:stranger"

PROPOSAL = high_billing(title="Refund assistant", owner=OWNER)


@pytest.fixture
def teams(core):
    core.set_role(GOV, "department_lead", "Support", [LEAD])
    return TeamsTurns(GovbotTeamsBot(core, core.settings))


def one_card(cards_: list[dict]) -> dict:
    assert len(cards_) == 1, cards_
    return validate_card(cards_[0])


def submitted(core) -> tuple[int, dict[str, int]]:
    """Submit PROPOSAL as the requester; returns (proposal id, {approver: request id})."""
    result = core.submit(REQUESTER, "teams", dict(PROPOSAL), idempotency_key="unit")
    with core.uow() as uow:
        routed = {uow.approvals.get(rid).approver: rid for rid in result.approval_request_ids}
    return result.proposal_id, routed


# --------------------------------------------------------------------------- commands


def test_help_lists_the_commands(teams):
    card = one_card(teams.say(REQUESTER, "help"))
    text = card_text(card)
    for command in ("propose", "mine", "status", "portfolio", "roles", "help"):
        assert command in text


def test_bot_mention_is_stripped_from_typed_commands(teams):
    card = one_card(
        teams.say(
            REQUESTER,
            "<at>govbot</at> help",
            entities=[
                {
                    "type": "mention",
                    "text": "<at>govbot</at>",
                    "mentioned": {"id": "28:govbot-test-bot", "name": "govbot"},
                }
            ],
        )
    )
    assert "Unknown command" not in card_text(card)
    assert "propose" in card_text(card)


def test_unknown_command_answers_with_help(teams):
    card = one_card(teams.say(REQUESTER, "frobnicate"))
    assert "frobnicate" in card_text(card) and "propose" in card_text(card)


def test_mine_lists_the_requesters_proposals(teams, core):
    pid, _ = submitted(core)
    card = one_card(teams.say(REQUESTER, "mine"))
    assert f"#{pid} Refund assistant" in card_text(card)


def test_status_shows_the_proposal_and_bad_ids_are_explained(teams, core):
    pid, _ = submitted(core)
    card = one_card(teams.say(REQUESTER, f"status {pid}"))
    assert "Refund assistant" in card_text(card) and "high" in card_text(card)
    missing = one_card(teams.say(REQUESTER, "status 999"))
    assert (
        card_text(missing) == "id: there is no proposal 999; see `mine` for yours\nType `/aiwf help` for every command."
    )
    bad = one_card(teams.say(REQUESTER, "status abc"))
    assert card_text(bad) == (
        "id: 'abc' is not a number; give the number shown as #N, e.g. `status 12`\nType `/aiwf help` for every command."
    )


def test_portfolio_and_roles(teams, core):
    submitted(core)
    portfolio = one_card(teams.say(GOV, "portfolio"))
    assert "1" in card_text(portfolio)
    (chart,) = [el for el in portfolio["body"] if el["type"] == "Image"]
    assert chart["url"].startswith("data:image/png;base64,")
    assert base64.b64decode(chart["url"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    roles = one_card(teams.say(GOV, "roles"))
    assert LEAD in card_text(roles)


def test_every_activity_stores_the_personal_conversation_reference(teams, core):
    teams.say(REQUESTER, "help")
    with core.uow() as uow:
        ref = uow.conversations.get("teams", REQUESTER)
    assert ref is not None and ref.conversation_id == f"a:personal-{REQUESTER}"
    assert ref.reference["serviceUrl"] == "https://smba.invalid/"
    assert ref.reference["user"]["id"] == REQUESTER and ref.reference["bot"]["id"] == "28:govbot-test-bot"


def test_channel_conversation_is_stored_under_its_own_id_not_as_the_users_address(teams, core):
    channel = ConversationAccount(id="19:channel@thread.tacv2", conversation_type="channel", is_group=True)
    teams.say(REQUESTER, "help", conversation=channel)
    with core.uow() as uow:
        assert uow.conversations.get("teams", REQUESTER) is None
        assert uow.conversations.get("teams", "19:channel@thread.tacv2") is not None


def test_installation_and_conversation_update_store_the_reference_and_welcome(teams, core):
    welcome = teams._run(user=OWNER, type="conversationUpdate", members_added=[ChannelAccount(id="28:govbot-test-bot")])
    card = one_card(TeamsTurns.cards_of(welcome))
    assert "propose" in card_text(card)
    teams._run(user=LEAD, type="installationUpdate", action="add")
    with core.uow() as uow:
        assert uow.conversations.get("teams", OWNER) is not None
        assert uow.conversations.get("teams", LEAD) is not None


# --------------------------------------------------------------------------- interview


def test_propose_opens_the_first_interview_page_seeded_from_the_text(teams, core):
    card = one_card(teams.say(REQUESTER, "propose Summarise support tickets"))
    inputs = card_inputs(card)
    assert set(inputs) == set(interview.first_page().keys())
    assert inputs["title"]["value"] == "Summarise support tickets"
    action = card_action(card, cards.INTERVIEW_NEXT)
    assert action["data"]["page"] == "basics" and action["data"]["key"]
    draft = core.load_draft("teams", REQUESTER)
    assert draft["answers"]["title"] == "Summarise support tickets"


def test_invalid_answers_come_back_on_the_same_card_with_everything_kept(teams, core):
    start = one_card(teams.say(REQUESTER, "propose"))
    data = dict(card_action(start, cards.INTERVIEW_NEXT)["data"])
    card = validate_card(
        teams.click(
            REQUESTER,
            cards.INTERVIEW_NEXT,
            {
                **data,
                "title": "T" * 130,
                "department": "Support",
                "capacity": "sometimes",
                "description": "Reads tickets and drafts replies",
            },
        )
    )
    inputs = card_inputs(card)
    assert "title" in inputs["title"]["errorMessage"] and "120" in inputs["title"]["errorMessage"]
    assert "capacity" in inputs["capacity"]["errorMessage"]
    assert inputs["title"]["value"] == "T" * 130
    assert inputs["department"]["value"] == "Support"
    assert inputs["description"]["value"] == "Reads tickets and drafts replies"
    assert card_action(card, cards.INTERVIEW_NEXT)["data"] == data
    with core.uow() as uow:
        assert uow.proposals.count() == 0


def _answer_pages(teams, user: str, first: dict, answers: dict) -> dict:
    """Click Next through every page with `answers` (as cards send them); returns the last card."""
    card = first
    for _ in range(10):
        action = card_action(card, cards.INTERVIEW_NEXT)
        fields = {key: _wire(answers.get(key)) for key in card_inputs(card)}
        card = validate_card(teams.click(user, cards.INTERVIEW_NEXT, {**action["data"], **fields}))
        if cards.INTERVIEW_NEXT not in card_verbs(card):
            return card
    raise AssertionError("the interview did not end")


def test_the_whole_interview_submits_once_and_queues_the_messages(teams, core):
    first = one_card(teams.say(REQUESTER, "propose"))
    done = _answer_pages(teams, REQUESTER, first, PROPOSAL)
    assert "Proposal #1 submitted" in card_text(done) and "high risk" in card_text(done)
    status = core.status_data(1)
    assert status["proposal"]["title"] == "Refund assistant"
    assert status["proposal"]["owner"] == OWNER
    assert sorted(status["proposal"]["answers"]["actions"]) == ["change_billing", "draft"]
    with core.uow() as uow:
        rows = uow.outbox.for_recipient(REQUESTER)
    assert [r.channel for r in rows] == ["teams"] and rows[0].ref_key == "classification:1"


def test_weak_answers_get_a_followup_page_before_submission(teams, core):
    first = one_card(teams.say(REQUESTER, "propose"))
    weak = {**PROPOSAL, "value_metric": "tbd", "rollback_path": ""}
    card = first
    for _ in range(6):
        action = card_action(card, cards.INTERVIEW_NEXT)
        if action["data"]["page"] == "followup":
            break
        fields = {k: _wire(weak.get(k)) for k in card_inputs(card)}
        card = validate_card(teams.click(REQUESTER, cards.INTERVIEW_NEXT, {**action["data"], **fields}))
    assert card_action(card, cards.INTERVIEW_NEXT)["data"]["page"] == "followup"
    assert sorted(card_inputs(card)) == ["rollback_path", "value_metric"]
    assert card_action(card, cards.INTERVIEW_NEXT)["title"] == "Submit proposal"


def _wire(value):
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def test_owner_me_means_the_requester(teams, core):
    first = one_card(teams.say(REQUESTER, "propose"))
    data = card_action(first, cards.INTERVIEW_NEXT)["data"]
    teams.click(REQUESTER, cards.INTERVIEW_NEXT, {**data, "title": "Ticket summaries", "owner": "me"})
    assert core.load_draft("teams", REQUESTER)["answers"]["owner"] == REQUESTER


def test_cancel_keeps_the_draft_and_propose_resumes_it(teams, core):
    first = one_card(teams.say(REQUESTER, "propose Weekly sales summary"))
    data = card_action(first, cards.INTERVIEW_NEXT)["data"]
    teams.click(REQUESTER, cards.INTERVIEW_NEXT, {**data, "title": "Weekly sales summary", "department": "Sales"})
    paused = validate_card(teams.click(REQUESTER, cards.INTERVIEW_CANCEL, data))
    assert "draft" in card_text(paused)
    again = one_card(teams.say(REQUESTER, "propose"))
    assert card_inputs(again)["department"]["value"] == "Sales"


def test_action_submit_fallback_updates_the_form_in_place(teams):
    first = one_card(teams.say(REQUESTER, "propose"))
    data = card_action(first, cards.INTERVIEW_NEXT)["data"]
    posted, updated = teams.submit(REQUESTER, cards.INTERVIEW_NEXT, {**data, "title": ""}, reply_to_id="card-1")
    assert posted == [] and len(updated) == 1
    card = validate_card(updated[0])
    assert "title" in card_inputs(card)["title"]["errorMessage"]


# --------------------------------------------------------------------------- approvals


def test_reject_and_request_changes_need_a_comment(teams, core):
    pid, routed = submitted(core)
    rid = routed[OWNER]
    for verb in (REJECT, REQUEST_CHANGES):
        card = validate_card(teams.click(OWNER, verb, {"request_id": rid, "comment": "  "}))
        assert "comment" in card_inputs(card)[cards.COMMENT_ID]["errorMessage"]
    with core.uow() as uow:
        assert uow.decisions.for_request(rid) is None


def test_wrong_user_is_refused_and_audited(teams, core):
    pid, routed = submitted(core)
    card = validate_card(teams.click(STRANGER, APPROVE, {"request_id": routed[OWNER]}))
    assert card_text(card).splitlines()[1] == (
        "Not recorded: this request is routed to 29:owner; only they, their delegate, or governance with a "
        "written reason may decide it."
    )
    with core.uow() as uow:
        assert uow.decisions.for_request(routed[OWNER]) is None
        actions = [e.action for e in uow.audit.for_proposal(pid) if e.actor == STRANGER]
    assert actions == ["decision.refused"]


def test_approve_updates_the_card_and_a_repeat_is_a_duplicate(teams, core):
    pid, routed = submitted(core)
    card = validate_card(teams.click(OWNER, APPROVE, {"request_id": routed[OWNER], "comment": "fine"}))
    assert "Approved by" in card_text(card) and OWNER in card_text(card)
    assert card_verbs(card) == []
    again = validate_card(teams.click(OWNER, APPROVE, {"request_id": routed[OWNER]}))
    assert "Already" in card_text(again)
    with core.uow() as uow:
        decisions = uow.decisions.for_proposal(pid)
    assert len(decisions) == 1 and decisions[0].decision == "approve"


def test_reject_with_a_comment_is_recorded(teams, core):
    pid, routed = submitted(core)
    card = validate_card(teams.click(LEAD, REJECT, {"request_id": routed[LEAD], "comment": "Too risky now"}))
    assert "Rejected by" in card_text(card)
    with core.uow() as uow:
        decision = uow.decisions.for_request(routed[LEAD])
    assert decision.decision == "reject" and decision.comment == "Too risky now"


def test_refresh_shows_buttons_to_the_approver_and_status_to_others(teams, core):
    _, routed = submitted(core)
    rid = routed[OWNER]
    mine = validate_card(teams.click(OWNER, cards.APPROVAL_REFRESH, {"request_id": rid}))
    assert card_verbs(mine) == [APPROVE, REJECT, REQUEST_CHANGES]
    assert OWNER in mine["refresh"]["userIds"] and GOV in mine["refresh"]["userIds"]
    other = validate_card(teams.click(STRANGER, cards.APPROVAL_REFRESH, {"request_id": rid}))
    assert card_verbs(other) == [] and cards.COMMENT_ID not in card_inputs(other)


def test_governance_deciding_for_an_approver_gets_an_override_reason_field(teams, core):
    _, routed = submitted(core)
    rid = routed[OWNER]
    view = validate_card(teams.click(GOV, cards.APPROVAL_REFRESH, {"request_id": rid}))
    assert card_verbs(view) == [APPROVE, REJECT, REQUEST_CHANGES]
    assert cards.OVERRIDE_ID in card_inputs(view)
    card = validate_card(teams.click(GOV, APPROVE, {"request_id": rid, cards.OVERRIDE_ID: "Owner on leave"}))
    assert "Approved by" in card_text(card)
    with core.uow() as uow:
        decision = uow.decisions.for_request(rid)
    assert decision.actor == GOV and decision.override_reason == "Owner on leave"


def test_bad_request_id_is_explained_on_the_card(teams):
    card = validate_card(teams.click(OWNER, APPROVE, {"request_id": "abc"}))
    assert "request_id" in card_text(card)


# --------------------------------------------------------------------------- digest


def test_digest_here_then_post_and_regenerate_from_the_review_card(teams, core):
    channel = ConversationAccount(id="19:gov@thread.tacv2;messageid=111", conversation_type="channel")
    here = one_card(teams.say(GOV, "digest here", conversation=channel))
    assert "19:gov@thread.tacv2" in card_text(here) and "messageid" not in card_text(here)
    draft = one_card(teams.say(GOV, "digest"))
    assert card_verbs(draft) == ["digest.post", "digest.regenerate"]
    data = card_action(draft, "digest.post")["data"]
    assert isinstance(data["digest_id"], int)
    refused = validate_card(teams.click(STRANGER, "digest.post", data))
    assert "governance" in card_text(refused)
    regenerated = validate_card(teams.click(GOV, "digest.regenerate", data))
    assert card_verbs(regenerated) == ["digest.post", "digest.regenerate"]
    posted = validate_card(teams.click(GOV, "digest.post", card_action(regenerated, "digest.post")["data"]))
    assert "teams:19:gov@thread.tacv2" in card_text(posted)
    with core.uow() as uow:
        rows = uow.outbox.for_recipient("19:gov@thread.tacv2")
    assert [r.channel for r in rows] == ["teams"]


def test_an_unexpected_failure_is_reported_on_the_card(teams, core, monkeypatch, caplog):
    _, routed = submitted(core)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(core, "decide", broken)
    card = validate_card(teams.click(OWNER, APPROVE, {"request_id": routed[OWNER]}))
    assert "failed on our side" in card_text(card)
    assert [(r.name, r.levelname, r.getMessage(), repr(r.exc_info[1])) for r in caplog.records] == [
        (
            "handlers.teams.actions",
            "ERROR",
            "Teams: card action 'approval.approve' by 29:owner failed",
            "RuntimeError('database went away')",
        )
    ]


# --------------------------------------------------------------------------- edit and check-ins


def test_request_changes_then_edit_and_resubmit_from_the_card(teams, core):
    pid, routed = submitted(core)
    card = validate_card(teams.click(OWNER, REQUEST_CHANGES, {"request_id": routed[OWNER], "comment": "Name a metric"}))
    assert "Changes requested" in card_text(card)
    with core.uow() as uow:
        notices = [r for r in uow.outbox.for_recipient(REQUESTER) if r.status == "pending"]
    edit_buttons = [b for r in notices for b in r.payload.get("buttons", ()) if b["action"] == "proposal.edit"]
    assert edit_buttons, "the requester is offered Edit and resubmit"
    form = validate_card(teams.click(REQUESTER, "proposal.edit", {"proposal_id": int(edit_buttons[0]["value"])}))
    assert card_inputs(form)["title"]["value"] == "Refund assistant"
    assert card_action(form, cards.INTERVIEW_NEXT)["data"]["proposal_id"] == pid
    stranger = validate_card(teams.click(STRANGER, "proposal.edit", {"proposal_id": pid}))
    assert "only the requester" in card_text(stranger).lower()
    done = _answer_pages(teams, REQUESTER, form, {**PROPOSAL, "title": "Refund assistant v2"})
    assert f"Proposal #{pid} submitted" in card_text(done)
    data = core.status_data(pid)
    assert data["proposal"]["title"] == "Refund assistant v2" and data["proposal"]["revision"] == 2


def test_checkin_card_asks_for_a_value_and_sends_it_to_the_core(teams, core):
    pid, _ = submitted(core)
    card = validate_card(teams.click(OWNER, "checkin.open", {"proposal_id": pid}))
    assert "value_input" in card_inputs(card)
    empty = validate_card(teams.click(OWNER, "checkin.submit", {"proposal_id": pid, "value_input": " "}))
    assert "value" in card_inputs(empty)["value_input"]["errorMessage"]
    answered = validate_card(teams.click(OWNER, "checkin.submit", {"proposal_id": pid, "value_input": "7 minutes"}))
    assert f"#{pid}" in card_text(answered)


def test_someone_elses_form_cannot_be_filled_in(teams, core):
    form = one_card(teams.say(REQUESTER, "propose Team wiki summaries"))
    data = card_action(form, cards.INTERVIEW_NEXT)["data"]
    card = validate_card(teams.click(STRANGER, cards.INTERVIEW_NEXT, {**data, "title": "Hijacked"}))
    assert "someone else" in card_text(card)
    assert core.load_draft("teams", STRANGER) is None
    assert core.load_draft("teams", REQUESTER)["answers"]["title"] == "Team wiki summaries"
