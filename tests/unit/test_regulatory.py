"""Regulatory mapping: EU AI Act tier, basis and duties; NIST AI RMF; ISO/IEC 42001."""

from __future__ import annotations

import pytest

from bot.domain.classifier import classify
from bot.domain.policy_file import load_policy
from bot.domain.proposal import PROHIBITED_PRACTICES, USE_AREA, validate_proposal
from bot.domain.regulatory import map_regulatory
from tests.support.proposals import make_proposal

POLICY = load_policy()
ANNEX_III = [a for a in USE_AREA if a not in ("none", "safety_component")]

BASE = make_proposal()


def reg(**changes) -> dict:
    answers = validate_proposal({**BASE, **changes})
    return map_regulatory(answers, {"data": answers["data"], "actions": answers["actions"]}, POLICY)


def eu(**changes) -> dict:
    return reg(**changes)["eu_ai_act"]


def has_duty(duties: list[str], *words: str) -> bool:
    return any(all(w in d for w in words) for d in duties)


# --------------------------------------------------------------------------- tiers


def test_minimal_by_default_with_its_basis():
    out = eu()
    assert out["tier"] == "minimal" and out["role"] == "deployer"
    assert out["basis"] == [POLICY.eu_ai_act.default_basis]
    assert has_duty(out["duties"], "Art. 4") and has_duty(out["duties"], "Art. 95")


@pytest.mark.parametrize(
    "changes, article",
    [
        ({"interacts_with_people": True}, "Art. 50(1)"),
        ({"generates_content": True}, "Art. 50(2)"),
    ],
)
def test_limited_tier_for_transparency_triggers(changes, article):
    out = eu(**changes)
    assert out["tier"] == "limited"
    assert len(out["basis"]) == 1 and out["basis"][0].startswith(article)
    assert not has_duty(out["duties"], "Art. 95")


@pytest.mark.parametrize("area", ANNEX_III)
def test_every_annex_iii_area_is_high(area):
    out = eu(use_area=area)
    point = POLICY.eu_ai_act.areas[area].annex_iii_point
    assert out["tier"] == "high"
    assert out["basis"] == [f"Art. 6(2) and Annex III point {point} ({POLICY.eu_ai_act.areas[area].label})"]


def test_safety_component_is_high_even_when_narrow():
    out = eu(use_area="safety_component", narrow_procedural_task=True)
    assert out["tier"] == "high" and out["basis"][0].startswith("Art. 6(1)")


@pytest.mark.parametrize("area", ["employment", "education", "essential_services"])
def test_art_6_3_exception_for_a_narrow_procedural_task(area):
    out = eu(use_area=area, narrow_procedural_task=True)
    assert out["tier"] == "minimal"
    assert len(out["basis"]) == 1 and out["basis"][0].startswith("Art. 6(3)")
    assert has_duty(out["duties"], "Art. 6(4)")


def test_art_6_3_exception_keeps_the_transparency_tier():
    out = eu(use_area="employment", narrow_procedural_task=True, interacts_with_people=True)
    assert out["tier"] == "limited"
    assert [b[:9] for b in out["basis"]] == ["Art. 50(1", "Art. 6(3)"]


@pytest.mark.parametrize("narrow", [True, False])
def test_profiling_always_keeps_an_annex_iii_area_high(narrow):
    out = eu(use_area="employment", profiles_people=True, narrow_procedural_task=narrow)
    assert out["tier"] == "high"
    assert "profiles people" in out["basis"][0] and "Art. 6(3) exception cannot apply" in out["basis"][0]
    assert not has_duty(out["duties"], "Art. 6(4)")


def test_profiling_without_a_use_area_is_not_high():
    assert eu(profiles_people=True)["tier"] == "minimal"


def test_narrow_task_without_a_use_area_changes_nothing():
    assert eu(narrow_procedural_task=True) == eu()


