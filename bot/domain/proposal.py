"""The proposal vocabulary of ../shared/DESIGN.md and its validation.

Everything here is plain Python: the proposal keys, their allowed values and a
validator that reports every problem with the key it concerns and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from bot.domain import value as value_module
from bot.domain.errors import FieldError, ProposalInvalid

DATA: Final = (
    "public",
    "internal",
    "employee",
    "customer",
    "financial",
    "security",
    "source_code",
    "regulated",
)
ACTIONS: Final = (
    "summarize",
    "draft",
    "format",
    "research",
    "analyze",
    "classify_route",
    "recommend",
    "send_external",
    "update_records",
    "change_customer_data",
    "change_permissions",
    "change_billing",
    "change_production",
    "security_decision",
    "publish_public",
)
AUDIENCE: Final = ("internal", "team", "customer", "public")
REVIEW: Final = ("none", "spot_check", "every_output")
AUTONOMY: Final = ("draft_only", "human_approves", "human_monitors", "autonomous")
STACK: Final = ("strategy", "operating_model", "processes", "software", "data_security", "automation")
CAPACITY: Final = ("keep_the_lights_on", "incremental", "strategic")

# Regulatory mapping (optional keys, DESIGN.md "Regulatory mapping").
USE_AREA: Final = (
    "none",
    "biometrics",
    "critical_infrastructure",
    "education",
    "employment",
    "essential_services",
    "law_enforcement",
    "migration",
    "justice_democracy",
    "safety_component",
)
PROHIBITED_PRACTICES: Final = (
    "manipulation",
    "exploits_vulnerabilities",
    "social_scoring",
    "emotion_recognition_work_school",
    "biometric_categorisation_sensitive",
    "face_scraping",
    "predictive_policing",
)
AI_ACT_ROLE: Final = ("provider", "deployer")
# The regulatory questions: a proposal has them "answered" when any one was given.
REGULATORY_KEYS: Final = (
    "use_area",
    "interacts_with_people",
    "generates_content",
    "profiles_people",
    "narrow_procedural_task",
    "prohibited_practices",
    "ai_act_role",
)

RISK_LEVELS: Final = ("low", "medium", "high")
ROLES: Final = ("owner", "department_lead", "security", "finance", "legal", "engineering", "governance")
STAGES: Final = (
    "draft",
    "in_review",
    "changes_requested",
    "approved",
    "pilot",
    "production",
    "rejected",
    "paused",
    "retired",
)
STOP_CONDITIONS: Final = (
    "no_owner",
    "customer_data_without_review",
    "changes_permissions_billing_or_production",
    "unmeasurable_success",
    "invisible_failure",
    "prohibited_practice",
)

TITLE_MAX: Final = 120
DESCRIPTION_MAX: Final = 4000
FREE_TEXT_MAX: Final = 4000
NAME_MAX: Final = 120  # a vendor, a model, a department
DOWNSTREAM_MAX: Final = 20
VALUE_UNIT_MAX: Final = 40  # "minutes per ticket", "%", "$"
NUMBER_MAX: Final = 1e15  # a baseline or target beyond this is a typo, not a metric
VALUE_KEYS: Final = ("value_baseline", "value_target", "value_unit")


@dataclass(frozen=True)
class FieldSpec:
    """One proposal key: its JSON type, allowed values and length limit."""

    key: str
    kind: str  # "str" | "enum" | "list" | "bool" | "user" | "names" (a list of free names) | "number"
    choices: tuple[str, ...] = ()
    max_len: int | None = None
    required: bool = False
    nullable: bool = False
    default: Any = None


FIELDS: Final[dict[str, FieldSpec]] = {
    f.key: f
    for f in (
        FieldSpec("title", "str", max_len=TITLE_MAX, required=True),
        FieldSpec("department", "str", max_len=120),
        FieldSpec("description", "str", max_len=DESCRIPTION_MAX),
        FieldSpec("current_process", "str", max_len=FREE_TEXT_MAX),
        FieldSpec("expected_output", "str", max_len=FREE_TEXT_MAX),
        FieldSpec("data", "list", choices=DATA, default=()),
        FieldSpec("actions", "list", choices=ACTIONS, default=()),
        FieldSpec("audience", "enum", choices=AUDIENCE),
        FieldSpec("owner", "user", max_len=200, nullable=True),
        FieldSpec("review", "enum", choices=REVIEW),
        FieldSpec("autonomy", "enum", choices=AUTONOMY),
        FieldSpec("exception_path", "str", max_len=FREE_TEXT_MAX),
        FieldSpec("escalation_path", "str", max_len=FREE_TEXT_MAX),
        FieldSpec("control_points", "str", max_len=FREE_TEXT_MAX),
        FieldSpec("rollback_path", "str", max_len=FREE_TEXT_MAX),
        FieldSpec("value_metric", "str", max_len=FREE_TEXT_MAX, nullable=True),
        # Structured value (optional keys): read from value_metric when not given
        FieldSpec("value_baseline", "number", nullable=True),
        FieldSpec("value_target", "number", nullable=True),
        FieldSpec("value_unit", "str", max_len=VALUE_UNIT_MAX, nullable=True),
        FieldSpec("failure_visible", "bool"),
        FieldSpec("stack", "enum", choices=STACK),
        FieldSpec("capacity", "enum", choices=CAPACITY),
        FieldSpec("use_area", "enum", choices=USE_AREA, default="none"),
        FieldSpec("interacts_with_people", "bool", default=False),
        FieldSpec("generates_content", "bool", default=False),
        FieldSpec("profiles_people", "bool", default=False),
        FieldSpec("narrow_procedural_task", "bool", default=False),
        FieldSpec("prohibited_practices", "list", choices=PROHIBITED_PRACTICES, default=()),
        FieldSpec("ai_act_role", "enum", choices=AI_ACT_ROLE, default="deployer"),
        # Sprawl, vendors and hand-offs (optional keys)
        FieldSpec("vendor", "str", max_len=NAME_MAX),
        FieldSpec("model", "str", max_len=NAME_MAX),
        FieldSpec("downstream", "names", max_len=NAME_MAX, default=()),
    )
}

FREE_TEXT_KEYS: Final = ("title", "description", "current_process", "expected_output")


def is_blank(value: Any) -> bool:
    """Missing, null or only white space counts as blank (DESIGN.md)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return len(value) == 0
    return False


