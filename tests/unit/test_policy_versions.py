"""Policy versions without a database: the content hash, the [reassessment] section,
comparing verdicts, where a problem is in the file, and the SQL-backed policy source
(with an in-memory store and a hand-moved clock)."""

from __future__ import annotations

import io
import sys

import pytest

from bot.cli import main
from bot.domain.policy import PolicyError
from bot.domain.policy_diff import counts, locate, verdict_change
from bot.domain.policy_file import load_policy, packaged_policy_text, parse_policy_text
from bot.domain.records import StoredVerdict
from bot.service.policy import ActivePolicy

DEFAULT = packaged_policy_text()


def _variant(version: str) -> str:
    return DEFAULT.replace('version = "2026.11-default"', f'version = "{version}"')


# --------------------------------------------------------------------------- content hash


def test_comments_and_layout_do_not_change_the_content_hash():
    reworded = "# an organisation's own header\n\n" + DEFAULT.replace("# Stop conditions that governance", "#   Stop")
    assert parse_policy_text(reworded).content_hash == load_policy().content_hash


def test_a_new_version_string_is_a_new_content_hash():
    assert parse_policy_text(_variant("2027.1")).content_hash != load_policy().content_hash


# --------------------------------------------------------------------------- [reassessment]


def test_review_days_default_by_risk_level_when_the_section_is_absent():
    start = DEFAULT.index("[reassessment]")
    policy = parse_policy_text(DEFAULT[:start])
    assert (dict(policy.review_days), policy.drift_after_days) == ({"high": 90, "medium": 180, "low": 365}, 14)


def test_review_days_come_from_the_policy():
    text = DEFAULT.replace("review_days = { high = 90,", "review_days = { high = 30,")
    assert parse_policy_text(text).review_days["high"] == 30


def test_bad_review_days_name_the_key_and_what_is_allowed():
    text = DEFAULT.replace("review_days = { high = 90,", 'review_days = { high = "soon", critical = 5,')
    with pytest.raises(PolicyError) as err:
        parse_policy_text(text)
    assert err.value.problems == [
        "reassessment.review_days.critical: unknown key; allowed: low, medium, high",
        "reassessment.review_days.high: must be a whole number of days from 1 to 3650",
    ]


# --------------------------------------------------------------------------- comparing verdicts

OLD = StoredVerdict(7, {}, "medium", "minimal", ("no_owner",), ("department_lead", "owner"))


def _new(risk: str = "medium", tier: str = "minimal", stops=("no_owner",), roles=("department_lead", "owner")):
    return {
        "risk_level": risk,
        "stop_conditions": list(stops),
        "approver_roles": list(roles),
        "regulatory": {"eu_ai_act": {"tier": tier}},
        "reasons": ["different words do not count"],
    }


def test_an_unchanged_verdict_is_not_listed():
    assert verdict_change(OLD, _new()) is None


def test_a_changed_verdict_lists_every_key_of_the_design():
    entry = verdict_change(OLD, _new("high", "limited", ("invisible_failure",), ("governance", "owner")))
    assert entry == {
        "id": 7,
        "risk_level": ["medium", "high"],
        "tier": ["minimal", "limited"],
        "stop_conditions_added": ["invisible_failure"],
        "stop_conditions_removed": ["no_owner"],
        "approver_roles_added": ["governance"],
        "approver_roles_removed": ["department_lead"],
    }


def test_counts_are_per_proposal():
    changed = [
        verdict_change(OLD, _new("high", stops=("no_owner", "invisible_failure", "unmeasurable_success"))),
        verdict_change(OLD, _new("low", stops=())),
        verdict_change(OLD, _new(tier="limited")),
    ]
    assert counts(changed) == {"risk_up": 1, "risk_down": 1, "tier_changed": 1, "stops_added": 1, "stops_removed": 1}


# --------------------------------------------------------------------------- locations


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("version: must be a non-empty string", 'version = "2026.11-default"'),
        ("risk.rules[2].level: must be one of low, medium, high", 'level = "high"'),
        ("risk.rules[2].when.tier_in: unknown value", 'when = { tier_in = ["high", "prohibited"] }'),
        ("stop_conditions[1].code: must be a snake_case code", 'code = "customer_data_without_review"'),
        ("reassessment.review_days.high: must be", "review_days = { high = 90, medium = 180, low = 365 }"),
        ("eu_ai_act.areas.none.label: must be a non-empty string", 'label = "None of these"'),
    ],
)
def test_a_problem_is_located_on_its_line(path, line):
    lines = DEFAULT.splitlines()
    at = locate(DEFAULT, path)
    assert (lines[at - 1] if at else None, lines.count(line) >= 1) == (line, True)


