"""The classification policy: a TOML data file read once at start-up.

`load_policy()` reads the packaged default (`bot/policy.toml`, through importlib.resources,
never from the working directory) or a custom file, validates every key and precompiles
the text-signal regexes. A broken file raises `PolicyError` naming each bad key.

The rules are data; `Condition` is the one generic interpreter of their `when` tables
(see the header of policy.toml for the keys a condition may use).
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot import domain

logger = logging.getLogger(__name__)

CONDITION_KEYS = ("always", "actions_any", "data_any", "audience_in", "use_area_in", "risk_in", "tier_in",
                  "present", "blank", "equals", "field_in", "stop_any")
ROLLOUT_PLACEHOLDERS = frozenset({"roles", "autonomy", "review", "exception_path"})
BASIS_PLACEHOLDERS = frozenset({"area", "area_label", "area_point", "practices"})


class PolicyError(ValueError):
    """A policy file is unreadable or invalid; `problems` names every bad key."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"invalid policy {source}: " + "; ".join(problems))


# --------------------------------------------------------------------------- facts and conditions


@dataclass
class Facts:
    """What a condition is evaluated against: the answers, the effective sets and what
    has been decided so far (risk level, EU AI Act tier, stop conditions)."""

    answers: Mapping[str, Any]
    data: frozenset[str]
    actions: frozenset[str]
    sources: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    risk: str | None = None
    tier: str | None = None
    stops: tuple[str, ...] = ()
    given: frozenset[str] = field(init=False, default=frozenset())  # the keys answered

    def __post_init__(self) -> None:
        # domain.is_blank, inlined: this runs twice per classification
        given = {k for k, v in self.answers.items()
                 if not (v is None or v == "" or v == [] or v == () or (type(v) is str and v.isspace()))}
        given.discard("data")
        given.discard("actions")
        given.update(k for k, v in (("data", self.data), ("actions", self.actions)) if v)
        self.given = frozenset(given)

    def present(self, key: str) -> bool:
        """The key is answered (not blank); data and actions count their effective sets."""
        return key in self.given

    def item(self, kind: str, code: str) -> str:
        """"actions include change_billing (from description: 'issues the refund')"."""
        text = f"{kind} include{'s' if kind == 'data' else ''} {code}"
        found = self.sources.get((kind, code))
        declared = code in (self.answers.get(kind) or ())
        if found and not declared:
            text += " (from " + "; ".join(f"{f}: '{p}'" for f, p in found) + ")"
        return text


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "blank" if value is None else str(value)


