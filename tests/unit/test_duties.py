"""The pure rules of DESIGN.md "Gates": separation of duties, quorum, the autonomy ceiling."""

from __future__ import annotations

import pytest

from bot.domain import duties
from bot.domain.classifier import classify
from bot.domain.duties import Seat
from bot.domain.interview import followup_page
from bot.domain.policy import PolicyError
from bot.domain.policy_file import load_policy, parse_policy_text
from tests.support.duties import gates_text, quorum_text
from tests.support.proposals import high_billing, make_proposal

OWNER_SEAT = Seat(1, "owner", "proposal", governance=False)
LEAD_SEAT = Seat(2, "department_lead", "proposal", governance=False)
SECURITY_SEAT = Seat(3, "security", "proposal", governance=False)
GOVERNANCE_SEAT = Seat(4, "governance", "proposal", governance=True)
FALLBACK_SEAT = Seat(5, "finance", "proposal", governance=True)  # nobody (else) holds finance
STEP_SEAT = Seat(6, "department_lead", "autonomy", governance=False)


def refusal(actor, seat, decided=(), requester="U_REQ", owner="U_OWN"):
    return duties.refusal(actor, seat, requester=requester, owner=owner, decided=list(decided))


def test_the_requester_is_told_who_decides_instead():
    assert refusal("U_REQ", LEAD_SEAT) == "you requested this proposal, so another department lead decides"


def test_a_requester_who_owns_the_proposal_decides_the_owner_request():
    assert refusal("U_REQ", OWNER_SEAT, owner="U_REQ") is None


def test_a_requester_who_owns_the_proposal_decides_nothing_else():
    assert (
        refusal("U_REQ", LEAD_SEAT, owner="U_REQ") == "you requested this proposal, so another department lead decides"
    )


def test_a_requester_who_is_not_the_owner_may_not_decide_the_owner_request():
    assert refusal("U_REQ", OWNER_SEAT) == "you requested this proposal, so the workflow owner decides"


def test_the_owner_decides_only_the_owner_request():
    assert refusal("U_OWN", SECURITY_SEAT) == (
        "you own this proposal and decide its owner request; one person decides at most one, "
        "so another security approver decides"
    )


def test_governance_never_decides_its_own_proposal():
    assert refusal("U_REQ", GOVERNANCE_SEAT) == (
        "you requested this proposal and governance never decides its own proposal, "
        "so another governance member decides"
    )


def test_one_person_decides_at_most_one_request():
    assert refusal("U_BOTH", LEAD_SEAT, decided=[SECURITY_SEAT]) == (
        "you already decided the security request on this proposal and one person decides at most one, "
        "so another department lead decides"
    )


def test_a_holder_with_nothing_decided_may_decide():
    assert refusal("U_LEAD", LEAD_SEAT) is None


def test_nobody_approves_their_own_autonomy_step():
    assert duties.excluded("U_OWN", STEP_SEAT, requester="U_OWN", owner=None) == (
        "you asked for this autonomy step, so another department lead decides; nobody approves their own autonomy step"
    )


def test_the_owner_may_decide_a_step_someone_else_asked_for():
    assert duties.excluded("U_OWN", STEP_SEAT, requester="U_GOV", owner=None) is None


def test_what_went_to_governance_is_decided_together():
    pending = [OWNER_SEAT, LEAD_SEAT, GOVERNANCE_SEAT, FALLBACK_SEAT]
    assert duties.group(GOVERNANCE_SEAT, pending) == [GOVERNANCE_SEAT, FALLBACK_SEAT]


def test_a_request_held_by_its_role_is_decided_alone():
    assert duties.group(LEAD_SEAT, [OWNER_SEAT, LEAD_SEAT, GOVERNANCE_SEAT]) == [LEAD_SEAT]


def test_routing_skips_the_requester_and_the_owner_except_for_the_owner_request():
    assert duties.routing_excluded("finance", requester="U_REQ", owner="U_OWN") == {"U_REQ", "U_OWN"}
    assert duties.routing_excluded("owner", requester="U_REQ", owner="U_OWN") == frozenset()