def _allowed(choices: tuple[str, ...]) -> str:
    return ", ".join(choices)


def check_field(key: str, value: Any) -> tuple[Any, FieldError | None]:
    """Validate and normalise one answer. Returns (clean value, error or None)."""
    spec = FIELDS.get(key)
    if spec is None:
        return None, FieldError(key, f"unknown key; allowed keys: {_allowed(tuple(FIELDS))}")
    if value is None:
        if spec.required:
            return None, FieldError(key, "is required")
        return None, None
    if spec.kind in ("str", "user"):
        if not isinstance(value, str):
            return None, FieldError(key, f"must be a string, not {_type_name(value)}")
        clean = value.strip()
        if "\x00" in clean:
            return None, FieldError(key, "must not contain NUL characters")
        if spec.max_len is not None and len(clean) > spec.max_len:
            return None, FieldError(key, f"is {len(clean)} characters; at most {spec.max_len} allowed")
        if spec.required and not clean:
            return None, FieldError(key, "is required and must not be blank")
        return (clean or None), None
    if spec.kind == "enum":
        if not isinstance(value, str):
            return None, FieldError(key, f"must be one of {_allowed(spec.choices)}, not {_type_name(value)}")
        if value not in spec.choices:
            return None, FieldError(key, f"unknown value {value!r}; allowed: {_allowed(spec.choices)}")
        return value, None
    if spec.kind == "list":
        if not isinstance(value, (list, tuple)):
            return None, FieldError(key, f"must be a list of: {_allowed(spec.choices)}")
        bad = [v for v in value if not isinstance(v, str) or v not in spec.choices]
        if bad:
            shown = ", ".join(repr(b) for b in bad[:5])
            return None, FieldError(key, f"unknown value {shown}; allowed: {_allowed(spec.choices)}")
        return sorted(set(value)), None
    if spec.kind == "names":
        return _names(key, value, spec)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            return None, FieldError(key, f"must be true or false, not {_type_name(value)}")
        return value, None
    if spec.kind == "number":
        return _number(key, value)
    raise AssertionError(f"unhandled kind {spec.kind}")  # pragma: no cover


