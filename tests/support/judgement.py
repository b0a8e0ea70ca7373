"""The labelled proposals of `labelled_proposals.toml` and how well the classifier reads
them: per-label precision and recall (actions, data classes, use areas, prohibited
practices, the yes/no regulatory answers), tier and risk-level accuracy and confusion.

Used by tests/unit/test_classifier_judgement.py (the floors) and bench/judgement.py
(`make bench` prints the figures). The prediction is what `classify` decides: its
risk level, tier and effective data and actions, and the effective regulatory answers
it judged them on (`bot.domain.regulatory.effective_answers`, which `classify` uses).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain import proposal
from bot.domain.classifier import classify, detect
from bot.domain.policy import Policy
from bot.domain.regulatory import effective_answers

CASES_FILE = Path(__file__).with_name("labelled_proposals.toml")
# Every labelled set, in the order they were written; only the first was written before
# the lexicon was tuned. Held-out 3 was untouched until branch `words` studied its misses;
# the last ("unseen") was committed before that branch changed the lexicon, measured once
# after, and never tuned on (see their headers).
SETS = {
    "labelled": CASES_FILE,
    "held-out 1 (dev)": Path(__file__).with_name("labelled_holdout.toml"),
    "held-out 2 (dev)": Path(__file__).with_name("labelled_fresh.toml"),
    "held-out 3 (dev)": Path(__file__).with_name("labelled_final.toml"),
    "unseen held-out (untouched)": Path(__file__).with_name("labelled_unseen.toml"),
}
FLAGS = ("profiles_people", "interacts_with_people", "generates_content")
TIERS = ("minimal", "limited", "high", "prohibited")
RISKS = ("low", "medium", "high")
_TEXT = ("title", "description", "current_process", "expected_output")
_EXPECT_KEYS = ("risk", "tier", "actions", "data", "use_area", "prohibited_practices", *FLAGS)


@dataclass(frozen=True)
class Case:
    """One labelled proposal: what is written and declared, and the expected reading."""

    id: str
    answers: Mapping[str, Any]
    expect: Mapping[str, Any]


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """Every case of the file, with every expectation filled in (defaults for the
    ones left out). Raises ValueError naming a case with an unknown key or value."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    cases = []
    for row in raw["case"]:
        cid = row["id"]
        unknown = set(row) - {"id", "given", "expect", *_TEXT}
        if unknown:
            raise ValueError(f"case {cid}: unknown keys {sorted(unknown)}")
        answers = {k: row[k] for k in _TEXT if k in row} | dict(row.get("given") or {})
        proposal.validate_proposal(answers)  # a case must be a valid proposal
        given = dict(row["expect"])
        if set(given) - set(_EXPECT_KEYS):
            raise ValueError(f"case {cid}: unknown expectations {sorted(set(given) - set(_EXPECT_KEYS))}")
        expect = {
            "risk": given["risk"],
            "tier": given["tier"],
            "actions": sorted(given.get("actions", [])),
            "data": sorted(given.get("data", [])),
            "use_area": given.get("use_area", "none"),
            "prohibited_practices": sorted(given.get("prohibited_practices", [])),
        } | {f: bool(given.get(f, False)) for f in FLAGS}
        _check_codes(cid, expect)
        cases.append(Case(cid, answers, expect))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate case ids: {sorted(i for i, n in Counter(ids).items() if n > 1)}")
    return cases


def _check_codes(cid: str, expect: Mapping[str, Any]) -> None:
    vocab: dict[str, Sequence[str]] = {
        "actions": proposal.ACTIONS,
        "data": proposal.DATA,
        "prohibited_practices": proposal.PROHIBITED_PRACTICES,
    }
    for key, allowed in vocab.items():
        bad = [c for c in expect[key] if c not in allowed]
        if bad:
            raise ValueError(f"case {cid}: {key} has unknown codes {bad}")
    if expect["use_area"] not in proposal.USE_AREA or expect["risk"] not in RISKS or expect["tier"] not in TIERS:
        raise ValueError(f"case {cid}: unknown use_area, risk or tier")


def predict(case: Case, policy: Policy) -> dict[str, Any]:
    """What the classifier reads in a case, in the shape of `Case.expect`."""
    out = classify(case.answers, policy)
    answers = proposal.normalise(dict(case.answers))
    judged, _ = effective_answers(answers, detect(answers, policy).sources, policy)
    return {
        "risk": out["risk_level"],
        "tier": out["regulatory"]["eu_ai_act"]["tier"],
        "actions": out["effective"]["actions"],
        "data": out["effective"]["data"],
        "use_area": judged["use_area"],
        "prohibited_practices": sorted(judged["prohibited_practices"]),
    } | {f: judged[f] is True for f in FLAGS}