def test_pick_takes_the_first_holder_not_excluded():
    assert duties.pick(["U_REQ", "U_A", "U_B"], {"U_REQ"}) == "U_A"
    assert duties.pick(["U_REQ"], {"U_REQ"}) is None


@pytest.mark.parametrize(("approvals", "quorum", "met"), [(1, 2, False), (2, 2, True), (1, 1, True), (0, 1, False)])
def test_quorum_needs_that_many_distinct_approvals(approvals, quorum, met):
    assert duties.quorum_met(approvals, quorum) is met


def test_quorum_line_reads_like_the_card():
    assert duties.quorum_line("governance", 1, 2) == "1 of 2 governance approvals"


# --------------------------------------------------------------------------- autonomy


def test_default_ceiling_by_risk_level():
    assert {lv: duties.ceiling_for(lv, duties.DEFAULT_AUTONOMY_CEILING) for lv in ("high", "medium", "low")} == {
        "high": "human_approves",
        "medium": "human_monitors",
        "low": "autonomous",
    }


def test_more_autonomy_than_the_ceiling_runs_capped():
    assert duties.capped("autonomous", "human_approves") == "human_approves"
    assert duties.capped("draft_only", "human_approves") == "draft_only"


def test_past_ceiling():
    assert duties.past_ceiling("human_monitors", "human_approves") is True
    assert duties.past_ceiling("human_approves", "human_approves") is False


@pytest.mark.parametrize(
    ("owner_asks", "risk", "past", "roles"),
    [
        (True, "medium", False, ["department_lead"]),
        (True, "high", False, ["department_lead", "governance"]),
        (True, "low", True, ["department_lead", "governance"]),
        (False, "low", False, ["owner", "department_lead"]),
    ],
)
def test_who_approves_an_autonomy_step(owner_asks, risk, past, roles):
    assert duties.autonomy_step_roles(asker_is_owner=owner_asks, risk_level=risk, past=past) == roles


def test_every_output_reviewed_contradicts_acting_alone():
    assert duties.review_contradicts_autonomy("every_output", "human_monitors") is True
    assert duties.review_contradicts_autonomy("every_output", "human_approves") is False
    assert duties.review_contradicts_autonomy("spot_check", "autonomous") is False


def test_the_interview_asks_which_of_two_contradicting_answers_holds():
    answers = make_proposal(review="every_output", autonomy="autonomous")
    page = followup_page(answers)
    asked = {q.key: q.prompt for q in page.questions}
    assert asked["autonomy"].endswith(
        'You said "a person checks every output" and also "Fully autonomous": both cannot hold. '
        "Which is it? Change the review or the autonomy answer."
    )


def test_the_interview_asks_nothing_when_review_and_autonomy_agree():
    assert followup_page(make_proposal(review="every_output", autonomy="human_approves")) is None


# --------------------------------------------------------------------------- the policy


def test_a_quorum_on_an_approver_rule_reaches_the_verdict():
    policy = parse_policy_text(quorum_text(2))
    assert classify(high_billing(), policy)["approver_quorum"] == {"governance": 2}


def test_the_default_policy_adds_no_quorum_to_the_verdict():
    assert "approver_quorum" not in classify(high_billing(), load_policy())


@pytest.mark.parametrize("bad", ["0", '"2"'])
def test_policy_check_names_a_bad_quorum(bad):
    with pytest.raises(PolicyError) as err:
        parse_policy_text(quorum_text(bad))
    assert err.value.problems == ["approvers[10].quorum: must be a whole number of approvals from 1 to 50"]


def test_policy_check_names_a_bad_ceiling():
    with pytest.raises(PolicyError) as err:
        parse_policy_text(gates_text('high = "hands_off"'))
    assert err.value.problems == [
        "gates.autonomy_ceiling.high: must be one of draft_only, human_approves, human_monitors, autonomous"
    ]


def test_the_rollout_plan_shows_the_ceiling_and_the_cap():
    policy = parse_policy_text(gates_text('medium = "human_approves"'))
    plan = classify(make_proposal(audience="team", autonomy="autonomous"), policy)["rollout"]
    assert plan["approval_checkpoint"].endswith(
        " Autonomy ceiling at medium risk: human_approves. Asked for autonomous; it runs capped at "
        "human_approves, and a step past the ceiling needs governance."
    )