@dataclass(frozen=True)
class Condition:
    """A `when` table: every key given must hold."""

    always: bool = False
    actions_any: frozenset[str] | None = None
    data_any: frozenset[str] | None = None
    audience_in: frozenset[str] | None = None
    use_area_in: frozenset[str] | None = None
    risk_in: frozenset[str] | None = None
    tier_in: frozenset[str] | None = None
    present: tuple[str, ...] = ()
    blank: tuple[str, ...] = ()
    equals: tuple[tuple[str, Any], ...] = ()
    field_in: tuple[tuple[str, frozenset[str]], ...] = ()
    stop_any: bool = False

    def __post_init__(self) -> None:
        # Precompute one small check per key given, most selective first, so evaluating
        # a rule costs a few attribute look-ups (the classifier runs ~80 per proposal).
        checks: list[Any] = []
        if self.tier_in is not None:
            checks.append(lambda f, s=self.tier_in: f.tier in s)
        if self.risk_in is not None:
            checks.append(lambda f, s=self.risk_in: f.risk in s)
        if self.use_area_in is not None:
            checks.append(lambda f, s=self.use_area_in: f.answers.get("use_area") in s)
        if self.audience_in is not None:
            checks.append(lambda f, s=self.audience_in: f.answers.get("audience") in s)
        if self.actions_any is not None:
            checks.append(lambda f, s=self.actions_any: not s.isdisjoint(f.actions))
        if self.data_any is not None:
            checks.append(lambda f, s=self.data_any: not s.isdisjoint(f.data))
        for k, v in self.equals:
            checks.append(lambda f, k=k, v=v: (x := f.answers.get(k)) == v and type(x) is type(v))
        for k, vs in self.field_in:
            checks.append(lambda f, k=k, vs=vs: f.answers.get(k) in vs)
        for k in self.present:
            checks.append(lambda f, k=k: k in f.given)
        for k in self.blank:
            checks.append(lambda f, k=k: k not in f.given)
        if self.stop_any:
            checks.append(lambda f: bool(f.stops))
        object.__setattr__(self, "_checks", tuple(checks))

    def holds(self, f: Facts) -> bool:
        """True when every part of the condition holds for these facts."""
        for check in self._checks:  # type: ignore[attr-defined]  # noqa: SIM110 - a plain loop is faster
            if not check(f):
                return False
        return True

    def reasons(self, f: Facts) -> list[str]:
        """Why the condition holds, one phrase per matched part (none for `always`)."""
        a = f.answers
        out = [f.item("actions", c) for c in sorted((self.actions_any or frozenset()) & f.actions)]
        out += [f.item("data", c) for c in sorted((self.data_any or frozenset()) & f.data)]
        if self.audience_in is not None:
            out.append(f"audience is {a.get('audience')}")
        if self.use_area_in is not None:
            out.append(f"use_area is {a.get('use_area')}")
        if self.risk_in is not None:
            out.append(f"risk is {f.risk}")
        if self.tier_in is not None:
            out.append(f"EU AI Act tier is {f.tier}")
        out += [f"{k} is given" for k in self.present]
        out += [f"{k} is blank" for k in self.blank]
        out += [f"{k} is {_show(v)}" for k, v in self.equals]
        out += [f"{k} is {_show(a.get(k))}" for k, _ in self.field_in]
        if self.stop_any:
            out.append("stop conditions hold: " + ", ".join(f.stops))
        return out


# --------------------------------------------------------------------------- policy records


@dataclass(frozen=True)
class RiskRule:
    level: str
    when: Condition


@dataclass(frozen=True)
class StopRule:
    code: str
    text: str
    when: Condition


@dataclass(frozen=True)
class ReadinessCheck:
    check: str
    present: tuple[str, ...]


@dataclass(frozen=True)
class ApproverRule:
    role: str
    when: Condition


@dataclass(frozen=True)
class Rollout:
    approval_checkpoint: Mapping[str, str]
    logging_requirement: Mapping[str, str]
    missing_owner: str
    missing_rollback_path: str
    missing_value_metric: str
    missing_exception_path: str
    must_stay_human_prefix: str
    must_stay_human_default: str
    must_stay_human_actions: Mapping[str, str]
    must_stay_human_data: Mapping[str, str]
    must_stay_human_tiers: Mapping[str, str]


@dataclass(frozen=True)
class TextSignals:
    """The compiled text-signal lexicons (built by bot.classifier.build_detectors)."""

    fields: tuple[str, ...]
    detectors: tuple[Any, ...]  # bot.classifier.Detector
    index: tuple[Mapping[str, Any], Mapping[str, Any], re.Pattern[str]]  # bot.classifier.build_index
    negations: frozenset[str]
    negation_phrases: tuple[str, ...]
    negation_window: int
    clause_words: frozenset[str]
    noun_markers: frozenset[str]
    noun_prepositions: frozenset[str]
    reading_forms: frozenset[str]


@dataclass(frozen=True)
class TierRule:
    tier: str
    basis: str
    when: Condition


@dataclass(frozen=True)
class Duty:
    text: str
    when: Condition


@dataclass(frozen=True)
class AreaInfo:
    label: str
    annex_iii_point: str
    help: str


@dataclass(frozen=True)
class PracticeInfo:
    label: str
    article: str
    help: str


@dataclass(frozen=True)
class EuAiAct:
    tiers: tuple[str, ...]
    default_basis: str
    tier_rules: tuple[TierRule, ...]
    duties: tuple[Duty, ...]
    areas: Mapping[str, AreaInfo]
    prohibited_practices: Mapping[str, PracticeInfo]


@dataclass(frozen=True)
class EvidenceItem:
    """One NIST AI RMF item or ISO/IEC 42001 Annex A control and when the record evidences it."""

    code: str
    label: str
    when: Condition