@pytest.mark.parametrize(
    "practice, basis",
    [
        ("manipulation", "Art. 5(1)(a) manipulation"),
        ("exploits_vulnerabilities", "Art. 5(1)(b) exploiting vulnerabilities"),
        ("social_scoring", "Art. 5(1)(c) social scoring"),
        ("predictive_policing", "Art. 5(1)(d) predicting crime from profiling"),
        ("face_scraping", "Art. 5(1)(e) untargeted face scraping"),
        ("emotion_recognition_work_school", "Art. 5(1)(f) emotion recognition at work or school"),
        ("biometric_categorisation_sensitive", "Art. 5(1)(g) biometric categorisation by sensitive traits"),
    ],
)
def test_each_prohibited_practice_gives_the_prohibited_tier(practice, basis):
    out = eu(prohibited_practices=[practice])
    assert out["tier"] == "prohibited"
    assert out["basis"] == [f"Art. 5(1): prohibited practice ({basis})"]
    assert basis.startswith(POLICY.eu_ai_act.prohibited_practices[practice].article)
    assert has_duty(out["duties"], "prohibited (Art. 5)")


def test_prohibited_outranks_high_and_lists_every_basis():
    out = eu(prohibited_practices=["social_scoring", "manipulation"], use_area="employment", interacts_with_people=True)
    assert out["tier"] == "prohibited"
    assert len(out["basis"]) == 3
    assert "Art. 5(1)(a)" in out["basis"][0] and "Art. 5(1)(c)" in out["basis"][0]


# --------------------------------------------------------------------------- duties by role


def test_high_risk_provider_duties():
    duties = eu(use_area="employment", ai_act_role="provider")["duties"]
    for article in (
        "Art. 9",
        "Art. 10",
        "Art. 11",
        "Art. 12",
        "Art. 13",
        "Art. 14",
        "Art. 15",
        "Art. 17",
        "Art. 43",
        "Art. 49(1)",
        "Art. 72",
    ):
        assert has_duty(duties, article), article
    assert not has_duty(duties, "Art. 26") and not has_duty(duties, "Art. 27")


def test_high_risk_deployer_duties():
    duties = eu(use_area="employment", ai_act_role="deployer")["duties"]
    for article in ("Art. 26(1)", "Art. 26(2)", "Art. 26(5)", "Art. 26(6)", "Art. 26(7)", "Art. 27", "Art. 86"):
        assert has_duty(duties, article), article
    assert has_duty(duties, "Human oversight") and has_duty(duties, "Logging")
    assert not has_duty(duties, "Art. 43") and not has_duty(duties, "Art. 9)")


def test_fundamental_rights_assessment_only_where_it_applies():
    assert has_duty(eu(use_area="essential_services")["duties"], "Fundamental-rights impact assessment")
    assert not has_duty(eu(use_area="critical_infrastructure")["duties"], "Fundamental-rights")
    assert not has_duty(eu(use_area="safety_component")["duties"], "Fundamental-rights")
    assert not has_duty(eu(use_area="essential_services", ai_act_role="provider")["duties"], "Fundamental-rights")


def test_workers_are_informed_only_for_employment():
    assert has_duty(eu(use_area="employment")["duties"], "workers' representatives")
    assert not has_duty(eu(use_area="education")["duties"], "workers' representatives")


@pytest.mark.parametrize(
    "role, article, phrase",
    [
        ("provider", "Art. 50(1)", "design it so people are told"),
        ("deployer", "Art. 50(1)", "tell people they are interacting"),
    ],
)
def test_interaction_notice_by_role(role, article, phrase):
    duties = eu(interacts_with_people=True, ai_act_role=role)["duties"]
    assert has_duty(duties, article, phrase)


@pytest.mark.parametrize("role, article", [("provider", "Art. 50(2)"), ("deployer", "Art. 50(4)")])
def test_content_labelling_by_role(role, article):
    duties = eu(generates_content=True, ai_act_role=role)["duties"]
    assert has_duty(duties, "Label generated content", article)


def test_data_protection_assessment_when_personal_data_in_a_high_tier():
    assert has_duty(eu(use_area="employment", data=["employee"])["duties"], "Art. 35")
    assert not has_duty(eu(use_area="employment", data=["internal"])["duties"], "Art. 35")


def test_art_6_3_registration_is_a_provider_duty():
    assert has_duty(
        eu(use_area="education", narrow_procedural_task=True, ai_act_role="provider")["duties"], "Art. 49(2)"
    )
    assert not has_duty(eu(use_area="education", narrow_procedural_task=True)["duties"], "Art. 49(2)")


# --------------------------------------------------------------------------- effect on classification


