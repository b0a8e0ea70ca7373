"""The classifier's rules (DESIGN.md "Classification"), on declared answers, and the
policy file that holds them (custom and broken policies)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.domain import proposal
from bot.domain.classifier import classify
from bot.domain.policy import PolicyError
from bot.domain.policy_file import load_policy
from bot.domain.proposal import validate_proposal
from tests.support.proposals import make_proposal

POLICY = load_policy()
DEFAULT_TEXT = (Path(__file__).resolve().parents[2] / "bot" / "policy.toml").read_text(encoding="utf-8")
# index of the text-signal rule whose phrase starts "\badd(?:s" (used by a broken-policy case)
ADD_RULE = DEFAULT_TEXT[: DEFAULT_TEXT.index("phrases = ['\\badd(?:s")].count("[[text_signals.rules]]") - 1

# A complete, low-risk proposal: every readiness input given, nothing risky.
COMPLETE = make_proposal()


def run(policy=POLICY, **changes) -> dict:
    return classify(validate_proposal({**COMPLETE, **changes}), policy)


# --------------------------------------------------------------------------- output shape


def test_output_has_exactly_the_design_keys():
    out = run()
    assert list(out) == [
        "risk_level",
        "reasons",
        "stop_conditions",
        "readiness",
        "approver_roles",
        "rollout",
        "effective",
        "regulatory",
    ]
    assert set(out["readiness"]) == {"score", "max", "missing", "ready_to_scale"}
    assert list(out["rollout"]) == [
        "risk_level",
        "owner",
        "approval_checkpoint",
        "logging_requirement",
        "rollback_path",
        "success_metric",
        "must_stay_human",
    ]
    assert set(out["effective"]) == {"data", "actions"}
    json.dumps(out)  # plain JSON types only


def test_complete_low_risk_proposal_is_low_ready_and_owner_only():
    out = run()
    assert out["risk_level"] == "low"
    assert out["reasons"] == [POLICY.default_risk_reason]
    assert out["stop_conditions"] == []
    assert out["readiness"] == {"score": 6, "max": 6, "missing": [], "ready_to_scale": True}
    assert out["approver_roles"] == ["owner"]


def test_every_list_is_sorted():
    out = run(
        data=["security", "customer", "financial", "regulated"],
        actions=["publish_public", "change_billing", "draft", "change_production"],
        owner=None,
        value_metric=None,
        exception_path=None,
        review="none",
        description="Issues refunds and deploys to production.",
    )
    lists = [
        out["reasons"],
        out["stop_conditions"],
        out["readiness"]["missing"],
        out["approver_roles"],
        out["effective"]["data"],
        out["effective"]["actions"],
    ]
    eu = out["regulatory"]["eu_ai_act"]
    lists += [
        eu["basis"],
        eu["duties"],
        out["regulatory"]["iso_42001"]["evidenced"],
        out["regulatory"]["iso_42001"]["missing"],
    ]
    lists += [v for fn in out["regulatory"]["nist_ai_rmf"].values() for v in fn.values()]
    for values in lists:
        assert values == sorted(values)
    assert len(out["stop_conditions"]) == 4


# --------------------------------------------------------------------------- risk level


@pytest.mark.parametrize(
    "action",
    [
        "change_production",
        "change_permissions",
        "change_billing",
        "change_customer_data",
        "security_decision",
        "publish_public",
    ],
)
def test_each_high_risk_action_makes_risk_high_with_its_reason(action):
    out = run(actions=["draft", action])
    assert out["risk_level"] == "high"
    assert f"actions include {action}" in out["reasons"]


def test_regulated_data_makes_risk_high():
    out = run(data=["regulated"])
    assert out["risk_level"] == "high" and out["reasons"] == ["data includes regulated"]


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"audience": "customer"}, "audience is customer"),
        ({"audience": "public"}, "audience is public"),
        ({"audience": "team"}, "audience is team"),
        ({"actions": ["send_external"]}, "actions include send_external"),
        ({"actions": ["update_records"]}, "actions include update_records"),
        ({"actions": ["classify_route"]}, "actions include classify_route"),
        ({"data": ["customer"]}, "data includes customer"),
        ({"data": ["employee"]}, "data includes employee"),
        ({"data": ["financial"]}, "data includes financial"),
        ({"data": ["security"]}, "data includes security"),
        ({"data": ["source_code"]}, "data includes source_code"),
    ],
)
def test_medium_triggers(changes, reason):
    out = run(**changes)
    assert out["risk_level"] == "medium"
    assert out["reasons"] == [reason]


@pytest.mark.parametrize("actions", [["summarize"], ["draft", "format"], ["research", "analyze", "recommend"]])
def test_low_risk_actions_stay_low(actions):
    assert run(actions=actions, data=["public", "internal"])["risk_level"] == "low"


def test_highest_rule_wins_and_only_its_reasons_are_listed():
    out = run(audience="customer", data=["customer"], actions=["change_billing"])
    assert out["risk_level"] == "high"
    assert out["reasons"] == ["actions include change_billing"]


def test_several_high_reasons_are_all_listed():
    out = run(actions=["change_billing", "publish_public"], data=["regulated"])
    assert out["reasons"] == [
        "actions include change_billing",
        "actions include publish_public",
        "data includes regulated",
    ]


# --------------------------------------------------------------------------- stop conditions


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"owner": None}, "no_owner"),
        ({"owner": "   "}, "no_owner"),
        ({"data": ["customer"], "review": "none"}, "customer_data_without_review"),
        ({"actions": ["change_permissions"]}, "changes_permissions_billing_or_production"),
        ({"actions": ["change_billing"]}, "changes_permissions_billing_or_production"),
        ({"actions": ["change_production"]}, "changes_permissions_billing_or_production"),
        ({"value_metric": None}, "unmeasurable_success"),
        ({"failure_visible": False}, "invisible_failure"),
        ({"prohibited_practices": ["social_scoring"]}, "prohibited_practice"),
    ],
)
def test_each_stop_condition(changes, code):
    out = run(**changes)
    assert out["stop_conditions"] == [code]
    assert out["readiness"]["ready_to_scale"] is False
    assert "governance" in out["approver_roles"]


@pytest.mark.parametrize(
    "changes",
    [
        {"data": ["customer"], "review": "spot_check"},
        {"data": ["financial"], "review": "none"},
        {"actions": ["change_customer_data", "publish_public"]},
        {"failure_visible": None},
    ],
)
def test_near_misses_are_not_stop_conditions(changes):
    assert run(**changes)["stop_conditions"] == []


# --------------------------------------------------------------------------- readiness


@pytest.mark.parametrize(
    "blank, missing",
    [
        (["current_process"], ["workflow"]),
        (["expected_output"], ["workflow"]),
        (["current_process", "expected_output"], ["workflow"]),
        (["exception_path", "escalation_path"], ["escalation_path", "exception_path"]),
        (["control_points"], ["control_points"]),
        (["value_metric", "owner"], ["owner", "value_metric"]),
        (
            ["current_process", "owner", "exception_path", "escalation_path", "control_points", "value_metric"],
            ["control_points", "escalation_path", "exception_path", "owner", "value_metric", "workflow"],
        ),
    ],
)
def test_readiness_counts_the_six_checks(blank, missing):
    out = run(**{k: None for k in blank})
    assert out["readiness"]["missing"] == missing
    assert out["readiness"]["score"] == 6 - len(missing)
    assert out["readiness"]["max"] == 6
    assert out["readiness"]["ready_to_scale"] is False


def test_full_readiness_with_a_stop_condition_is_not_ready_to_scale():
    out = run(failure_visible=False)
    assert out["readiness"]["score"] == 6 and out["readiness"]["ready_to_scale"] is False


# --------------------------------------------------------------------------- approver roles


@pytest.mark.parametrize(
    "changes, roles",
    [
        ({"audience": "team"}, ["department_lead", "owner"]),
        ({"data": ["security"]}, ["department_lead", "owner", "security"]),
        ({"actions": ["change_permissions"]}, ["department_lead", "governance", "owner", "security"]),
        ({"actions": ["security_decision"]}, ["department_lead", "governance", "owner", "security"]),
        ({"data": ["financial"]}, ["department_lead", "finance", "owner"]),
        ({"actions": ["change_billing"]}, ["department_lead", "finance", "governance", "owner"]),
        ({"data": ["regulated"]}, ["department_lead", "governance", "legal", "owner"]),
        ({"actions": ["publish_public"]}, ["department_lead", "governance", "legal", "owner"]),
        ({"actions": ["change_production"]}, ["department_lead", "engineering", "governance", "owner"]),
        ({"value_metric": None}, ["governance", "owner"]),
        ({"use_area": "employment"}, ["department_lead", "governance", "legal", "owner"]),
    ],
)
def test_approver_role_triggers(changes, roles):
    assert run(**changes)["approver_roles"] == roles


# --------------------------------------------------------------------------- rollout plan


def test_rollout_uses_the_given_inputs():
    out = run(actions=["change_billing"])
    ro = out["rollout"]
    assert ro["risk_level"] == "high" and ro["owner"] == COMPLETE["owner"]
    assert ro["rollback_path"] == COMPLETE["rollback_path"]
    assert ro["success_metric"] == COMPLETE["value_metric"]
    assert "department_lead, finance, governance, owner" in ro["approval_checkpoint"]
    assert "six months" in ro["logging_requirement"]
    assert "refunds" in ro["must_stay_human"]


def test_rollout_says_plainly_what_is_missing():
    ro = run(owner=None, rollback_path=None, value_metric=None, exception_path=None)["rollout"]
    assert ro["owner"] == "missing: no owner named"
    assert ro["rollback_path"] == "missing: no rollback path given"
    assert ro["success_metric"] == "missing: no value metric given"
    assert "missing: no exception path given" in ro["must_stay_human"]


def test_rollout_wording_follows_the_risk_level():
    low, medium = run()["rollout"], run(audience="customer")["rollout"]
    assert low["approval_checkpoint"] != medium["approval_checkpoint"]
    assert low["logging_requirement"] == POLICY.rollout.logging_requirement["low"]
    assert COMPLETE["exception_path"] in low["must_stay_human"]


# --------------------------------------------------------------------------- the policy file


def test_policy_loads_from_the_package_not_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "policy.toml").write_text("broken = [", encoding="utf-8")
    (tmp_path / "policy.toml").write_text("broken = [", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    from bot.domain import policy_file

    policy_file._load_default.cache_clear()
    assert load_policy().version == POLICY.version


def test_a_policy_file_is_parsed_once_and_again_when_it_changes(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(DEFAULT_TEXT.replace('version = "2026.11-default"', 'version = "v1"'), encoding="utf-8")
    first = load_policy(path)
    assert load_policy(str(path)) is first
    path.write_text(DEFAULT_TEXT.replace('version = "2026.11-default"', 'version = "v2-longer"'), encoding="utf-8")
    assert load_policy(path).version == "v2-longer"


def test_policy_exposes_area_help_and_stop_texts():
    from bot.domain.proposal import STOP_CONDITIONS, USE_AREA

    assert set(POLICY.use_area_help) == set(USE_AREA)
    assert all(text.strip() for text in POLICY.use_area_help.values())
    assert set(POLICY.stop_condition_texts) == set(STOP_CONDITIONS)
    assert POLICY.non_overridable_stop_conditions == ("prohibited_practice",)
    assert not POLICY.is_overridable("prohibited_practice") and POLICY.is_overridable("no_owner")


def test_a_custom_policy_changes_behaviour(tmp_path):
    text = DEFAULT_TEXT.replace(
        'level = "medium"\nwhen = { audience_in = ["customer", "public", "team"] }',
        'level = "high"\nwhen = { audience_in = ["customer", "public", "team"] }',
    )
    text = text.replace('version = "2026.11-default"', 'version = "acme-1"')
    path = tmp_path / "acme.toml"
    path.write_text(text, encoding="utf-8")
    custom = load_policy(path)
    assert custom.version == "acme-1"
    assert run(audience="team")["risk_level"] == "medium"
    out = run(custom, audience="team")
    assert out["risk_level"] == "high" and out["reasons"] == ["audience is team"]
    assert "governance" in out["approver_roles"]


def test_a_custom_lexicon_adds_a_signal(tmp_path):
    text = (
        DEFAULT_TEXT + '\n[[text_signals.rules]]\nkind = "actions"\ncode = "change_billing"\n'
        'verbs = ["zap"]\nobjects = ["wallet"]\n'
    )
    path = tmp_path / "zap.toml"
    path.write_text(text, encoding="utf-8")
    desc = "It zaps the wallet of the customer."
    assert "change_billing" not in run(description=desc)["effective"]["actions"]
    out = run(load_policy(path), description=desc)
    assert "actions include change_billing (from description: 'zaps the wallet')" in out["reasons"]


def _allowed(values) -> str:
    return ", ".join(values)


@pytest.mark.parametrize(
    "edit, problems",
    [
        (
            lambda t: t.replace('level = "medium"\nwhen = { audience_in', 'level = "urgent"\nwhen = { audience_in', 1),
            ["risk.rules[3].level: must be one of low, medium, high"],
        ),
        (
            lambda t: t.replace('actions_any = ["send_external"', 'actions_any = ["send_fax"', 1),
            [f"risk.rules[4].when.actions_any: unknown value 'send_fax'; allowed: {_allowed(proposal.ACTIONS)}"],
        ),
        (
            lambda t: t.replace('role = "engineering"', 'role = "janitor"', 1),
            [f"approvers[9].role: must be one of {_allowed(proposal.ROLES)}"],
        ),
        (
            lambda t: t.replace('when = { blank = ["owner"] }', 'when = { blank = ["owners"] }', 1),
            [f"stop_conditions[0].when.blank: unknown value 'owners'; allowed: {_allowed(proposal.FIELDS)}"],
        ),
        (
            lambda t: t.replace("phrases = ['\\badd(?:s", "phrases = ['\\badd((?:s", 1),
            [
                f"text_signals.rules[{ADD_RULE}].phrases[0]: invalid regular expression: missing ), "
                "unterminated subpattern at position 5"
            ],
        ),
        (
            lambda t: t.replace("[eu_ai_act.areas.migration]", "[eu_ai_act.areas.migrations]", 1),
            [
                "eu_ai_act.areas.migration: missing table",
                "eu_ai_act.areas.migration.label: must be a non-empty string",
                "eu_ai_act.areas.migration.annex_iii_point: must be a string",
                "eu_ai_act.areas.migration.help: must be a non-empty string",
                f"eu_ai_act.areas.migrations: unknown key; allowed: {_allowed(proposal.USE_AREA)}",
            ],
        ),
        (
            lambda t: t.replace("when = { always = true }", "when = { sometimes = true }", 1),
            [
                "approvers[0].when.sometimes: unknown key; allowed: always, actions_any, data_any, audience_in, "
                "use_area_in, risk_in, tier_in, present, blank, equals, field_in, stop_any"
            ],
        ),
        (
            lambda t: t.replace(
                "Sign-off by {roles} before the pilot. In the pilot a human approves every",
                "Sign-off by {approvers} before the pilot. In the pilot a human approves every",
                1,
            ),
            [
                "rollout.approval_checkpoint.high: unknown placeholder {approvers}; allowed: {autonomy}, "
                "{exception_path}, {review}, {roles}"
            ],
        ),
        (
            lambda t: t.replace(
                'non_overridable_stop_conditions = ["prohibited_practice"]',
                'non_overridable_stop_conditions = ["no_such_code"]',
                1,
            ),
            [
                "non_overridable_stop_conditions: unknown value 'no_such_code'; "
                f"allowed: {_allowed(proposal.STOP_CONDITIONS)}"
            ],
        ),
        (  # appended to the file, the key lands in its last table
            lambda t: t + "\nsurprise = 1\n",
            ["iso_42001.controls[6].surprise: unknown key; allowed: control, label, when"],
        ),
        (
            lambda t: t.replace('default_level = "low"', 'default_level = "low"\nthreshold = 3', 1),
            ["risk.threshold: unknown key; allowed: levels, default_level, default_reason, rules"],
        ),
        (
            lambda t: t.replace('check = "owner"', 'check = "workflow"', 1),
            ["readiness: each check name must appear once"],
        ),
        (
            lambda t: t.replace('tier = "limited"', 'tier = "moderate"', 1),
            ["eu_ai_act.tier_rules[5].tier: must be one of minimal, limited, high, prohibited"],
        ),
        (
            lambda t: t.replace('item = "rollback_path"', 'item = " "', 1),
            ["nist_ai_rmf.manage[2].item: must be a non-empty string"],
        ),
        (
            lambda t: t.replace("[risk]", "[risk", 1),
            ["not valid TOML: Expected ']' at the end of a table declaration (at line 28, column 6)"],
        ),
    ],
)
def test_a_broken_policy_fails_naming_the_bad_key(tmp_path, edit, problems):
    path = tmp_path / "broken.toml"
    broken = edit(DEFAULT_TEXT)
    assert broken != DEFAULT_TEXT
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(path) in str(info.value)
    assert info.value.problems == problems


def test_a_missing_policy_file_is_named(tmp_path):
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "nope.toml")


def test_the_design_example_is_reproduced():
    out = run(
        description="When a parcel is lost the agent issues the refund and drafts an apology.",
        data=["customer", "financial"],
        actions=["draft"],
        audience="customer",
        review="every_output",
    )
    assert out["risk_level"] == "high"
    assert out["reasons"] == ["actions include change_billing (from description: 'issues the refund')"]
    assert out["stop_conditions"] == ["changes_permissions_billing_or_production"]
    assert out["readiness"] == {"score": 6, "max": 6, "missing": [], "ready_to_scale": False}
    assert out["approver_roles"] == ["department_lead", "finance", "governance", "owner"]
    assert out["rollout"]["owner"] == COMPLETE["owner"]
    assert out["effective"] == {"data": ["customer", "financial"], "actions": ["change_billing", "draft"]}


def test_classify_accepts_unnormalised_answers_and_does_not_change_them():
    answers = {"title": "t", "data": ["customer"], "review": "none", "owner": "U1"}
    before = dict(answers)
    out = classify(answers, POLICY)
    assert answers == before
    assert out["stop_conditions"] == ["customer_data_without_review", "unmeasurable_success"]
    assert out["regulatory"]["eu_ai_act"]["tier"] == "minimal"
