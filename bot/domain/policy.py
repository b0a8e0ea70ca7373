"""The classification policy: a TOML data file read once at start-up.

`load_policy()` reads the packaged default (`bot/policy.toml`, through importlib.resources,
never from the working directory) or a custom file, validates every key and precompiles
the text-signal regexes. A broken file raises `PolicyError` naming each bad key.

The rules are data; `Condition` is the one generic interpreter of their `when` tables
(see the header of policy.toml for the keys a condition may use). This module holds
the records; the loading, parser and validator are `bot.domain.policy_file`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.domain.duties import DEFAULT_AUTONOMY_CEILING
from bot.domain.lexicon import Detector, Index
from bot.domain.similarity import SimilarityRules

logger = logging.getLogger(__name__)

CONDITION_KEYS = (
    "always",
    "actions_any",
    "data_any",
    "audience_in",
    "use_area_in",
    "risk_in",
    "tier_in",
    "present",
    "blank",
    "equals",
    "field_in",
    "stop_any",
)
# Days after which a running workflow's answers are due for review, by risk level, and
# how long overdue a review may stand before it shows as governance drift (DESIGN.md,
# "After go-live"); the policy's optional [reassessment] section changes them.
DEFAULT_REVIEW_DAYS: Mapping[str, int] = MappingProxyType({"high": 90, "medium": 180, "low": 365})
DEFAULT_DRIFT_AFTER_DAYS = 14
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
        given = {
            k
            for k, v in self.answers.items()
            if not (v is None or v == "" or v == [] or v == () or (type(v) is str and v.isspace()))
        }
        given.discard("data")
        given.discard("actions")
        given.update(k for k, v in (("data", self.data), ("actions", self.actions)) if v)
        self.given = frozenset(given)

    def present(self, key: str) -> bool:
        """The key is answered (not blank); data and actions count their effective sets."""
        return key in self.given

    def item(self, kind: str, code: str) -> str:
        """ "actions include change_billing (from description: 'issues the refund')"."""
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
    quorum: int = 1  # approvals by distinct holders the role's request needs


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
    """The compiled text-signal lexicons (built by bot.domain.lexicon.build_detectors)."""

    fields: tuple[str, ...]
    detectors: tuple[Detector, ...]
    index: Index  # bot.domain.lexicon.build_index
    negations: frozenset[str]
    negation_phrases: tuple[str, ...]
    negation_window: int
    clause_words: frozenset[str]
    noun_markers: frozenset[str]
    noun_prepositions: frozenset[str]
    reading_forms: frozenset[str]
    human_subject: re.Pattern[str] | None = None  # bot.domain.lexicon.human_subject_regex
    unanchored: frozenset[int] = frozenset()  # detectors whose phrases are searched in the whole text


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
    review_days: Mapping[str, int] = field(default_factory=lambda: DEFAULT_REVIEW_DAYS)
    drift_after_days: int = DEFAULT_DRIFT_AFTER_DAYS
    min_pilot_days: int = 0  # `[gates] min_pilot_days`: no minimum pilot time unless set
    # sha256 of the parsed content (comments and layout do not count); with `version`
    # it is stamped on every classification the policy makes
    content_hash: str = ""
    similarity: SimilarityRules = SimilarityRules()  # `[similarity]`: near-duplicates (AI sprawl)
    # `[gates.autonomy_ceiling]`: the highest autonomy a workflow may run at, by risk level
    autonomy_ceiling: Mapping[str, str] = field(default_factory=lambda: DEFAULT_AUTONOMY_CEILING)

    @property
    def use_area_help(self) -> dict[str, str]:
        """Plain-language help for every `use_area` value (for the interview)."""
        return {code: info.help for code, info in self.eu_ai_act.areas.items()}

    @property
    def prohibited_practice_help(self) -> dict[str, str]:
        """ "Art. 5(1)(c) Social scoring: ..." for every prohibited-practice code."""
        return {c: f"{p.article} {p.label}: {p.help}" for c, p in self.eu_ai_act.prohibited_practices.items()}

    @property
    def stop_condition_texts(self) -> dict[str, str]:
        return {r.code: r.text for r in self.stop_rules}

    def is_overridable(self, code: str) -> bool:
        """Whether governance may override this stop condition with a written reason."""
        return code not in self.non_overridable_stop_conditions


# --------------------------------------------------------------------------- loading