@pytest.mark.parametrize("changes", [{"use_area": "education"}, {"prohibited_practices": ["face_scraping"]}])
def test_high_or_prohibited_tier_makes_risk_high_and_routes_to_legal(changes):
    out = classify(validate_proposal({**BASE, **changes}), POLICY)
    tier = out["regulatory"]["eu_ai_act"]["tier"]
    assert out["risk_level"] == "high"
    assert f"EU AI Act tier is {tier}" in out["reasons"]
    assert out["approver_roles"] == ["department_lead", "governance", "legal", "owner"]


def test_prohibited_practice_is_a_stop_condition_no_override_lifts():
    out = classify(validate_proposal({**BASE, "prohibited_practices": ["emotion_recognition_work_school"]}), POLICY)
    assert out["stop_conditions"] == ["prohibited_practice"]
    assert not POLICY.is_overridable("prohibited_practice")
    assert "must not run" in out["rollout"]["must_stay_human"]


def test_limited_tier_does_not_raise_the_risk_level():
    out = classify(validate_proposal({**BASE, "interacts_with_people": True}), POLICY)
    assert out["risk_level"] == "low" and "legal" not in out["approver_roles"]


# --------------------------------------------------------------------------- NIST AI RMF and ISO/IEC 42001


def test_complete_record_evidences_every_nist_function():
    nist = reg()["nist_ai_rmf"]
    assert list(nist) == ["govern", "map", "measure", "manage"]
    assert nist["govern"] == {"evidenced": ["owner", "policy"], "missing": []}
    assert nist["map"] == {"evidenced": ["audience", "data", "process", "use_area"], "missing": []}
    assert nist["measure"] == {"evidenced": ["control_points", "failure_visibility", "value_metric"], "missing": []}
    assert nist["manage"] == {"evidenced": ["escalation_path", "exception_path", "rollback_path"], "missing": []}


def test_blank_answers_show_up_as_missing_nist_evidence():
    nist = reg(
        owner=None, current_process=None, value_metric=None, failure_visible=False, rollback_path=None, audience=None
    )["nist_ai_rmf"]
    assert nist["govern"]["missing"] == ["owner"]
    assert nist["map"]["missing"] == ["audience", "process"]
    assert nist["measure"]["missing"] == ["failure_visibility", "value_metric"]
    assert nist["manage"] == {"evidenced": ["escalation_path", "exception_path"], "missing": ["rollback_path"]}


def test_iso_controls_for_a_complete_deployer_record():
    iso = reg()["iso_42001"]
    assert iso == {"evidenced": ["A.3", "A.5", "A.6", "A.7", "A.8", "A.9"], "missing": ["A.10"]}
    assert reg(ai_act_role="provider")["iso_42001"]["missing"] == []


@pytest.mark.parametrize(
    "changes, missing",
    [
        ({"owner": None}, "A.3"),
        ({"failure_visible": None}, "A.5"),
        ({"rollback_path": None}, "A.6"),
        ({"data": []}, "A.7"),
        ({"escalation_path": None}, "A.8"),
        ({"review": "none"}, "A.9"),
        ({"autonomy": "autonomous"}, "A.9"),
    ],
)
def test_each_iso_control_goes_missing_with_its_evidence(changes, missing):
    iso = reg(**changes)["iso_42001"]
    assert missing in iso["missing"] and missing not in iso["evidenced"]


def test_text_detected_data_counts_as_evidence():
    answers = validate_proposal({**BASE, "data": []})
    assert "A.7" in map_regulatory(answers, {"data": ["customer"], "actions": []}, POLICY)["iso_42001"]["evidenced"]


def test_policy_gives_help_for_every_area_and_practice():
    assert set(POLICY.use_area_help) == set(USE_AREA)
    assert set(POLICY.prohibited_practice_help) == set(PROHIBITED_PRACTICES)
    assert POLICY.prohibited_practice_help["social_scoring"].startswith("Art. 5(1)(c) Social scoring:")


def test_unanswered_optional_keys_take_their_defaults():
    raw = {"title": "t", "use_area": "education", "profiles_people": None, "narrow_procedural_task": None}
    out = map_regulatory(raw, {"data": [], "actions": []}, POLICY)["eu_ai_act"]
    assert out["tier"] == "high" and out["role"] == "deployer"