def labels(reading: Mapping[str, Any]) -> set[str]:
    """A reading as a set of binary labels: "actions:change_billing", "use_area:education",
    "prohibited_practices:social_scoring", "profiles_people"."""
    out = {f"{k}:{c}" for k in ("actions", "data", "prohibited_practices") for c in reading[k]}
    if reading["use_area"] != "none":
        out.add(f"use_area:{reading['use_area']}")
    out |= {f for f in FLAGS if reading[f]}
    return out


@dataclass(frozen=True)
class Score:
    """Counts for one label (or a group of labels)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def __add__(self, other: Score) -> Score:
        return Score(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass
class Report:
    """The figures of one run over the labelled set."""

    n: int
    per_label: dict[str, Score]
    tier_confusion: dict[tuple[str, str], int]  # (expected, predicted) -> count
    risk_confusion: dict[tuple[str, str], int]
    mistakes: dict[str, list[str]] = field(default_factory=dict)  # case id -> what went wrong

    def group(self, prefix: str) -> Score:
        """Micro-averaged counts over the labels of one kind ("actions:", "use_area:", ...)."""
        total = Score()
        for name, s in self.per_label.items():
            if name.startswith(prefix):
                total += s
        return total

    @property
    def overall(self) -> Score:
        total = Score()
        for s in self.per_label.values():
            total += s
        return total

    def accuracy(self, confusion: Mapping[tuple[str, str], int]) -> float:
        right = sum(n for (e, p), n in confusion.items() if e == p)
        return right / self.n if self.n else 1.0

    @property
    def tier_accuracy(self) -> float:
        return self.accuracy(self.tier_confusion)

    @property
    def risk_accuracy(self) -> float:
        return self.accuracy(self.risk_confusion)

    @property
    def tier_scores(self) -> dict[str, Score]:
        """One-vs-rest precision and recall per tier."""
        return {t: _one_vs_rest(self.tier_confusion, t) for t in TIERS}

    @property
    def risk_scores(self) -> dict[str, Score]:
        return {r: _one_vs_rest(self.risk_confusion, r) for r in RISKS}

    @property
    def missed_prohibited(self) -> int:
        """Cases labelled with a prohibited practice that came out below `prohibited`."""
        return sum(n for (e, p), n in self.tier_confusion.items() if e == "prohibited" and p != "prohibited")

    @property
    def plain_raised(self) -> int:
        """Cases a governance lead would keep below high risk (or below a high tier)
        that the classifier raised to high risk or to a high/prohibited tier."""
        risk = sum(n for (e, p), n in self.risk_confusion.items() if e != "high" and p == "high")
        tier = sum(
            n
            for (e, p), n in self.tier_confusion.items()
            if e not in ("high", "prohibited") and p in ("high", "prohibited")
        )
        return risk + tier


def _one_vs_rest(confusion: Mapping[tuple[str, str], int], value: str) -> Score:
    tp = confusion.get((value, value), 0)
    fp = sum(n for (e, p), n in confusion.items() if p == value and e != value)
    fn = sum(n for (e, p), n in confusion.items() if e == value and p != value)
    return Score(tp, fp, fn)


def evaluate(cases: Iterable[Case], policy: Policy) -> Report:
    """Run the classifier over the cases and count what it got right."""
    per_label: dict[str, Score] = {}
    tiers: Counter[tuple[str, str]] = Counter()
    risks: Counter[tuple[str, str]] = Counter()
    mistakes: dict[str, list[str]] = {}
    n = 0
    for case in cases:
        n += 1
        got = predict(case, policy)
        want, have = labels(case.expect), labels(got)
        for name in want | have:
            per_label[name] = per_label.get(name, Score()) + Score(
                int(name in want and name in have), int(name in have - want), int(name in want - have)
            )
        tiers[(case.expect["tier"], got["tier"])] += 1
        risks[(case.expect["risk"], got["risk"])] += 1
        wrong = [f"missed {x}" for x in sorted(want - have)] + [f"wrongly {x}" for x in sorted(have - want)]
        wrong += [f"{k} {case.expect[k]} read as {got[k]}" for k in ("tier", "risk") if got[k] != case.expect[k]]
        if wrong:
            mistakes[case.id] = wrong
    return Report(n, dict(sorted(per_label.items())), dict(tiers), dict(risks), mistakes)


def derived_risk_and_tier(case: Case, policy: Policy) -> tuple[str, str]:
    """The risk level and tier DESIGN.md's rules give for the case's own labels (its
    expected sets and answers): a check that the labels agree with each other."""
    e, given = case.expect, case.answers
    high_actions = {
        "change_production",
        "change_permissions",
        "change_billing",
        "change_customer_data",
        "security_decision",
        "publish_public",
    }
    narrow = given.get("narrow_procedural_task") is True
    if e["prohibited_practices"]:
        tier = "prohibited"
    elif e["use_area"] == "safety_component" or (e["use_area"] != "none" and (not narrow or e["profiles_people"])):
        tier = "high"
    elif e["interacts_with_people"] or e["generates_content"]:
        tier = "limited"
    else:
        tier = "minimal"
    if set(e["actions"]) & high_actions or "regulated" in e["data"] or tier in ("high", "prohibited"):
        risk = "high"
    elif (
        given.get("audience") in ("customer", "public", "team")
        or set(e["actions"]) & {"send_external", "update_records", "classify_route"}
        or set(e["data"]) & {"customer", "employee", "financial", "security", "source_code"}
    ):
        risk = "medium"
    else:
        risk = "low"
    return risk, tier


def summary(report: Report) -> dict[str, Any]:
    """The figures of a report as plain JSON (for bench/results.json)."""

    def counts(s: Score) -> dict[str, Any]:
        return {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4), "recall": round(s.recall, 4)}

    groups = {
        name: counts(report.group(prefix))
        for prefix, name in (
            ("actions:", "actions"),
            ("data:", "data"),
            ("use_area:", "use_areas"),
            ("prohibited_practices:", "prohibited_practices"),
        )
    }
    return {
        "n": report.n,
        "overall": counts(report.overall),
        "groups": groups,
        "per_label": {name: counts(s) for name, s in report.per_label.items()}
        | {f"tier:{t}": counts(s) for t, s in report.tier_scores.items()}
        | {f"risk:{r}": counts(s) for r, s in report.risk_scores.items()},
        "tier_accuracy": round(report.tier_accuracy, 4),
        "risk_accuracy": round(report.risk_accuracy, 4),
        "missed_prohibited": report.missed_prohibited,
        "plain_raised": report.plain_raised,
        "tier_confusion": [[e, p, n] for (e, p), n in sorted(report.tier_confusion.items())],
        "risk_confusion": [[e, p, n] for (e, p), n in sorted(report.risk_confusion.items())],
        "mistakes": report.mistakes,
    }


def table(figures: Mapping[str, Any], title: str, per_label: bool = True) -> str:
    """The figures of `summary` as plain text (for `make bench`)."""

    def pct(x: float) -> str:
        return f"{100 * x:5.1f}%"

    o = figures["overall"]
    lines = [
        f"{title}: {figures['n']} labelled proposals",
        f"  overall (every label)  precision {pct(o['precision'])}  recall {pct(o['recall'])}  "
        f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']})",
    ]
    for key, name in (
        ("actions", "actions"),
        ("data", "data classes"),
        ("use_areas", "use areas"),
        ("prohibited_practices", "prohibited practices"),
    ):
        g = figures["groups"][key]
        lines.append(f"  {name:<22} precision {pct(g['precision'])}  recall {pct(g['recall'])}")
    lines.append(
        f"  tier accuracy {pct(figures['tier_accuracy'])}   risk accuracy {pct(figures['risk_accuracy'])}   "
        f"prohibited practices missed {figures['missed_prohibited']}   "
        f"plain proposals raised to high {figures['plain_raised']}"
    )
    if not per_label:
        return "\n".join(lines)
    lines += ["", "  label                                                support  precision  recall"]
    for name, s in figures["per_label"].items():
        lines.append(f"  {name:<52} {s['tp'] + s['fn']:>7}  {pct(s['precision']):>9}  {pct(s['recall']):>6}")
    for name, key, values in (
        ("risk level", "risk_confusion", RISKS),
        ("EU AI Act tier", "tier_confusion", TIERS),
    ):
        confusion = {(e, p): n for e, p, n in figures[key]}
        lines += ["", f"  confusion of {name} (rows expected, columns read):"]
        lines.append("  " + " " * 12 + "".join(f"{v:>12}" for v in values))
        for e in values:
            lines.append(f"  {e:>12}" + "".join(f"{confusion.get((e, p), 0):>12}" for p in values))
    return "\n".join(lines)
