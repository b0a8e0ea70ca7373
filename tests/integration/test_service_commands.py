"""Govbot.handle_command, the role directory and bootstrap on the real store."""

from __future__ import annotations

import pytest

from bot.app import build_core
from bot.domain.errors import Refused, UsageError
from bot.domain.roles import RolesFileError
from bot.messages.message import plain
from tests.support.core_state import audit_actions
from tests.support.proposals import make_proposal


def test_help_lists_every_command(core):
    text = core.handle_command("U1", "slack", "help").message.plain_text()
    for word in (
        "propose",
        "mine",
        "status",
        "portfolio",
        "roles",
        "digest",
        "pause",
        "override",
        "delegate",
        "checkin",
        "autonomy",
        "help",
    ):
        assert word in text


def test_unknown_subcommand_answers_with_help(core):
    reply = core.handle_command("U1", "slack", "frobnicate")
    assert reply.message.kind == "help" and "Unknown command 'frobnicate'" in reply.message.text


def test_bad_arguments_come_back_as_a_message(core):
    reply = core.handle_command("U1", "slack", "status abc")
    assert reply.message.kind == "usage_error" and "id" in reply.message.text
    missing = core.handle_command("U1", "slack", "status 999")
    assert missing.message.kind == "usage_error" and "no proposal 999" in missing.message.text


def test_propose_opens_the_interview_seeded_and_resumes_a_draft(core):
    reply = core.handle_command("U1", "slack", "propose Summarise support tickets")
    assert reply.message is None and reply.interview is not None
    assert reply.interview.seed["title"] == "Summarise support tickets" and not reply.interview.resumed
    core.save_draft("slack", "U1", {"title": "Draft title", "department": "Ops"}, "controls")
    resumed = core.handle_command("U1", "slack", "propose").interview
    assert resumed.resumed and resumed.seed["department"] == "Ops" and resumed.seed["title"] == "Draft title"


def test_status_and_mine_through_commands(core):
    result = core.submit("U1", "slack", make_proposal())
    status = core.handle_command("U1", "slack", f"status #{result.proposal_id}").message
    assert status.kind == "status" and "in_review" in status.text
    assert "Summarise weekly support themes" in core.handle_command("U1", "slack", "mine").message.plain_text()


def test_decisions_by_command(core):
    result = core.submit("U1", "console", make_proposal())
    rid = result.approval_request_ids[0]
    refused = core.handle_command("U_X", "console", f"approve {rid}").message
    assert refused.text.startswith("Not recorded")
    done = core.handle_command("U_OWNER", "console", f"approve {rid} fine by me").message
    assert done.text.startswith("Approved.") and "pilot" in done.text


def test_roles_set_is_for_governance_only_and_audited(core):
    refused = core.handle_command("U_X", "slack", "roles set security <@U_SEC|sam>").message
    assert refused.kind == "refused" and "governance" in refused.text
    assert "roles.refused" in audit_actions(core, None)
    done = core.handle_command("UGOV", "slack", "roles set department_lead Finance <@U_FL>").message
    assert "department_lead for Finance is now held by <@U_FL>" in done.text
    listing = core.handle_command("U_X", "slack", "roles").message.plain_text()
    assert "department_lead (Finance): <@U_FL>" in listing and "governance: <@UGOV>" in listing
    assert "roles.set" in audit_actions(core, None)


def test_set_role_validates_and_keeps_governance_non_empty(core):
    with pytest.raises(UsageError, match="allowed"):
        core.set_role("UGOV", "wizard", "", ["U1"])
    with pytest.raises(UsageError, match="department"):
        core.set_role("UGOV", "security", "Finance", ["U1"])
    with pytest.raises(Refused):
        core.set_role("UGOV", "governance", "", [])
    with pytest.raises(Refused):
        core.set_role("U_X", "security", "", ["U1"])
    core.set_role("UGOV", "governance", "", ["UGOV", "UGOV2"])
    core.set_role("UGOV2", "legal", "", ["<@U_LEGAL|leo>"])
    with core.uow() as uow:
        assert uow.roles.holders("legal", "") == ["U_LEGAL"]