def _names(key: str, value: Any, spec: FieldSpec) -> tuple[Any, FieldError | None]:
    """A list of free names (departments): each stripped, blanks dropped, the same name
    in another case kept once, sorted."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return None, FieldError(key, 'must be a list of department names, e.g. ["Finance", "Legal"]')
    names: dict[str, str] = {}
    for v in value:
        name = " ".join(v.split())
        if "\x00" in name:
            return None, FieldError(key, "must not contain NUL characters")
        if spec.max_len is not None and len(name) > spec.max_len:
            return None, FieldError(key, f"{name[:40]!r} is {len(name)} characters; at most {spec.max_len} allowed")
        if name:
            names.setdefault(name.casefold(), name)
    if len(names) > DOWNSTREAM_MAX:
        return None, FieldError(key, f"names {len(names)} departments; at most {DOWNSTREAM_MAX} allowed")
    return sorted(names.values(), key=str.casefold), None


def _number(key: str, value: Any) -> tuple[Any, FieldError | None]:
    """A baseline or target: a JSON number (or a string holding only one, as a form
    sends it), finite; blank is None."""
    if isinstance(value, str) and not value.strip():
        return None, None
    number = None if isinstance(value, bool) else value_module.parse_number(value)
    if number is None:
        shown = repr(value[:40]) if isinstance(value, str) else _type_name(value)
        return None, FieldError(key, f"must be a number in the metric's unit (e.g. 12 or 4.5), not {shown}")
    if abs(number) > NUMBER_MAX:
        return None, FieldError(key, f"must be at most {NUMBER_MAX:.0e} in size")
    return (int(number) if number.is_integer() else number), None


def _type_name(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def validate_proposal(raw: Any) -> dict[str, Any]:
    """Validate a proposal mapping and return it normalised.

    The result has every key of FIELDS: blanks become None (or the key's default; a
    regulatory key nobody answered stays None), lists are sorted and de-duplicated.
    Raises ProposalInvalid naming every problem.
    """
    if not isinstance(raw, dict):
        raise ProposalInvalid([FieldError("proposal", f"must be a JSON object, not {_type_name(raw)}")])
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for key in sorted(raw, key=str):
        if not isinstance(key, str) or key not in FIELDS:
            errors.append(FieldError(str(key), f"unknown key; allowed keys: {_allowed(tuple(FIELDS))}"))
            continue
        value, err = check_field(key, raw[key])
        if err:
            errors.append(err)
        else:
            clean[key] = value
    if "title" not in raw:
        errors.append(FieldError("title", "is required"))
    if errors:
        raise ProposalInvalid(errors)
    return normalise(clean)


def normalise(answers: dict[str, Any]) -> dict[str, Any]:
    """Fill every key of FIELDS: blanks become None (or the key's default, e.g. `[]`).

    A regulatory key nobody answered stays None, so the record keeps whether the
    regulatory questions were answered (`regulatory_answered`); `with_defaults` fills
    them in for classification. An explicit answer (`"none"`, `false`, `[]`) is kept."""
    full: dict[str, Any] = {}
    for key, spec in FIELDS.items():
        value = answers.get(key)
        if key in REGULATORY_KEYS:
            if isinstance(value, str) and not value.strip():
                value = None
            full[key] = list(value) if isinstance(value, tuple) else value
            continue
        if is_blank(value) and spec.kind != "bool":
            value = list(spec.default) if isinstance(spec.default, tuple) else spec.default
        if value is None and spec.kind == "bool":
            value = spec.default
        full[key] = value
    return with_value(full)


def with_value(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers with `value_baseline`, `value_target` and `value_unit` read from the
    metric sentence where they are blank (a given one is never replaced)."""
    if all(not is_blank(answers.get(k)) for k in VALUE_KEYS) or is_blank(answers.get("value_metric")):
        return answers
    read = value_module.read_metric(str(answers["value_metric"]))
    out = dict(answers)
    for key, found in zip(VALUE_KEYS, (read.baseline, read.target, read.unit), strict=True):
        if is_blank(out.get(key)) and found is not None:
            out[key] = (int(found) if found.is_integer() else found) if isinstance(found, float) else found
    return out


def regulatory_answered(answers: dict[str, Any]) -> bool:
    """True when any regulatory key was given (DESIGN.md `eu_ai_act.answered`)."""
    return any(answers.get(key) is not None for key in REGULATORY_KEYS)


def with_defaults(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers with every unanswered regulatory key at its default (`use_area`
    none, the yes/no questions false, no prohibited practice, role deployer)."""
    full = dict(answers)
    for key in REGULATORY_KEYS:
        if full.get(key) is None:
            default = FIELDS[key].default
            full[key] = list(default) if isinstance(default, tuple) else default
    return full
