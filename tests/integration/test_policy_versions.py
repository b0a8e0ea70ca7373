"""Policy versions: the stamp on every verdict, what-if on the live portfolio (checked
against `govbot classify` under each policy), and `apply` (DESIGN.md "Policy versions")."""

from __future__ import annotations

import io
import json
import sys

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.domain.errors import Refused
from bot.domain.policy_diff import tier_of
from bot.domain.policy_file import load_policy, packaged_policy_text
from bot.service import whatif
from bot.service.policy import unstamped
from bot.service.policy_versions import check
from store import models as m
from store.db import make_engine
from tests.support.core_state import requests_by_role
from tests.support.policies import STRICT, import_portfolio, strict_text, write
from tests.support.proposals import make_proposal as proposal
from tests.support.stages import seed as seed_stage


def _classify(path, answers, tmp_path, monkeypatch) -> dict:
    """`govbot classify` of `answers` under the policy file `path`."""
    monkeypatch.setenv("GOVBOT_POLICY_FILE", str(path))
    source = write(tmp_path / "proposal.json", json.dumps(answers))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["classify", str(source)], out=out, stdin=io.StringIO()) == 0, err.getvalue()
    return json.loads(out.getvalue())


def _verdict(result: dict) -> tuple:
    return (result["risk_level"], tier_of(result), result["stop_conditions"], result["approver_roles"])


def _answers(core, pid: int) -> dict:
    with core.uow() as uow:
        return uow.proposals.get(pid).answers


def seed(core, stage: str, **over):
    """A proposal in `stage` whose owner already approved it (the seed has no requests)."""
    from bot.domain.records import ApprovalRequestRow

    row = seed_stage(core, stage, **over)
    now = core.clock.now()
    with core.uow() as uow:
        uow.approvals.add(
            ApprovalRequestRow(
                0,
                row.id,
                "owner",
                None,
                row.owner or "UOWN",
                "proposal",
                None,
                1,
                "approved",
                None,
                now,
                decided_at=now,
            )
        )
        uow.commit()
    return row


def _table_counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {t.name: conn.scalar(select(func.count()).select_from(t)) for t in m.Base.metadata.sorted_tables}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the stamp


def test_status_json_names_the_policy_version_and_hash_of_the_verdict(core):
    pid = core.submit("U_REQ", "console", proposal()).proposal_id
    classification = core.status_data(pid)["classification"]
    packaged = load_policy()
    assert (classification["policy_version"], classification["policy_hash"]) == (
        packaged.version,
        packaged.content_hash,
    )


def test_the_export_carries_the_policy_stamp(core):
    pid = core.submit("U_REQ", "console", proposal()).proposal_id
    record = next(p for p in json.loads(core.export("json"))["proposals"] if p["id"] == pid)
    packaged = load_policy()
    assert (record["classification"]["policy_version"], record["classification"]["policy_hash"]) == (
        packaged.version,
        packaged.content_hash,
    )


def test_the_audit_pack_names_the_policy(core):
    pid = core.submit("U_REQ", "console", proposal()).proposal_id
    text = core.audit_pack(pid, "md").decode("utf-8")
    packaged = load_policy()
    assert f"{packaged.version} (sha256 {packaged.content_hash})" in text


# --------------------------------------------------------------------------- what-if


def test_what_if_lists_exactly_the_proposals_govbot_classify_sees_change(core, tmp_path, monkeypatch):
    ids = import_portfolio(core, 60)
    before, after = (
        write(tmp_path / "default.toml", packaged_policy_text()),
        write(tmp_path / "strict.toml", strict_text()),
    )
    expected = []
    for pid in ids:
        answers = _answers(core, pid)
        old, new = _classify(before, answers, tmp_path, monkeypatch), _classify(after, answers, tmp_path, monkeypatch)
        if _verdict(old) != _verdict(new):
            expected.append(
                (
                    pid,
                    [old["risk_level"], new["risk_level"]],
                    sorted(set(new["stop_conditions"]) - set(old["stop_conditions"])),
                )
            )
    report = core.policy_what_if(check(strict_text(), "strict.toml"))
    listed = [(e["id"], e["risk_level"], e["stop_conditions_added"]) for e in report["changed"]]
    assert (report["from"], report["to"], report["compared"], listed) == ("2026.11-default", STRICT, 60, expected)


def test_what_if_writes_nothing(core, database_url):
    import_portfolio(core, 20)
    before = _table_counts(database_url)
    core.policy_what_if(check(strict_text(), "strict.toml"))
    assert _table_counts(database_url) == before


def test_what_if_skips_rejected_and_retired_proposals(core):
    live = seed(core, "pilot", audience="customer").id
    seed(core, "rejected", audience="customer")
    seed(core, "retired", audience="customer")
    report = core.policy_what_if(check(strict_text(), "strict.toml"))
    assert (report["compared"], [e["id"] for e in report["changed"]]) == (1, [live])


