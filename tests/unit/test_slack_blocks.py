"""Block Kit rendering and the interview modal, checked with slack_sdk.models."""

from __future__ import annotations

import json

import pytest

from bot.domain import interview, questions
from bot.domain.proposal import FIELDS
from bot.messages.message import APPROVE, REJECT, REQUEST_CHANGES, Button, Message, Section
from bot.service.results import DecisionForm
from handlers.slack import modal
from handlers.slack.blocks import clip, escape, home_view, render
from handlers.slack.forms import checkin_modal, decision_form_of, decision_modal
from tests.support.blockkit import block_problems, view_problems
from tests.support.proposals import high_billing
from tests.support.slack_platform import state_values


def _approval_buttons(rid: int) -> tuple[Button, ...]:
    return (
        Button(APPROVE, "Approve", str(rid), "primary"),
        Button(REJECT, "Reject", str(rid), "danger"),
        Button(REQUEST_CHANGES, "Request changes", str(rid)),
    )


def test_message_renders_sections_fields_and_buttons():
    msg = Message(
        kind="approval_request",
        text="Approval needed: Refund bot",
        sections=(Section("Risk", "high because it issues refunds", (("Owner", "<@U1>"), ("Stage", "in_review"))),),
        buttons=_approval_buttons(7),
    )
    out = render(msg)
    assert block_problems(out["blocks"], "msg") == []
    actions = [b for b in out["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions[0]["elements"]] == [
        (APPROVE, "7"),
        (REJECT, "7"),
        (REQUEST_CHANGES, "7"),
    ]
    assert "<@U1>" in json.dumps(out["blocks"])  # mentions stay live


def test_user_markup_is_escaped_but_mentions_kept():
    assert (
        escape("hi <@U12AB> & <!channel> <http://evil|ok>")
        == "hi <@U12AB> &amp; &lt;!channel&gt; &lt;http://evil|ok&gt;"
    )


def test_limits_hold_for_huge_messages():
    fields = tuple((f"label {i}", "v" * 2500) for i in range(40))
    sections = tuple(Section(f"Section {i}" * 30, "line\n" * 900 + "x" * 5000, fields) for i in range(12))
    buttons = sum((_approval_buttons(i) for i in range(30)), ())
    msg = Message(kind="big", text="t" * 5000, sections=sections, buttons=buttons)
    out = render(msg)
    assert block_problems(out["blocks"], "msg") == []
    assert len(out["blocks"]) == 50  # Slack's limit per message
    assert len(out["text"]) == 3000  # cut to Slack's limit
    # every approval keeps its buttons: one actions block per request, action ids unique within it
    actions = [b for b in out["blocks"] if b["type"] == "actions"]
    assert len(actions) == 30
    for block in actions:
        ids = [e["action_id"] for e in block["elements"]]
        assert len(ids) == len(set(ids))
    # what was left out is said once, before the buttons
    assert [b["type"] for b in out["blocks"]].index("context") == 19
    assert out["blocks"][19] == {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "… 102 more block(s) not shown; see `status` or the CLI for everything."}
        ],
    }
    home = home_view(msg)
    assert view_problems(home, "home") == []


# a high-risk proposal in an Annex III area, so every regulatory page is asked, with
# a placeholder rollback path, so the follow-up page asks for it again
ANSWERS = high_billing(
    title="Refund assistant",
    rollback_path="tbd",
    actions=["draft", "change_billing", "recommend"],
    use_area="essential_services",
    prohibited_practices=[],
    profiles_people=False,
)

# the Block Kit element of each choice question
CHOICE_ELEMENTS = {
    "capacity": "static_select",
    "stack": "static_select",
    "data": "checkboxes",
    "actions": "multi_static_select",
    "audience": "static_select",
    "review": "static_select",
    "autonomy": "static_select",
    "use_area": "radio_buttons",
    "ai_act_role": "static_select",
    "prohibited_practices": "checkboxes",
}


