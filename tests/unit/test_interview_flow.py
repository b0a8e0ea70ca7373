"""The one interview stepper (`bot.domain.interview.InterviewFlow`): next page, else the
follow-up once, else submit; each step says where it stands and whether it is the last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.domain import interview
from bot.domain.policy_file import load_policy

FLOW = interview.InterviewFlow(load_policy())
THREADS_RULE = """
[[text_signals.rules]]
kind = "data"
code = "employee"
phrases = ['\\bthreads?\\b']
"""

STRONG: dict[str, Any] = {
    "title": "Thread summariser",
    "department": "Operations",
    "description": "Summarises each long internal email thread into three lines for the reader.",
    "current_process": "People read the whole thread before answering.",
    "expected_output": "A three-line summary at the top of the thread.",
    "owner": "U_OWNER",
    "value_metric": "Reading time per thread from 4 to 1 minutes",
    "capacity": "incremental",
    "stack": "processes",
    "data": ["internal"],
    "actions": ["summarize"],
    "audience": "internal",
    "review": "every_output",
    "autonomy": "draft_only",
    "failure_visible": True,
    "exception_path": "Threads it cannot read are left without a summary",
    "escalation_path": "The support lead, then the head of support",
    "control_points": "The reader opens the thread when the summary looks wrong",
    "rollback_path": "Switch it off; people read threads as today",
}


def walk(answers: dict[str, Any]) -> list[str]:
    step: interview.Step | None = FLOW.start(answers)
    seen: list[str] = []
    while step is not None:
        seen.append(step.page.id)
        step = FLOW.after(step.page.id, answers)
    return seen


def test_a_weak_answer_brings_the_follow_up_once_then_submit() -> None:
    assert walk({**STRONG, "rollback_path": ""}) == ["basics", "data_actions", "controls", "followup"]


def test_strong_answers_submit_after_the_last_page() -> None:
    assert walk(STRONG) == ["basics", "data_actions", "controls"]


def test_each_step_says_its_position_and_whether_it_is_the_last() -> None:
    steps = [FLOW.show(page_id, STRONG) for page_id in ("basics", "controls")]
    assert [(s.position, s.last) for s in steps] == [((1, 3), False), ((3, 3), True)]


def test_the_follow_up_is_the_last_step_and_has_no_position() -> None:
    step = FLOW.after("controls", {**STRONG, "value_metric": "faster"})
    assert step is not None and (step.page.id, step.position, step.last) == ("followup", None, True)


def test_the_flows_policy_chooses_the_regulatory_questions(tmp_path: Path) -> None:
    custom = tmp_path / "threads-are-employee-data.toml"
    custom.write_text((Path(interview.__file__).parents[1] / "policy.toml").read_text() + THREADS_RULE)
    step = interview.InterviewFlow(load_policy(custom)).after("controls", STRONG)
    assert step is not None and step.page.id == "regulatory"
