"""Near-duplicates across departments at submission, in status, on cards and in the portfolio."""

from __future__ import annotations

from bot.messages.message import Message
from tests.support.core_state import outbox_for, requests_by_role
from tests.support.proposals import make_proposal as proposal

SALES = proposal(
    title="Call recap generator",
    department="Sales",
    description="After each sales call the AI reads the transcript and writes a short recap with next steps.",
    owner="U_SALES",
)
SUCCESS = proposal(
    title="Customer conversation summaries",
    department="Customer Success",
    description="Summarise recorded customer calls into a few bullet points and a list of follow-up tasks.",
    owner="U_CS",
)
UNRELATED = proposal(
    title="Shift rota planner",
    department="Operations",
    description="Plans next month's shift rota from staff availability and skills.",
    owner="U_OPS",
)


def test_a_paraphrase_in_another_department_shows_in_status_json_both_ways(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    second = core.submit("U_B", "slack", SUCCESS).proposal_id
    [found] = core.status_data(second)["similar"]
    assert (found["id"], found["title"], found["department"]) == (first, "Call recap generator", "Sales")
    assert [x["id"] for x in core.status_data(first)["similar"]] == [second]


def test_status_similar_has_exactly_the_keys_of_the_design(core):
    core.submit("U_A", "slack", SALES)
    second = core.submit("U_B", "slack", SUCCESS).proposal_id
    assert set(core.status_data(second)["similar"][0]) == {"id", "title", "department", "score"}


def test_the_same_department_is_not_sprawl(core):
    core.submit("U_A", "slack", SALES)
    second = core.submit("U_B", "slack", {**SUCCESS, "department": "sales"}).proposal_id
    assert core.status_data(second)["similar"] == []


def test_an_unrelated_workflow_finds_nothing(core):
    core.submit("U_A", "slack", SALES)
    other = core.submit("U_B", "slack", UNRELATED).proposal_id
    assert core.status_data(other)["similar"] == []


def test_the_requester_is_told_whom_to_talk_to_in_the_classification_message(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    core.submit("U_B", "slack", SUCCESS)
    [row] = [r for r in outbox_for(core, "U_B") if r.kind == "classification"]
    text = Message.from_json(row.payload).plain_text()
    assert f"#{first} Call recap generator (Sales, in_review; owner <@U_SALES>;" in text
    assert "Talk to their owners" in text


def test_every_approval_card_names_the_similar_workflow(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    core.submit("U_B", "slack", SUCCESS)
    [card] = [r for r in outbox_for(core, "U_CS") if r.kind == "approval_request"]
    text = Message.from_json(card.payload).plain_text()
    assert f"#{first} Call recap generator" in text and "Check the overlap" in text


def test_a_rejected_proposal_is_no_longer_a_near_duplicate(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    second = core.submit("U_B", "slack", SUCCESS).proposal_id
    [owner_request] = [requests_by_role(core, first)["owner"]]
    core.decide("U_SALES", owner_request.id, "reject", comment="not now")
    assert core.status_data(second)["similar"] == []


def test_the_portfolio_groups_near_duplicates_into_one_cluster_with_a_reason(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    second = core.submit("U_B", "slack", SUCCESS).proposal_id
    core.submit("U_C", "slack", UNRELATED)
    sprawl = core.portfolio_data()["sprawl"]
    [group] = sprawl["groups"]
    assert sorted(p["id"] for p in group["proposals"]) == [first, second]
    assert (group["departments"], group["count"], sprawl["groups_total"]) == (["Customer Success", "Sales"], 2, 1)
    assert group["reason"].startswith("both are about ")


def test_a_resubmission_that_changes_the_text_drops_the_old_pair(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    second = core.submit("U_B", "slack", SUCCESS).proposal_id
    request = requests_by_role(core, second)["owner"]
    core.decide("U_CS", request.id, "request_changes", comment="say what else")
    core.submit("U_B", "slack", {**UNRELATED, "department": "Customer Success"}, proposal_id=second)
    assert core.status_data(first)["similar"] == []


def test_the_digest_names_a_new_proposal_that_duplicates_a_running_one(core, clock):
    from datetime import timedelta

    first = core.submit("U_A", "slack", SALES).proposal_id
    with core.uow() as uow:  # the first one went live a while ago
        row = uow.proposals.get(first)
        row.stage = "pilot"
        uow.proposals.update(row)
        uow.commit()
    second = core.submit("U_B", "slack", SUCCESS).proposal_id
    with core.uow() as uow:
        facts = uow.facts.digest(clock.now() - timedelta(days=7), clock.now() + timedelta(hours=1), clock.now(), {})
    [item] = facts["duplicates"]["items"]
    assert (item["id"], item["duplicates"]["id"], item["duplicates"]["stage"]) == (second, first, "pilot")


def test_the_template_digest_says_which_new_proposal_duplicates_running_work():
    from bot.service.digest_writer import template_digest

    dup = {
        "id": 2,
        "title": "Customer conversation summaries",
        "department": "Customer Success",
        "duplicates": {"id": 1, "title": "Call recap generator", "department": "Sales", "stage": "pilot"},
        "score": 0.42,
        "reason": "both are about recap / summaries",
    }
    text = template_digest({"duplicates": {"count": 1, "items": [dup]}})
    assert (
        'Duplicates running work: "Customer conversation summaries" (#2, Customer Success) looks like '
        '"Call recap generator" (#1, Sales, pilot): both are about recap / summaries.'
    ) in text


def test_a_card_released_later_and_the_card_shown_on_refresh_name_the_similar_workflow(core):
    core.settings.owner_first = True
    first = core.submit("U_A", "slack", SALES).proposal_id
    second = core.submit("U_B", "slack", {**SUCCESS, "audience": "team"}).proposal_id  # medium: a department lead too
    by_role = requests_by_role(core, second)
    core.decide("U_CS", by_role["owner"].id, "approve")
    [released] = [r for r in outbox_for(core, "UGOV") if r.kind == "approval_request"]
    refreshed = core.approval_card(by_role["department_lead"].id, viewer="UGOV").plain_text()
    assert f"#{first} Call recap generator" in Message.from_json(released.payload).plain_text()
    assert f"#{first} Call recap generator" in refreshed