@pytest.mark.parametrize(
    "page_id", ["basics", "data_actions", "controls", "regulatory", "regulatory_detail", "followup"]
)
def test_every_interview_page_is_a_valid_modal(page_id):
    page = interview.get_page(page_id, ANSWERS)
    assert page.questions, page_id
    metadata, _ = modal.encode_state(page.id, ANSWERS, None, False)
    view = modal.page_view(page, ANSWERS, metadata, last=False, step=(1, 4))
    assert view_problems(view, page_id) == []
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == list(page.keys())
    for block in inputs:
        q = next(q for q in page.questions if q.key == block["block_id"])
        el = block["element"]
        if q.kind == questions.USER:
            assert el["type"] == "users_select"
        elif q.kind == questions.YES_NO:
            assert sorted(o["value"] for o in el["options"]) == ["false", "true"]
        elif q.kind in (questions.SINGLE, questions.MULTI):
            assert [o["value"] for o in el["options"]] == list(FIELDS[q.key].choices)
            assert [o["text"]["text"] for o in el["options"]] == [clip(c.label, 75) for c in q.choices]
            assert el["type"] == CHOICE_ELEMENTS[q.key]


def test_prefilled_answers_come_back_unchanged():
    """Filling the view with the answers and reading the state back gives the same answers."""
    for page in interview.pages(ANSWERS):
        metadata, _ = modal.encode_state(page.id, ANSWERS, None, False)
        view = modal.page_view(page, ANSWERS, metadata, last=False)
        wanted = {k: ANSWERS[k] for k in page.keys() if k in ANSWERS}  # noqa: SIM118
        raw = modal.submitted_values({"state": {"values": state_values(view, wanted)}})
        clean, errors = interview.parse_page(page, raw)
        assert errors == {}
        for key, value in wanted.items():
            assert clean[key] == (sorted(value) if isinstance(value, list) else value), key


def test_initial_values_prefill_the_form():
    view = modal.page_view(interview.get_page("basics", ANSWERS), ANSWERS, "{}", last=False)
    by_id = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert by_id["title"]["element"]["initial_value"] == "Refund assistant"
    assert by_id["owner"]["element"]["initial_user"] == "U_OWNER"
    assert by_id["capacity"]["element"]["initial_option"]["value"] == "incremental"


def test_large_answers_move_to_the_draft_and_metadata_stays_small():
    big = dict(ANSWERS, description="d" * 3500, current_process="c" * 3500)
    metadata, needs_draft = modal.encode_state("controls", big, 12, True)
    assert needs_draft is True
    assert metadata == '{"p":"controls","pid":12,"f":1,"d":1}'  # the answers wait in the draft
    state = modal.decode_state(metadata)
    assert state["p"] == "controls" and state["pid"] == 12 and "a" not in state
    small_meta, small_draft = modal.encode_state("basics", ANSWERS, None, False)
    assert not small_draft and modal.decode_state(small_meta)["a"] == ANSWERS
    # a prefilled text longer than Slack's 3000 limit is cut, never sent too long
    view = modal.page_view(interview.get_page("basics", big), big, metadata, last=False)
    assert view_problems(view, "big") == []


def test_decode_state_refuses_foreign_metadata():
    for bad in ("", "[]", '{"a": 1}', "not json", '{"p": "basics", "a": []}'):
        with pytest.raises(ValueError):
            modal.decode_state(bad)


@pytest.mark.parametrize("decision", ["approve", "reject", "request_changes"])
@pytest.mark.parametrize("override", [False, True])
def test_decision_modal(decision, override):
    form = DecisionForm(5, decision, comment_required=decision != "approve", reason_required=override)
    view = decision_modal(form, {"channel": "D1", "ts": "1.2"})
    assert view_problems(view, decision) == []
    ids = [b.get("block_id") for b in view["blocks"] if b["type"] == "input"]
    assert ids == (["comment", "override_reason"] if override else ["comment"])
    comment = next(b for b in view["blocks"] if b.get("block_id") == "comment")
    assert comment["optional"] is (decision == "approve")
    assert decision_form_of(json.loads(view["private_metadata"])) == form


def test_checkin_modal():
    assert view_problems(checkin_modal(3), "checkin") == []


def test_message_view_and_working_view_are_valid():
    msg = Message(kind="c", text="Risk: high", sections=(Section("Why", "x" * 9000, (("a", "b"),) * 25),))
    assert view_problems(modal.message_view("A title that is far too long to fit", msg), "result") == []
    assert view_problems(modal.working_view("Submitting", "<b> & co"), "working") == []
