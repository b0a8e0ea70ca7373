"""The interview's submitting step warns of similar workflows in other departments,
through the one stepper, so Slack's modal and Teams' card both show it."""

from __future__ import annotations

from handlers.slack.modal import step_view
from handlers.teams.actions import page_card
from tests.support.proposals import make_proposal

SALES = make_proposal(
    title="Call recap generator",
    department="Sales",
    description="After each sales call the AI reads the transcript and writes a short recap with next steps.",
    owner="U_SALES",
)
SUCCESS = make_proposal(
    title="Customer conversation summaries",
    department="Customer Success",
    description="Summarise recorded customer calls into a few bullet points and a list of follow-up tasks.",
    owner="U_CS",
)
WARNING = "Before you submit Customer conversation summaries: 1 similar workflow exists in other departments"


def _last_step(core):
    flow = core.interview_flow()
    pages = flow.pages(SUCCESS)
    return flow.after(pages[-2].id, SUCCESS)


def test_the_submitting_step_names_the_similar_workflow(core):
    core.submit("U_A", "slack", SALES)
    step = _last_step(core)
    assert step.last is True
    assert step.warning.splitlines()[0] == WARNING


def test_without_a_similar_workflow_the_submitting_step_has_no_warning(core):
    assert _last_step(core).warning is None


def test_slack_shows_the_warning_in_the_last_modal(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    view, _ = step_view(_last_step(core), dict(SUCCESS), None)
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b]
    [warning] = [t for t in texts if t.startswith(":warning:")]
    assert f"#{first} Call recap generator (Sales" in warning


def test_teams_shows_the_warning_in_the_last_card(core):
    first = core.submit("U_A", "slack", SALES).proposal_id
    card = page_card(_last_step(core), dict(SUCCESS), {"page": "x", "key": "k", "user": "29:u"})
    assert f"#{first} Call recap generator (Sales" in str(card)