def test_bootstrap_assigns_governance_once(settings, clock, core):
    core.set_role("UGOV", "governance", "", ["U_NEW"])
    settings.governance = "UGOV"
    again = build_core(settings, clock=clock)
    with again.uow() as uow:
        assert uow.roles.holders("governance", "") == ["U_NEW"]  # a chat edit survives a restart


def test_roles_file_json_and_toml(settings, clock, tmp_path):
    path = tmp_path / "roles.json"
    path.write_text('{"security": ["U_SEC"], "department_lead": {"Finance": ["U2", "<@U3|x>"]}}')
    settings.roles_file = path
    core = build_core(settings, clock=clock)
    with core.uow() as uow:
        assert uow.roles.holders("security", "") == ["U_SEC"]
        assert sorted(uow.roles.holders("department_lead", "Finance")) == ["U2", "U3"]
        assert uow.roles.holders("governance", "") == ["UGOV"]
    toml = tmp_path / "roles.toml"
    toml.write_text('legal = ["U_LEG"]\n[department_lead]\nSupport = ["U_SUP"]\n')
    settings.roles_file = toml
    core = build_core(settings, clock=clock)
    with core.uow() as uow:
        assert uow.roles.holders("legal", "") == ["U_LEG"]
        assert uow.roles.holders("department_lead", "Support") == ["U_SUP"]


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ('{"wizard": ["U1"]}', "wizard: unknown role; allowed:"),
        ('{"department_lead": ["U1"]}', "department_lead: must map each department"),
        ('{"security": [42]}', "security: 42 is not a user id"),
        ('{"department_lead": {"Finance": "has space"}}', "department_lead.Finance: 'has space' is not a user id"),
        ('{"security": ', "not valid JSON"),
    ],
)
def test_roles_file_errors_name_the_bad_entry(settings, clock, tmp_path, content, names):
    path = tmp_path / "roles.json"
    path.write_text(content)
    settings.roles_file = path
    with pytest.raises(RolesFileError, match="roles.json") as err:
        build_core(settings, clock=clock)
    assert names in str(err.value)


def test_lifecycle_commands_are_dispatched_and_refusals_come_back_as_messages(core):
    result = core.submit("U1", "slack", make_proposal())
    pid = result.proposal_id
    core.decide("U_OWNER", result.approval_request_ids[0], "approve")
    refused = core.handle_command("U_X", "slack", f"pause {pid}").message
    assert refused.kind == "refused"
    paused = core.handle_command("U_OWNER", "slack", f"pause {pid}").message
    assert (paused.kind, plain(paused.text)) == (
        "lifecycle",
        f'#{pid} "Summarise weekly support themes" moved from pilot to paused (pause by <@U_OWNER>).',
    )
    assert core.status_data(pid)["proposal"]["stage"] == "paused"
    core.handle_command("U_OWNER", "slack", f"resume {pid}")
    checkin = core.handle_command("U_OWNER", "slack", f"checkin {pid} 0.7 hours this week").message
    assert (checkin.kind, plain(checkin.text)) == (
        "checkin",
        f'Check-in recorded for #{pid} "Summarise weekly support themes" (2026-W47): 0.7 against target 0.5 '
        "(from 3): improving",
    )
    assert core.status_data(pid)["checkins"][0]["value"] == "0.7"
    bad = core.handle_command("UGOV", "slack", f"override {pid} nonsense because").message
    assert (bad.kind, bad.text) == (
        "usage_error",
        "code: unknown stop condition 'nonsense'; allowed: no_owner, customer_data_without_review, "
        "changes_permissions_billing_or_production, unmeasurable_success, invisible_failure, prohibited_practice",
    )
    delegated = core.handle_command("U_OWNER", "slack", "delegate <@U_DEP|dep> until 2026-12-31").message
    assert (delegated.kind, delegated.text) == (
        "delegation",
        "<@U_DEP> may decide your approvals from 2026-11-16 09:00 to 2027-01-01 00:00 UTC.",
    )


def test_digest_command_is_delegated(core):
    reply = core.handle_command("UGOV", "slack", "digest")
    assert reply.interview is None
    assert (reply.message.kind, plain(reply.message.text)) == (
        "digest",
        "AI portfolio digest, week 2026-W46 (2026-11-09 to 2026-11-16)",
    )