def test_worker_processes_give_the_same_report_as_this_process(core):
    import_portfolio(core, 40)
    candidate = check(strict_text(), "strict.toml")
    active = load_policy()
    pooled = whatif.what_if(core.uow(), active, candidate, workers=2, batch=7)
    local = whatif.what_if(core.uow(), active, candidate, workers=0)
    assert (pooled, len(local["changed"]) > 0) == (local, True)


# --------------------------------------------------------------------------- apply


def test_apply_makes_the_stored_verdicts_those_of_govbot_classify(core, tmp_path, monkeypatch):
    ids = import_portfolio(core, 40)
    path = write(tmp_path / "strict.toml", strict_text())
    candidate = check(strict_text(), str(path))
    before = {pid: unstamped(core.status_data(pid)["classification"]) for pid in ids}
    core.apply_policy("UGOV", candidate)
    mismatched = []
    for pid in ids:
        stored = core.status_data(pid)["classification"]
        expected = _classify(path, _answers(core, pid), tmp_path, monkeypatch)
        # a verdict the new policy leaves exactly as it was keeps the stamp of the policy that made it
        stamp = STRICT if before[pid] != expected else "2026.11-default"
        if unstamped(stored) != expected or stored["policy_version"] != stamp:
            mismatched.append(pid)
    assert mismatched == []


def test_after_apply_the_what_if_of_the_same_policy_changes_nothing(core):
    import_portfolio(core, 30)
    candidate = check(strict_text(), "strict.toml")
    core.apply_policy("UGOV", candidate)
    report = core.policy_what_if(candidate)
    assert (report["from"], report["changed"]) == (STRICT, [])


def test_apply_is_governance_only_and_the_refusal_is_audited(core, database_url):
    with pytest.raises(Refused):
        core.apply_policy("U_REQ", check(strict_text(), "strict.toml"))
    with core.uow() as uow:
        actions = [e.action for e in uow.audit.recent(5)]
        stored = uow.policies.history()
    assert (actions[0], stored) == ("policy.apply_refused", [])


def test_apply_records_who_applied_which_version_and_new_submissions_use_it(core):
    core.apply_policy("UGOV", check(strict_text(), "strict.toml"))
    pid = core.submit("U_REQ", "console", proposal(audience="customer")).proposal_id
    info = core.policy_info()
    classification = core.status_data(pid)["classification"]
    assert (
        info.version,
        info.source,
        info.applied_by,
        classification["policy_version"],
        classification["risk_level"],
    ) == (
        STRICT,
        "sql",
        "UGOV",
        STRICT,
        "high",
    )


def test_export_prints_the_applied_policy_as_it_was_written(core):
    text = strict_text() + "\n# applied from the test\n"
    core.apply_policy("UGOV", check(text, "strict.toml"))
    assert core.policy_text() == text


def test_applying_the_active_policy_again_changes_nothing(core):
    candidate = check(strict_text(), "strict.toml")
    first = core.apply_policy("UGOV", candidate)
    again = core.apply_policy("UGOV", check(strict_text().replace("# govbot default", "# reworded"), "same.toml"))
    with core.uow() as uow:
        applied = uow.policies.history()
    assert (first.status, again.status, [r.version for r in applied]) == ("applied", "unchanged", [STRICT])


def test_a_raised_risk_reopens_a_running_workflow_for_the_new_roles(core):
    row = seed(core, "pilot", audience="customer", rollback_path="Switch it off.")  # medium, running
    core.apply_policy("UGOV", check(strict_text(), "strict.toml"))
    status = core.status_data(row.id)
    assert (status["proposal"]["stage"], status["proposal"]["risk_level"], sorted(requests_by_role(core, row.id))) == (
        "in_review",
        "high",
        ["department_lead", "finance", "governance", "owner"],
    )


def test_owner_and_requester_are_told_what_changed_and_why(core):
    row = seed(core, "pilot", audience="customer", rollback_path="Switch it off.")
    core.apply_policy("UGOV", check(strict_text(), "strict.toml"))
    with core.uow() as uow:
        told = {
            o.recipient: o.payload["text"]
            for o in uow.outbox.pending_for_proposal(row.id)
            if o.kind == "policy_reclassified"
        }
    assert told == {
        user: f"Policy {STRICT}, applied by <@UGOV>, changes the verdict on #{row.id} {row.title}: "
        "risk medium -> high; approvers added: department_lead, finance, governance."
        for user in ("UOWN", "UREQ")
    }


def test_a_paused_workflow_with_new_roles_resumes_into_review(core):
    row = seed(core, "pilot", audience="customer", rollback_path="Switch it off.")
    core.transition("UOWN", row.id, "pause")
    core.apply_policy("UGOV", check(strict_text(), "strict.toml"))
    core.transition("UOWN", row.id, "resume")
    assert core.status_data(row.id)["proposal"]["stage"] == "in_review"