def test_check_names_every_problem_with_its_line_and_exits_2(tmp_path, monkeypatch):
    bad = DEFAULT.replace('default_level = "low"', 'default_level = "lowest"')
    bad = bad.replace("drift_after_days = 14", "drift_after_days = -1")
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    code = main(["policy", "check", str(path)], out=io.StringIO(), stdin=io.StringIO())
    lines = bad.splitlines()
    lowest = 'default_level = "lowest"'
    assert (code, err.getvalue().splitlines()) == (
        2,
        [
            f"govbot policy: {path}: line {lines.index(lowest) + 1}: "
            "risk.default_level: must be one of low, medium, high",
            f"govbot policy: {path}: line {lines.index('drift_after_days = -1') + 1}: "
            "reassessment.drift_after_days: must be a whole number of days from 0 to 365",
        ],
    )


def test_check_of_a_good_file_names_its_version(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(_variant("2027.1"), encoding="utf-8")
    out = io.StringIO()
    code = main(["policy", "check", str(path)], out=out, stdin=io.StringIO())
    assert (code, out.getvalue()) == (
        0,
        f"{path}: valid policy 2027.1 (content hash {parse_policy_text(_variant('2027.1')).content_hash[:16]})\n",
    )


def test_check_of_broken_toml_names_the_line_tomllib_found():
    with pytest.raises(PolicyError) as err:
        from bot.service.policy_versions import check

        check('version = "x"\n[risk\n', "broken.toml")
    assert err.value.problems == [
        "not valid TOML: Expected ']' at the end of a table declaration (at line 2, column 6)"
    ]


# --------------------------------------------------------------------------- the SQL-backed source


class MemoryStore:
    """An in-memory `bot.ports.PolicyStore` that counts its reads."""

    def __init__(self) -> None:
        self.row: tuple[int, str, str] | None = None
        self.stamp_reads = 0
        self.text_reads = 0
        self.fail = False

    def apply(self, row_id: int, text: str) -> None:
        self.row = (row_id, parse_policy_text(text).content_hash, text)

    def active_stamp(self):
        self.stamp_reads += 1
        if self.fail:
            raise ConnectionError("database away")
        return self.row[:2] if self.row else None

    def active_text(self):
        self.text_reads += 1
        return self.row


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _source(store: MemoryStore, ticks: Ticks) -> ActivePolicy:
    return ActivePolicy(store, load_policy(), 30.0, monotonic=ticks)


def test_the_fallback_is_in_force_while_sql_holds_no_policy():
    assert _source(MemoryStore(), Ticks()).current().version == "2026.11-default"


def test_a_newly_applied_policy_is_seen_at_the_next_look():
    store, ticks = MemoryStore(), Ticks()
    source = _source(store, ticks)
    source.current()
    store.apply(1, _variant("2027.1"))
    seen_early = source.current().version
    ticks.now = 30.0
    assert (seen_early, source.current().version) == ("2026.11-default", "2027.1")


def test_the_hash_is_read_at_most_once_per_interval():
    store, ticks = MemoryStore(), Ticks()
    source = _source(store, ticks)
    for step in range(100):
        ticks.now = step * 0.5  # 50 s of calls every half second
        source.current()
    assert store.stamp_reads == 2


def test_the_policy_text_is_read_and_parsed_only_when_the_hash_changes():
    store, ticks = MemoryStore(), Ticks()
    store.apply(1, _variant("2027.1"))
    source = _source(store, ticks)
    for step in range(5):
        ticks.now = step * 60.0
        source.current()
    assert (store.stamp_reads, store.text_reads) == (5, 1)


def test_an_unreadable_database_keeps_the_policy_in_force():
    store, ticks = MemoryStore(), Ticks()
    store.apply(1, _variant("2027.1"))
    source = _source(store, ticks)
    source.current()
    store.fail = True
    ticks.now = 60.0
    assert source.current().version == "2027.1"


# --------------------------------------------------------------------------- the terminal table


def test_the_what_if_table_shows_counts_first_then_the_changed_proposals_capped_with_a_total():
    from bot.domain.policy_diff import what_if_report
    from bot.messages.policy import what_if_table

    changed = [
        verdict_change(OLD, _new("high", roles=("department_lead", "governance", "owner"))),
        verdict_change(StoredVerdict(9, {}, "low", None, (), ("owner",)), _new("low", "limited", (), ("owner",))),
        verdict_change(StoredVerdict(12, {}, "high", "high", (), ("owner",)), _new("medium", "high", (), ("owner",))),
    ]
    report = what_if_report("2026.11-default", "2027.1", 40, changed)
    assert what_if_table(report, cap=2).splitlines() == [
        "policy what-if: 2026.11-default -> 2027.1",
        "3 of 40 live proposals change: risk up 1, risk down 1, EU AI Act tier changed 1, "
        "stop conditions added 0, stop conditions removed 0",
        "",
        "id  risk            EU AI Act tier  stop conditions  approver roles",
        "#7  medium -> high  minimal         =                +governance",
        "#9  low             - -> limited    =                =",
        "... and 1 more (3 in all; --json lists every one)",
    ]