@dataclass(frozen=True)
class Policy:
    """The loaded, validated policy. Immutable; share one instance."""

    version: str
    source: str
    risk_levels: tuple[str, ...]
    default_risk: str
    default_risk_reason: str
    risk_rules: tuple[RiskRule, ...]
    stop_rules: tuple[StopRule, ...]
    non_overridable_stop_conditions: tuple[str, ...]
    readiness_checks: tuple[ReadinessCheck, ...]
    approver_rules: tuple[ApproverRule, ...]
    rollout: Rollout
    signals: TextSignals
    eu_ai_act: EuAiAct
    nist_ai_rmf: Mapping[str, tuple[EvidenceItem, ...]]
    iso_42001: tuple[EvidenceItem, ...]

    @property
    def use_area_help(self) -> dict[str, str]:
        """Plain-language help for every `use_area` value (for the interview)."""
        return {code: info.help for code, info in self.eu_ai_act.areas.items()}

    @property
    def use_area_labels(self) -> dict[str, str]:
        return {code: info.label for code, info in self.eu_ai_act.areas.items()}

    @property
    def prohibited_practice_help(self) -> dict[str, str]:
        """"Art. 5(1)(c) Social scoring: ..." for every prohibited-practice code."""
        return {c: f"{p.article} {p.label}: {p.help}" for c, p in self.eu_ai_act.prohibited_practices.items()}

    @property
    def stop_condition_texts(self) -> dict[str, str]:
        return {r.code: r.text for r in self.stop_rules}

    @property
    def stop_condition_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.code for r in self.stop_rules))

    def is_overridable(self, code: str) -> bool:
        """Whether governance may override this stop condition with a written reason."""
        return code not in self.non_overridable_stop_conditions


# --------------------------------------------------------------------------- loading


def load_policy(path: Path | str | None = None) -> Policy:
    """Load and validate a policy. None means the packaged default `bot/policy.toml`.

    Policies are immutable, so a file is parsed once and shared (a changed file is read
    again). Raises PolicyError naming the file and every bad key.
    """
    if path is None:
        return _load_default()
    source = str(path)
    try:
        stat = Path(path).stat()
    except OSError as exc:
        raise PolicyError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    return _load_file(source, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1)
def _load_default() -> Policy:
    raw_bytes = resources.files("bot").joinpath("policy.toml").read_bytes()
    return _parse_bytes(raw_bytes, "bot/policy.toml (packaged default)")


@lru_cache(maxsize=8)
def _load_file(source: str, mtime_ns: int, size: int) -> Policy:
    try:
        raw_bytes = Path(source).read_bytes()
    except OSError as exc:
        raise PolicyError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    return _parse_bytes(raw_bytes, source)


def _parse_bytes(raw_bytes: bytes, source: str) -> Policy:
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from None
    policy = parse_policy(raw, source)
    logger.info("loaded policy %s from %s", policy.version, source)
    return policy


def parse_policy(raw: Mapping[str, Any], source: str = "<policy>") -> Policy:
    """Validate a parsed TOML mapping and build the Policy (raises PolicyError)."""
    p = _Parser()
    policy = p.policy(raw, source)
    if p.problems:
        raise PolicyError(source, p.problems)
    assert policy is not None
    return policy


_TOP_KEYS = ("version", "non_overridable_stop_conditions", "risk", "stop_conditions", "readiness", "approvers",
             "rollout", "text_signals", "eu_ai_act", "nist_ai_rmf", "iso_42001")
_NIST_FUNCTIONS = ("govern", "map", "measure", "manage")


