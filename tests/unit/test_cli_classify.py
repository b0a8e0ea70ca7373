"""`govbot classify`: the DESIGN.md JSON on good input, exit 2 and one line per problem on bad."""

from __future__ import annotations

import io
import json
import sys

import pytest

from bot.cli import build_parser, main
from bot.domain.proposal import DATA, FIELDS
from tests.support.proposals import make_proposal

# its description says it issues refunds: high risk, whatever the declared actions
GOOD = make_proposal(
    description="Reads the complaint and issues the refund when the parcel is late.",
    data=["customer"],
    actions=["draft"],
)


def run(stdin_text: str, *argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    err = io.StringIO()
    old = sys.stderr
    sys.stderr = err
    try:
        code = main(["classify", *argv] if argv else ["classify", "-"], out=out, stdin=io.StringIO(stdin_text))
    finally:
        sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def test_good_proposal_prints_the_design_keys_with_sorted_lists():
    code, out, err = run(json.dumps(GOOD))
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == [
        "risk_level",
        "reasons",
        "stop_conditions",
        "readiness",
        "approver_roles",
        "rollout",
        "effective",
        "regulatory",
    ]
    assert data["risk_level"] == "high"
    assert data["effective"] == {"data": ["customer", "financial"], "actions": ["change_billing", "draft"]}
    for key in ("reasons", "stop_conditions", "approver_roles"):
        assert data[key] == sorted(data[key])
    assert data["effective"]["data"] == sorted(data["effective"]["data"])
    assert data["effective"]["actions"] == sorted(data["effective"]["actions"])


def test_file_argument(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"title": "Summaries"}), encoding="utf-8")
    code, out, _ = run("", str(path))
    assert code == 0
    assert json.loads(out)["risk_level"] == "low"


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("{not json", "proposal: not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ('{"title": "x", "colour": "red"}', f"colour: unknown key; allowed keys: {', '.join(FIELDS)}"),
        (
            '{"title": "x", "audience": "everyone"}',
            "audience: unknown value 'everyone'; allowed: internal, team, customer, public",
        ),
        ('{"title": "x", "data": "customer"}', f"data: must be a list of: {', '.join(DATA)}"),
        ('{"title": "x", "failure_visible": "yes"}', "failure_visible: must be true or false, not a string"),
        (json.dumps({"title": "t" * 121}), "title: is 121 characters; at most 120 allowed"),
        ('{"description": "no title"}', "title: is required"),
        ("[1, 2]", "proposal: must be a JSON object, not a list"),
    ],
)
def test_bad_input_exits_2_naming_the_key(payload, problem):
    code, out, err = run(payload)
    assert (code, out) == (2, "")
    assert err == f"govbot classify: {problem}\n"


def test_every_problem_gets_its_own_line():
    payload = json.dumps({"title": 5, "audience": "x", "actions": ["fly"], "zzz": 1})
    code, _, err = run(payload)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 4
    assert {line.split(": ")[1] for line in lines} == {"title", "audience", "actions", "zzz"}


def test_missing_file_is_a_clear_error(tmp_path):
    code, _, err = run("", str(tmp_path / "nope.json"))
    assert code == 2
    assert err == f"govbot classify: {tmp_path / 'nope.json'}: cannot read (No such file or directory)\n"


def test_every_command_has_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = set(sub.choices)
    assert {
        "classify",
        "demo",
        "chat",
        "serve",
        "db",
        "roles",
        "portfolio",
        "digest",
        "status",
        "audit",
        "export",
        "import",
        "run-jobs",
        "audit-pack",
    } <= names
    for name, action in sub._name_parser_map.items():  # type: ignore[attr-defined]
        assert action.format_help().strip(), name
    assert all(choice.help for choice in sub._choices_actions), "every command has a one-line help"
