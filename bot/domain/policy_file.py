"""The policy file's parser and validator: a parsed TOML mapping in, the records of
`bot.domain.policy` out, every bad key named in `problems` (`parse_policy` raises
them as one PolicyError).
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.domain import proposal
from bot.domain.duties import DEFAULT_AUTONOMY_CEILING
from bot.domain.policy import (
    BASIS_PLACEHOLDERS,
    CONDITION_KEYS,
    DEFAULT_DRIFT_AFTER_DAYS,
    DEFAULT_REVIEW_DAYS,
    ROLLOUT_PLACEHOLDERS,
    ApproverRule,
    AreaInfo,
    Condition,
    Duty,
    EuAiAct,
    EvidenceItem,
    Policy,
    PolicyError,
    PracticeInfo,
    ReadinessCheck,
    RiskRule,
    Rollout,
    StopRule,
    TextSignals,
    TierRule,
    logger,
)
from bot.domain.similarity import SimilarityRules

_TOP_KEYS = (
    "version",
    "non_overridable_stop_conditions",
    "risk",
    "stop_conditions",
    "readiness",
    "approvers",
    "rollout",
    "text_signals",
    "eu_ai_act",
    "nist_ai_rmf",
    "iso_42001",
    "reassessment",
    "similarity",
    "gates",
)
_NIST_FUNCTIONS = ("govern", "map", "measure", "manage")


class Parser:
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

    def text(
        self,
        d: Mapping[str, Any],
        key: str,
        path: str,
        placeholders: frozenset[str] | None = None,
        allow_empty: bool = False,
    ) -> str:
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
                self.bad(
                    where,
                    f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: "
                    + ", ".join("{" + n + "}" for n in sorted(placeholders)),
                )
        return value

    def codes(
        self, d: Mapping[str, Any], key: str, path: str, allowed: Iterable[str] | None, required: bool = True
    ) -> tuple[str, ...]:
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
            self.bad(where, 'must be a non-empty table, e.g. when = { actions_any = ["change_billing"] }')
            return Condition()
        self.unknown_keys(when, CONDITION_KEYS, where)
        for k in forbid:
            if k in when:
                self.bad(_join(where, k), "not allowed here")
        kw: dict[str, Any] = {}
        vocab = {
            "actions_any": proposal.ACTIONS,
            "data_any": proposal.DATA,
            "audience_in": proposal.AUDIENCE,
            "use_area_in": proposal.USE_AREA,
            "risk_in": proposal.RISK_LEVELS,
            "tier_in": _TIERS,
        }
        for k, allowed in vocab.items():
            if k in when:
                kw[k] = frozenset(self.codes(when, k, where, allowed))
        for k in ("present", "blank"):
            if k in when:
                kw[k] = self.codes(when, k, where, proposal.FIELDS)
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
            spec = proposal.FIELDS.get(k)
            if spec is None or spec.kind not in ("bool", "enum"):
                ok = [f.key for f in proposal.FIELDS.values() if f.kind in ("bool", "enum")]
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
            spec = proposal.FIELDS.get(k)
            if spec is None or spec.kind != "enum":
                ok = [f.key for f in proposal.FIELDS.values() if f.kind == "enum"]
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
        levels = self.codes(risk, "levels", "risk", proposal.RISK_LEVELS) or proposal.RISK_LEVELS
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
            checks.append(ReadinessCheck(self.text(r, "check", path), self.codes(r, "present", path, proposal.FIELDS)))
        if len({c.check for c in checks}) != len(checks):
            self.bad("readiness", "each check name must appear once")
        approvers = []
        for path, r in self.tables(raw, "approvers", ""):
            self.unknown_keys(r, ("role", "when", "quorum"), path)
            if r.get("role") not in proposal.ROLES:
                self.bad(_join(path, "role"), f"must be one of {', '.join(proposal.ROLES)}")
            quorum = r.get("quorum", 1)
            if not _whole(quorum, 1, 50):
                self.bad(_join(path, "quorum"), "must be a whole number of approvals from 1 to 50")
                quorum = 1
            elif quorum > 1 and r.get("role") == "owner":
                self.bad(_join(path, "quorum"), "must be 1 for the owner: a proposal names one owner")
            approvers.append(ApproverRule(str(r.get("role")), self.condition(r, path), int(quorum)))
        rollout = self.rollout(self.table(raw, "rollout", ""), levels)
        signals = self.signals(self.table(raw, "text_signals", ""))
        eu = self.eu(self.table(raw, "eu_ai_act", ""))
        nist_raw = self.table(raw, "nist_ai_rmf", "")
        self.unknown_keys(nist_raw, _NIST_FUNCTIONS, "nist_ai_rmf")
        nist = {fn: self.evidence(nist_raw, fn, "nist_ai_rmf", "item") for fn in _NIST_FUNCTIONS}
        iso_raw = self.table(raw, "iso_42001", "")
        self.unknown_keys(iso_raw, ("controls",), "iso_42001")
        iso = self.evidence(iso_raw, "controls", "iso_42001", "control")
        review_days, drift_after_days = self.reassessment(raw, levels)
        min_pilot_days = self.min_pilot_days(raw)
        similarity = self.similarity(raw["similarity"]) if "similarity" in raw else None
        ceiling = self.gates(raw, levels)
        if self.problems:
            return None
        return Policy(
            version=str(version),
            source=source,
            risk_levels=tuple(levels),
            default_risk=str(default_level),
            default_risk_reason=self.text(risk, "default_reason", "risk"),
            risk_rules=tuple(risk_rules),
            stop_rules=tuple(stops),
            non_overridable_stop_conditions=tuple(non_overridable),
            readiness_checks=tuple(checks),
            approver_rules=tuple(approvers),
            rollout=rollout,
            signals=signals,
            eu_ai_act=eu,
            nist_ai_rmf=MappingProxyType(nist),
            iso_42001=iso,
            review_days=review_days,
            drift_after_days=drift_after_days,
            min_pilot_days=min_pilot_days,
            content_hash=content_hash(raw),
            similarity=similarity if similarity is not None else _default_similarity(source),
            autonomy_ceiling=ceiling,
        )

    def reassessment(self, raw: Mapping[str, Any], levels: Iterable[str]) -> tuple[Mapping[str, int], int]:
        """The optional [reassessment] section: `review_days` by risk level and
        `drift_after_days` (defaults when absent)."""
        if "reassessment" not in raw:
            return DEFAULT_REVIEW_DAYS, DEFAULT_DRIFT_AFTER_DAYS
        t = self.table(raw, "reassessment", "")
        self.unknown_keys(t, ("review_days", "drift_after_days"), "reassessment")
        days = dict(DEFAULT_REVIEW_DAYS)
        if "review_days" in t:
            given = self.table(t, "review_days", "reassessment")
            self.unknown_keys(given, tuple(levels), "reassessment.review_days")
            for level in levels:
                value = given.get(level)
                if isinstance(value, int) and _whole(value, 1, 3650):
                    days[level] = value
                else:
                    self.bad(f"reassessment.review_days.{level}", "must be a whole number of days from 1 to 3650")
        drift = t.get("drift_after_days", DEFAULT_DRIFT_AFTER_DAYS)
        if not _whole(drift, 0, 365):
            self.bad("reassessment.drift_after_days", "must be a whole number of days from 0 to 365")
            drift = DEFAULT_DRIFT_AFTER_DAYS
        return MappingProxyType(days), int(drift)

    def gates(self, raw: Mapping[str, Any], levels: Iterable[str]) -> Mapping[str, str]:
        """The optional [gates] section: `autonomy_ceiling` by risk level (the
        highest autonomy a workflow may run at; DESIGN.md defaults when absent)."""
        ceiling = dict(DEFAULT_AUTONOMY_CEILING)
        if "gates" not in raw:
            return MappingProxyType(ceiling)
        t = self.table(raw, "gates", "")
        self.unknown_keys(t, ("autonomy_ceiling", "min_pilot_days"), "gates")
        if "autonomy_ceiling" in t:
            given = self.table(t, "autonomy_ceiling", "gates")
            self.unknown_keys(given, tuple(levels), "gates.autonomy_ceiling")
            for level, value in given.items():
                if value not in proposal.AUTONOMY:
                    self.bad(f"gates.autonomy_ceiling.{level}", f"must be one of {', '.join(proposal.AUTONOMY)}")
                else:
                    ceiling[level] = value
        return MappingProxyType(ceiling)

    def min_pilot_days(self, raw: Mapping[str, Any]) -> int:
        """`[gates] min_pilot_days`: the least days a pilot runs before production (default 0)."""
        if "gates" not in raw:
            return 0
        t = self.table(raw, "gates", "")
        self.unknown_keys(t, ("autonomy_ceiling", "min_pilot_days"), "gates")
        days = t.get("min_pilot_days", 0)
        if not _whole(days, 0, 3650):
            self.bad("gates.min_pilot_days", "must be a whole number of days from 0 to 3650")
            return 0
        return int(days)

    def by_level(self, d: Mapping[str, Any], key: str, path: str, levels: Iterable[str]) -> Mapping[str, str]:
        t = self.table(d, key, path)
        where = _join(path, key)
        self.unknown_keys(t, levels, where)
        return MappingProxyType({lv: self.text(t, lv, where, ROLLOUT_PLACEHOLDERS) for lv in levels})

    def rollout(self, r: dict[str, Any], levels: tuple[str, ...]) -> Rollout:
        keys = (
            "approval_checkpoint",
            "logging_requirement",
            "must_stay_human",
            "missing_owner",
            "missing_rollback_path",
            "missing_value_metric",
            "missing_exception_path",
        )
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
            must_stay_human_actions=texts("actions", proposal.ACTIONS),
            must_stay_human_data=texts("data", proposal.DATA),
            must_stay_human_tiers=texts("tiers", _TIERS),
        )

    def signals(self, t: dict[str, Any]) -> TextSignals:
        from bot.domain.lexicon import (
            FLAG_KINDS,
            KINDS,
            build_detectors,
            build_index,
            human_subject_regex,
            inflect_verb,
            noun_forms,
        )

        path = "text_signals"
        word_lists = (
            "negations",
            "clause_words",
            "passive_auxiliaries",
            "gap_breakers",
            "noun_heads",
            "noun_markers",
            "noun_prepositions",
            "reading_verbs",
        )
        optional_lists = ("human_subjects", "human_auxiliaries", "compound_heads")
        self.unknown_keys(
            t, ("fields", "max_gap", "negation_window", *word_lists, *optional_lists, "terms", "rules"), path
        )
        terms: dict[str, tuple[str, ...]] = {}
        raw_terms = t.get("terms", {})
        if not isinstance(raw_terms, dict):
            self.bad(_join(path, "terms"), "must be a table of named word lists")
            raw_terms = {}
        for name in raw_terms:
            if not re.fullmatch(r"[a-z][a-z_]*", name):
                self.bad(_join(path, f"terms.{name}"), "a term name is lower-case letters and _")
                continue
            terms[name] = tuple(w.lower() for w in self.codes(raw_terms, name, _join(path, "terms"), None))
        fields_ = self.codes(t, "fields", path, proposal.FREE_TEXT_KEYS)
        numbers = {}
        for k in ("max_gap", "negation_window"):
            v = t.get(k)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 8:
                self.bad(_join(path, k), "must be a whole number from 0 to 8")
                v = 0
            numbers[k] = v
        words = {k: tuple(w.lower() for w in self.codes(t, k, path, None)) for k in word_lists}
        optional = {k: tuple(w.lower() for w in self.codes(t, k, path, None, required=False)) for k in optional_lists}
        # nouns are listed once: their plurals come from the lemmatiser ("policy" -> policies)
        words["noun_heads"] = tuple(dict.fromkeys(f for w in words["noun_heads"] for f in noun_forms(w)))
        optional["human_subjects"] = tuple(dict.fromkeys(f for w in optional["human_subjects"] for f in noun_forms(w)))
        allowed_codes: dict[str, tuple[str, ...]] = {
            "actions": proposal.ACTIONS,
            "data": proposal.DATA,
            "use_area": tuple(a for a in proposal.USE_AREA if a != "none"),
            "prohibited_practices": proposal.PROHIBITED_PRACTICES,
        }
        rules = self.tables(t, "rules", path)
        for rpath, r in rules:
            self.unknown_keys(
                r,
                (
                    "kind",
                    "code",
                    "verbs",
                    "objects",
                    "connectors",
                    "standalone",
                    "phrases",
                    "context",
                    "noun_heads",
                    "passive",
                    "max_gap",
                ),
                rpath,
            )
            kind = r.get("kind")
            if kind not in KINDS:
                self.bad(_join(rpath, "kind"), f"must be one of {', '.join(KINDS)}")
            elif kind in FLAG_KINDS:
                if "code" in r:
                    self.bad(_join(rpath, "code"), f"not allowed for kind {kind} (the words set it to true)")
            elif r.get("code") not in allowed_codes[kind]:
                allowed = allowed_codes[kind]
                self.bad(_join(rpath, "code"), f"unknown {kind} code {r.get('code')!r}; allowed: {', '.join(allowed)}")
            for k in ("verbs", "objects", "connectors", "standalone", "phrases", "context", "noun_heads"):
                if k in r:
                    self.codes(r, k, rpath, None)
            if ("verbs" in r) != ("objects" in r):
                self.bad(rpath, "verbs and objects go together")
            if not any(k in r for k in ("verbs", "standalone", "phrases")):
                self.bad(rpath, "needs verbs and objects, standalone or phrases")
        detectors, regex_problems = build_detectors(
            [r for _, r in rules], [p for p, _ in rules], words | optional, numbers["max_gap"], terms
        )
        self.problems.extend(regex_problems)
        negs = words["negations"]
        return TextSignals(
            fields=fields_,
            detectors=detectors,
            index=build_index(detectors),
            negations=frozenset(n for n in negs if " " not in n),
            negation_phrases=tuple(n for n in negs if " " in n),
            negation_window=numbers["negation_window"],
            clause_words=frozenset(words["clause_words"]),
            noun_markers=frozenset(words["noun_markers"]),
            noun_prepositions=frozenset(words["noun_prepositions"]),
            reading_forms=frozenset(f for v in words["reading_verbs"] for f in inflect_verb(v)),
            human_subject=human_subject_regex(optional["human_subjects"], optional["human_auxiliaries"]),
            unanchored=frozenset(
                i for i, d in enumerate(detectors) if d.other_re is not None and d.other_anchors is None
            ),
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
            rules.append(
                TierRule(
                    str(r.get("tier")),
                    self.text(r, "basis", rpath, BASIS_PLACEHOLDERS),
                    self.condition(r, rpath, forbid=("tier_in", "risk_in", "stop_any")),
                )
            )
        duties = []
        for rpath, r in self.tables(t, "duties", path):
            self.unknown_keys(r, ("text", "when"), rpath)
            duties.append(Duty(self.text(r, "text", rpath), self.condition(r, rpath, forbid=("risk_in", "stop_any"))))
        areas_raw = self.table(t, "areas", path)
        areas = {}
        for code in proposal.USE_AREA:
            a = self.table(areas_raw, code, _join(path, "areas"))
            ap = f"{path}.areas.{code}"
            self.unknown_keys(a, ("label", "annex_iii_point", "help"), ap)
            areas[code] = AreaInfo(
                self.text(a, "label", ap),
                self.text(a, "annex_iii_point", ap, allow_empty=True),
                self.text(a, "help", ap),
            )
        self.unknown_keys(areas_raw, proposal.USE_AREA, _join(path, "areas"))
        prac_raw = self.table(t, "prohibited_practices", path)
        practices = {}
        for code in proposal.PROHIBITED_PRACTICES:
            a = self.table(prac_raw, code, _join(path, "prohibited_practices"))
            ap = f"{path}.prohibited_practices.{code}"
            self.unknown_keys(a, ("label", "article", "help"), ap)
            practices[code] = PracticeInfo(
                self.text(a, "label", ap), self.text(a, "article", ap), self.text(a, "help", ap)
            )
        self.unknown_keys(prac_raw, proposal.PROHIBITED_PRACTICES, _join(path, "prohibited_practices"))
        return EuAiAct(
            tuple(tiers),
            self.text(t, "default_basis", path),
            tuple(rules),
            tuple(duties),
            MappingProxyType(areas),
            MappingProxyType(practices),
        )

    def similarity(self, t: Any) -> SimilarityRules | None:
        """`[similarity]` (optional; a policy without it takes the packaged default's)."""
        path = "similarity"
        if not isinstance(t, dict):
            self.bad(path, "must be a table")
            return None
        allowed = ("threshold", "embeddings_threshold", "shown", "synonyms", "generic_words")
        self.unknown_keys(t, allowed, path)
        numbers: dict[str, float] = {}
        for k in ("threshold", "embeddings_threshold"):
            v = t.get(k)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 1:
                self.bad(_join(path, k), "must be a number above 0 and at most 1")
                v = 1.0
            numbers[k] = float(v)
        shown = t.get("shown")
        if not isinstance(shown, int) or isinstance(shown, bool) or not 1 <= shown <= 10:
            self.bad(_join(path, "shown"), "must be a whole number from 1 to 10")
            shown = 3
        groups: list[tuple[str, ...]] = []
        raw_groups = t.get("synonyms", [])
        if not isinstance(raw_groups, list):
            self.bad(_join(path, "synonyms"), 'must be a list of lists of words, e.g. [["invoice", "bill"]]')
            raw_groups = []
        for i, group in enumerate(raw_groups):
            where = f"{path}.synonyms[{i}]"
            if (
                not isinstance(group, list)
                or len(group) < 2
                or not all(isinstance(w, str) and w.strip() for w in group)
            ):
                self.bad(where, "must list two or more words or phrases that mean the same")
                continue
            groups.append(tuple(w.strip() for w in group))
        generic = self.codes(t, "generic_words", path, None, required=False)
        return SimilarityRules(
            threshold=numbers["threshold"],
            embeddings_threshold=numbers["embeddings_threshold"],
            shown=shown,
            synonyms=tuple(groups),
            generic_words=tuple(generic),
        )

    def evidence(self, t: dict[str, Any], key: str, path: str, code_key: str) -> tuple[EvidenceItem, ...]:
        out = []
        for rpath, r in self.tables(t, key, path):
            self.unknown_keys(r, (code_key, "label", "when"), rpath)
            out.append(
                EvidenceItem(
                    self.text(r, code_key, rpath),
                    self.text(r, "label", rpath),
                    self.condition(r, rpath, forbid=("risk_in", "stop_any")),
                )
            )
        # the same code may appear again: its conditions are OR-ed, like the risk rules
        return tuple(out)


_TIERS = ("minimal", "limited", "high", "prohibited")


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def content_hash(raw: Mapping[str, Any]) -> str:
    """sha256 of a parsed policy's content: the same rules give the same hash whatever
    the comments, layout or key order of the file."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_policy_text(text: str, source: str = "<policy>") -> Policy:
    """Parse and validate policy TOML text (raises PolicyError naming every problem)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from None
    return parse_policy(raw, source)


def packaged_policy_text() -> str:
    """The text of the packaged default policy `bot/policy.toml`."""
    return resources.files("bot").joinpath("policy.toml").read_text(encoding="utf-8")


def _default_similarity(source: str) -> SimilarityRules:
    """The packaged default's `[similarity]`, for a policy file written before it existed."""
    if source == _DEFAULT_SOURCE:
        return SimilarityRules()
    return _load_default().similarity


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


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


_DEFAULT_SOURCE = "bot/policy.toml (packaged default)"


@lru_cache(maxsize=1)
def _load_default() -> Policy:
    raw_bytes = resources.files("bot").joinpath("policy.toml").read_bytes()
    return _parse_bytes(raw_bytes, _DEFAULT_SOURCE)


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

    p = Parser()
    policy = p.policy(raw, source)
    if p.problems:
        raise PolicyError(source, p.problems)
    assert policy is not None
    return policy
