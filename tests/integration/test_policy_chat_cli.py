"""Policy versions through the chat commands (`policy`, `policy what-if <TOML>`, the
`policy.apply` button) and the command line (`govbot policy ...`, `govbot classify`)."""

from __future__ import annotations

import io
import json
import sys

from bot.cli import main
from bot.domain.policy_file import packaged_policy_text
from bot.messages.message import POLICY_APPLY
from bot.service.policy_versions import check
from tests.support.policies import STRICT, import_portfolio, strict_text, write
from tests.support.proposals import make_proposal as proposal


def _command(core, actor: str, text: str):
    return core.handle_command(actor, "console", text).message


def _cli(monkeypatch, database_url: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_GOVERNANCE", "UGOV")
    monkeypatch.delenv("GOVBOT_POLICY_FILE", raising=False)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    code = main(list(argv), out=out, stdin=io.StringIO())
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- chat


def test_policy_names_the_packaged_default_until_one_is_applied(core):
    assert _command(core, "UGOV", "policy").text == (
        "Active policy: 2026.11-default, from the packaged default (no policy has been applied in govbot yet)."
    )


def test_policy_is_for_governance_only(core):
    message = _command(core, "U_REQ", "policy")
    assert (message.kind, message.text) == ("refused", "Only governance may see the policy.")


def test_a_pasted_candidate_shows_its_what_if_with_a_confirm_button_and_applies_nothing(core):
    import_portfolio(core, 20)
    message = _command(core, "UGOV", "policy what-if\n```\n" + strict_text() + "```")
    report = core.policy_what_if(check(strict_text(), "x"))
    candidate_id = message.meta["policy_candidate_id"]
    assert (
        [(b.action, b.value) for b in message.buttons],
        message.text,
        core.policy_info().version,
    ) == (
        [(POLICY_APPLY, str(candidate_id))],
        f"What-if of policy {STRICT} (candidate {candidate_id}) against 2026.11-default: "
        f"{len(report['changed'])} of 20 live proposals change. Nothing is applied until you confirm.",
        "2026.11-default",
    )


def test_the_confirm_button_applies_the_candidate_and_policy_says_who_did(core):
    message = _command(core, "UGOV", "policy what-if " + strict_text())
    core.confirm_policy("UGOV", message.meta["policy_candidate_id"])
    assert _command(core, "UGOV", "policy").text.startswith(f"Active policy: {STRICT}, applied by <@UGOV> at ")


def test_a_second_click_on_the_confirm_button_applies_nothing_more(core):
    candidate_id = _command(core, "UGOV", "policy what-if " + strict_text()).meta["policy_candidate_id"]
    core.confirm_policy("UGOV", candidate_id)
    again = core.confirm_policy("UGOV", candidate_id)
    with core.uow() as uow:
        applied = len(uow.policies.history())
    assert (again.text, applied) == (f"Candidate {candidate_id} (policy {STRICT}) was already applied.", 1)


def test_a_broken_pasted_candidate_names_each_problem_and_keeps_nothing(core):
    text = strict_text().replace('default_level = "low"', 'default_level = "lowest"')
    message = _command(core, "UGOV", "policy what-if " + text)
    with core.uow() as uow:
        kept = uow.policies.history()
    line = text.splitlines().index('default_level = "lowest"') + 1
    assert (message.kind, message.sections[0].text, kept) == (
        "usage_error",
        f"line {line}: risk.default_level: must be one of low, medium, high",
        [],
    )


# --------------------------------------------------------------------------- command line


def test_govbot_policy_apply_then_classify_uses_the_applied_policy(core, database_url, tmp_path, monkeypatch):
    path = write(tmp_path / "strict.toml", strict_text())
    applied = _cli(monkeypatch, database_url, "policy", "apply", str(path), "--as", "UGOV")
    answers = write(tmp_path / "p.json", json.dumps(proposal(audience="customer")))
    code, out, err = _cli(monkeypatch, database_url, "classify", str(answers))
    assert (applied[0], code, json.loads(out)["risk_level"]) == (0, 0, "high"), applied[2] + err


def test_govbot_classify_honours_the_policy_file_over_the_applied_one(core, database_url, tmp_path, monkeypatch):
    core.apply_policy("UGOV", check(strict_text(), "strict.toml"))  # customers make it high risk
    answers = write(tmp_path / "p.json", json.dumps(proposal(audience="customer")))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GOVBOT_POLICY_FILE", str(write(tmp_path / "default.toml", packaged_policy_text())))
    out = io.StringIO()
    code = main(["classify", str(answers)], out=out, stdin=io.StringIO())
    assert (code, json.loads(out.getvalue())["risk_level"]) == (0, "medium")


def test_govbot_policy_export_prints_the_applied_toml(core, database_url, tmp_path, monkeypatch):
    text = strict_text() + "# exported as applied\n"
    _cli(monkeypatch, database_url, "policy", "apply", str(write(tmp_path / "s.toml", text)), "--as", "UGOV")
    code, out, _ = _cli(monkeypatch, database_url, "policy", "export")
    assert (code, out) == (0, text)


def test_govbot_policy_apply_by_someone_else_is_refused(core, database_url, tmp_path, monkeypatch):
    path = write(tmp_path / "strict.toml", strict_text())
    code, _, err = _cli(monkeypatch, database_url, "policy", "apply", str(path), "--as", "U_REQ")
    assert (code, err) == (2, "govbot policy: Only governance may apply a policy.\n")


def test_govbot_policy_what_if_json_is_the_design_document(core, database_url, tmp_path, monkeypatch):
    import_portfolio(core, 20)
    path = write(tmp_path / "strict.toml", strict_text())
    code, out, _ = _cli(monkeypatch, database_url, "policy", "what-if", str(path), "--json")
    data = json.loads(out)
    assert (code, sorted(data), sorted(data["counts"]), data["compared"]) == (
        0,
        ["changed", "compared", "counts", "from", "to"],
        ["risk_down", "risk_up", "stops_added", "stops_removed", "tier_changed"],
        20,
    )