class _Parser:
    """Reads the raw TOML, collecting every problem as "key.path: what is wrong"."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    # --- primitives
    def table(self, d: Any, key: str, path: str) -> dict[str, Any]:
        value = d.get(key) if isinstance(d, Mapping) else None
        if not isinstance(value, dict):
            self.bad(_join(path, key), "missing table" if value is None else "must be a table")
            return {}
        return value

    def tables(self, d: Any, key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        value = d.get(key) if isinstance(d, Mapping) else None
        where = _join(path, key)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            self.bad(where, "must be a non-empty array of tables ([[...]])")
            return []
        return [(f"{where}[{i}]", v) for i, v in enumerate(value)]

    def text(self, d: Mapping[str, Any], key: str, path: str, placeholders: frozenset[str] | None = None,
             allow_empty: bool = False) -> str:
        value = d.get(key)
        where = _join(path, key)
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            self.bad(where, "must be a non-empty string" if not allow_empty else "must be a string")
            return ""
        if placeholders is not None:
            try:
                names = {n for _, n, _, _ in string.Formatter().parse(value) if n is not None}
            except ValueError as exc:
                self.bad(where, f"bad placeholder: {exc}")
                return ""
            unknown = names - placeholders
            if unknown:
                self.bad(where, f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: "
                         + ", ".join("{" + n + "}" for n in sorted(placeholders)))
        return value

    def codes(self, d: Mapping[str, Any], key: str, path: str, allowed: Iterable[str] | None,
              required: bool = True) -> tuple[str, ...]:
        value = d.get(key)
        where = _join(path, key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or (required and not value):
            self.bad(where, "must be a non-empty list of strings")
            return ()
        if allowed is not None:
            allowed = tuple(allowed)
            for v in value:
                if v not in allowed:
                    self.bad(where, f"unknown value {v!r}; allowed: {', '.join(allowed)}")
        return tuple(value)

    def unknown_keys(self, d: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = tuple(allowed)
        for k in d:
            if k not in allowed:
                self.bad(_join(path, k), f"unknown key; allowed: {', '.join(allowed)}")

    def condition(self, d: Mapping[str, Any], path: str, forbid: tuple[str, ...] = ()) -> Condition:
        where = _join(path, "when")
        when = d.get("when")
        if not isinstance(when, dict) or not when:
            self.bad(where, "must be a non-empty table, e.g. when = { actions_any = [\"change_billing\"] }")
            return Condition()
        self.unknown_keys(when, CONDITION_KEYS, where)
        for k in forbid:
            if k in when:
                self.bad(_join(where, k), "not allowed here")
        kw: dict[str, Any] = {}
        vocab = {"actions_any": domain.ACTIONS, "data_any": domain.DATA, "audience_in": domain.AUDIENCE,
                 "use_area_in": domain.USE_AREA, "risk_in": domain.RISK_LEVELS, "tier_in": _TIERS}
        for k, allowed in vocab.items():
            if k in when:
                kw[k] = frozenset(self.codes(when, k, where, allowed))
        for k in ("present", "blank"):
            if k in when:
                kw[k] = self.codes(when, k, where, domain.FIELDS)
        for k in ("always", "stop_any"):
            if k in when:
                if when[k] is not True:
                    self.bad(_join(where, k), "must be true (leave the key out otherwise)")
                kw[k] = True
        if "equals" in when:
            kw["equals"] = tuple(sorted(self._equals(when["equals"], _join(where, "equals")).items()))
        if "field_in" in when:
            kw["field_in"] = tuple(sorted(self._field_in(when["field_in"], _join(where, "field_in")).items()))
        return Condition(**kw)

    def _equals(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict) or not value:
            self.bad(where, "must be a non-empty table of key = value")
            return {}
        out = {}
        for k, v in value.items():
            spec = domain.FIELDS.get(k)
            if spec is None or spec.kind not in ("bool", "enum"):
                ok = [f.key for f in domain.FIELDS.values() if f.kind in ("bool", "enum")]
                self.bad(_join(where, k), f"not a yes/no or choice key; allowed: {', '.join(ok)}")
            elif spec.kind == "bool" and not isinstance(v, bool):
                self.bad(_join(where, k), "must be true or false")
            elif spec.kind == "enum" and v not in spec.choices:
                self.bad(_join(where, k), f"unknown value {v!r}; allowed: {', '.join(spec.choices)}")
            else:
                out[k] = v
        return out

    def _field_in(self, value: Any, where: str) -> dict[str, frozenset[str]]:
        if not isinstance(value, dict) or not value:
            self.bad(where, "must be a non-empty table of key = [values]")
            return {}
        out = {}
        for k in value:
            spec = domain.FIELDS.get(k)
            if spec is None or spec.kind != "enum":
                ok = [f.key for f in domain.FIELDS.values() if f.kind == "enum"]
                self.bad(_join(where, k), f"not a choice key; allowed: {', '.join(ok)}")
                continue
            out[k] = frozenset(self.codes(value, k, where, spec.choices))
        return out

    # --- sections
    def policy(self, raw: Mapping[str, Any], source: str) -> Policy | None:
        self.unknown_keys(raw, _TOP_KEYS, "")
        version = raw.get("version")
        if not isinstance(version, (str, int, float)) or isinstance(version, bool) or not str(version).strip():
            self.bad("version", "must be a non-empty string")
        risk = self.table(raw, "risk", "")
        self.unknown_keys(risk, ("levels", "default_level", "default_reason", "rules"), "risk")
        levels = self.codes(risk, "levels", "risk", domain.RISK_LEVELS) or domain.RISK_LEVELS
        default_level = risk.get("default_level")
        if default_level not in levels:
            self.bad("risk.default_level", f"must be one of {', '.join(levels)}")
        risk_rules = []
        for path, r in self.tables(risk, "rules", "risk"):
            self.unknown_keys(r, ("level", "when"), path)
            if r.get("level") not in levels:
                self.bad(_join(path, "level"), f"must be one of {', '.join(levels)}")
            risk_rules.append(RiskRule(str(r.get("level")), self.condition(r, path, forbid=("risk_in", "stop_any"))))
        stops = []
        for path, r in self.tables(raw, "stop_conditions", ""):
            self.unknown_keys(r, ("code", "text", "when"), path)
            code = self.text(r, "code", path)
            if code and not re.fullmatch(r"[a-z][a-z0-9_]*", code):
                self.bad(_join(path, "code"), "must be a snake_case code")
            stops.append(StopRule(code, self.text(r, "text", path), self.condition(r, path, forbid=("stop_any",))))
        stop_codes = [s.code for s in stops]
        non_overridable = self.codes(raw, "non_overridable_stop_conditions", "", stop_codes, required=False)
        checks = []
        for path, r in self.tables(raw, "readiness", ""):
            self.unknown_keys(r, ("check", "present"), path)
            checks.append(ReadinessCheck(self.text(r, "check", path), self.codes(r, "present", path, domain.FIELDS)))
        if len({c.check for c in checks}) != len(checks):
            self.bad("readiness", "each check name must appear once")
        approvers = []
        for path, r in self.tables(raw, "approvers", ""):
            self.unknown_keys(r, ("role", "when"), path)
            if r.get("role") not in domain.ROLES:
                self.bad(_join(path, "role"), f"must be one of {', '.join(domain.ROLES)}")
            approvers.append(ApproverRule(str(r.get("role")), self.condition(r, path)))
        rollout = self.rollout(self.table(raw, "rollout", ""), levels)
        signals = self.signals(self.table(raw, "text_signals", ""))
        eu = self.eu(self.table(raw, "eu_ai_act", ""))
        nist_raw = self.table(raw, "nist_ai_rmf", "")
        self.unknown_keys(nist_raw, _NIST_FUNCTIONS, "nist_ai_rmf")
        nist = {fn: self.evidence(nist_raw, fn, "nist_ai_rmf", "item") for fn in _NIST_FUNCTIONS}
        iso_raw = self.table(raw, "iso_42001", "")
        self.unknown_keys(iso_raw, ("controls",), "iso_42001")
        iso = self.evidence(iso_raw, "controls", "iso_42001", "control")
        if self.problems:
            return None
        return Policy(
            version=str(version), source=source, risk_levels=tuple(levels), default_risk=str(default_level),
            default_risk_reason=self.text(risk, "default_reason", "risk"), risk_rules=tuple(risk_rules),
            stop_rules=tuple(stops), non_overridable_stop_conditions=tuple(non_overridable),
            readiness_checks=tuple(checks), approver_rules=tuple(approvers), rollout=rollout, signals=signals,
            eu_ai_act=eu, nist_ai_rmf=MappingProxyType(nist), iso_42001=iso,
        )

    def by_level(self, d: Mapping[str, Any], key: str, path: str, levels: Iterable[str]) -> Mapping[str, str]:
        t = self.table(d, key, path)
        where = _join(path, key)
        self.unknown_keys(t, levels, where)
        return MappingProxyType({lv: self.text(t, lv, where, ROLLOUT_PLACEHOLDERS) for lv in levels})

    def rollout(self, r: dict[str, Any], levels: tuple[str, ...]) -> Rollout:
        keys = ("approval_checkpoint", "logging_requirement", "must_stay_human", "missing_owner",
                "missing_rollback_path", "missing_value_metric", "missing_exception_path")
        self.unknown_keys(r, keys, "rollout")
        human = self.table(r, "must_stay_human", "rollout")
        hp = "rollout.must_stay_human"
        self.unknown_keys(human, ("prefix", "default", "actions", "data", "tiers"), hp)

        def texts(key: str, allowed: tuple[str, ...]) -> Mapping[str, str]:
            t = human.get(key, {})
            if not isinstance(t, dict):
                self.bad(_join(hp, key), "must be a table")
                return MappingProxyType({})
            self.unknown_keys(t, allowed, _join(hp, key))
            return MappingProxyType({k: self.text(t, k, _join(hp, key)) for k in t if k in allowed})

        return Rollout(
            approval_checkpoint=self.by_level(r, "approval_checkpoint", "rollout", levels),
            logging_requirement=self.by_level(r, "logging_requirement", "rollout", levels),
            missing_owner=self.text(r, "missing_owner", "rollout"),
            missing_rollback_path=self.text(r, "missing_rollback_path", "rollout"),
            missing_value_metric=self.text(r, "missing_value_metric", "rollout"),
            missing_exception_path=self.text(r, "missing_exception_path", "rollout"),
            must_stay_human_prefix=self.text(human, "prefix", hp, ROLLOUT_PLACEHOLDERS),
            must_stay_human_default=self.text(human, "default", hp, ROLLOUT_PLACEHOLDERS),
            must_stay_human_actions=texts("actions", domain.ACTIONS),
            must_stay_human_data=texts("data", domain.DATA),
            must_stay_human_tiers=texts("tiers", _TIERS),
        )

    def signals(self, t: dict[str, Any]) -> TextSignals:
        path = "text_signals"
        self.unknown_keys(t, ("fields", "max_gap", "negation_window", "negations", "clause_words",
                              "passive_auxiliaries", "gap_breakers", "noun_heads", "noun_markers",
                              "noun_prepositions", "reading_verbs", "rules"), path)
        fields_ = self.codes(t, "fields", path, domain.FREE_TEXT_KEYS)
        numbers = {}
        for k in ("max_gap", "negation_window"):
            v = t.get(k)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 8:
                self.bad(_join(path, k), "must be a whole number from 0 to 8")
                v = 0
            numbers[k] = v
        words = {k: tuple(w.lower() for w in self.codes(t, k, path, None))
                 for k in ("negations", "clause_words", "passive_auxiliaries", "gap_breakers", "noun_heads",
                           "noun_markers", "noun_prepositions", "reading_verbs")}
        rules = self.tables(t, "rules", path)
        for rpath, r in rules:
            self.unknown_keys(r, ("kind", "code", "verbs", "objects", "connectors", "standalone", "phrases",
                                  "passive", "max_gap"), rpath)
            kind = r.get("kind")
            if kind not in ("actions", "data"):
                self.bad(_join(rpath, "kind"), "must be one of actions, data")
            elif r.get("code") not in (domain.ACTIONS if kind == "actions" else domain.DATA):
                allowed = domain.ACTIONS if kind == "actions" else domain.DATA
                self.bad(_join(rpath, "code"), f"unknown {kind} code {r.get('code')!r}; allowed: {', '.join(allowed)}")
            for k in ("verbs", "objects", "connectors", "standalone", "phrases"):
                if k in r:
                    self.codes(r, k, rpath, None)
            if ("verbs" in r) != ("objects" in r):
                self.bad(rpath, "verbs and objects go together")
            if not any(k in r for k in ("verbs", "standalone", "phrases")):
                self.bad(rpath, "needs verbs and objects, standalone or phrases")
        from bot.classifier import build_detectors, build_index, inflect_verb  # the classifier owns the grammar

        detectors, regex_problems = build_detectors([r for _, r in rules], [p for p, _ in rules], words,
                                                    numbers["max_gap"])
        self.problems.extend(regex_problems)
        negs = words["negations"]
        return TextSignals(
            fields=fields_, detectors=detectors, index=build_index(detectors),
            negations=frozenset(n for n in negs if " " not in n),
            negation_phrases=tuple(n for n in negs if " " in n),
            negation_window=numbers["negation_window"],
            clause_words=frozenset(words["clause_words"]),
            noun_markers=frozenset(words["noun_markers"]),
            noun_prepositions=frozenset(words["noun_prepositions"]),
            reading_forms=frozenset(f for v in words["reading_verbs"] for f in inflect_verb(v)),
        )

    def eu(self, t: dict[str, Any]) -> EuAiAct:
        path = "eu_ai_act"
        self.unknown_keys(t, ("tiers", "default_basis", "tier_rules", "duties", "areas", "prohibited_practices"), path)
        tiers = self.codes(t, "tiers", path, _TIERS)
        if tiers and tuple(tiers) != _TIERS:
            self.bad(_join(path, "tiers"), f"must list {', '.join(_TIERS)} in this order")
        rules = []
        for rpath, r in self.tables(t, "tier_rules", path):
            self.unknown_keys(r, ("tier", "basis", "when"), rpath)
            if r.get("tier") not in _TIERS:
                self.bad(_join(rpath, "tier"), f"must be one of {', '.join(_TIERS)}")
            rules.append(TierRule(str(r.get("tier")), self.text(r, "basis", rpath, BASIS_PLACEHOLDERS),
                                  self.condition(r, rpath, forbid=("tier_in", "risk_in", "stop_any"))))
        duties = []
        for rpath, r in self.tables(t, "duties", path):
            self.unknown_keys(r, ("text", "when"), rpath)
            duties.append(Duty(self.text(r, "text", rpath), self.condition(r, rpath, forbid=("risk_in", "stop_any"))))
        areas_raw = self.table(t, "areas", path)
        areas = {}
        for code in domain.USE_AREA:
            a = self.table(areas_raw, code, _join(path, "areas"))
            ap = f"{path}.areas.{code}"
            self.unknown_keys(a, ("label", "annex_iii_point", "help"), ap)
            areas[code] = AreaInfo(self.text(a, "label", ap), self.text(a, "annex_iii_point", ap, allow_empty=True),
                                   self.text(a, "help", ap))
        self.unknown_keys(areas_raw, domain.USE_AREA, _join(path, "areas"))
        prac_raw = self.table(t, "prohibited_practices", path)
        practices = {}
        for code in domain.PROHIBITED_PRACTICES:
            a = self.table(prac_raw, code, _join(path, "prohibited_practices"))
            ap = f"{path}.prohibited_practices.{code}"
            self.unknown_keys(a, ("label", "article", "help"), ap)
            practices[code] = PracticeInfo(self.text(a, "label", ap), self.text(a, "article", ap), self.text(a, "help", ap))
        self.unknown_keys(prac_raw, domain.PROHIBITED_PRACTICES, _join(path, "prohibited_practices"))
        return EuAiAct(tuple(tiers), self.text(t, "default_basis", path), tuple(rules), tuple(duties),
                       MappingProxyType(areas), MappingProxyType(practices))

    def evidence(self, t: dict[str, Any], key: str, path: str, code_key: str) -> tuple[EvidenceItem, ...]:
        out = []
        for rpath, r in self.tables(t, key, path):
            self.unknown_keys(r, (code_key, "label", "when"), rpath)
            out.append(EvidenceItem(self.text(r, code_key, rpath), self.text(r, "label", rpath),
                                    self.condition(r, rpath, forbid=("risk_in", "stop_any"))))
        codes = [e.code for e in out]
        if len(set(codes)) != len(codes):
            self.bad(_join(path, key), f"each {code_key} must appear once")
        return tuple(out)


_TIERS = ("minimal", "limited", "high", "prohibited")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
