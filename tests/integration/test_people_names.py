"""Names, not ids: messages, `status`, `roles`, the portfolio and the outbox show display
names; typed names resolve to users; a word that is nobody is refused with a hint."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.errors import UsageError
from handlers.console.render import render_message
from handlers.console.sender import ConsoleSender
from tests.support.proposals import make_proposal


def test_status_shows_display_names_and_the_outbox_delivers_them(core):
    core.remember_person("slack", "U_OWNER", "Omar Haddad")
    core.remember_person("slack", "U1", "Alice Chen")
    result = core.submit("U1", "console", make_proposal())
    shown = render_message(core.status(result.proposal_id))
    lines = shown.splitlines()
    assert (lines[4], lines[5]) == ("Owner:         Omar Haddad", "Requester:     Alice Chen")
    inbox = ConsoleSender()
    asyncio.run(core.deliver_due({"console": inbox}))
    (card,) = [d.message for d in inbox.messages("U_OWNER")]
    assert ("Requester", "<@U1|Alice Chen>") in card.sections[0].fields


def test_a_name_changes_when_the_platform_says_so_and_is_stored_clean(core):
    assert core.remember_person("teams", "29:ana", "Ana *Ruiz*") is True
    assert core.remember_person("teams", "29:ana", "Ana *Ruiz*") is False  # unchanged: nothing written
    core.remember_person("teams", "29:ana", "Ana Ruiz-Lopez")
    with core.uow() as uow:
        assert uow.people.get("29:ana").name == "Ana Ruiz-Lopez"
    core.remember_person("teams", "29:bob", "[x](http://evil)")
    with core.uow() as uow:
        assert uow.people.get("29:bob").name == "x (http://evil)"


def test_roles_set_resolves_a_typed_name_and_roles_lists_names(core):
    core.remember_person("console", "U_SAM", "Sam Jones")
    core.remember_person("console", "U_CARLA", "Carla Díaz")
    core.handle_command("UGOV", "console", "roles set security @sam.jones")
    core.handle_command("UGOV", "console", 'roles set department_lead "Customer Service" @carla')
    with core.uow() as uow:
        assert uow.roles.holders("security", "") == ["U_SAM"]
        assert uow.roles.holders("department_lead", "Customer Service") == ["U_CARLA"]
    listing = render_message(core.handle_command("U_X", "console", "roles").message)
    assert "• security: Sam Jones" in listing
    assert "• department_lead (Customer Service): Carla Díaz" in listing


def test_a_bare_word_that_is_no_user_is_refused_with_a_hint(core):
    reply = core.handle_command("UGOV", "console", "roles set security @sam.jones").message
    assert reply.text == (
        "user: '@sam.jones' is not a user govbot knows; mention them (type @ and pick the person, so the chat "
        "turns it into a link) or give their user id (Slack U…, Teams 29:…; `whoami` shows yours)"
    )
    with core.uow() as uow:
        assert uow.roles.holders("security", "") == []


def test_a_name_that_fits_several_people_lists_them(core):
    core.remember_person("console", "U_SAM1", "Sam Jones")
    core.remember_person("console", "U_SAM2", "Sam Ito")
    with pytest.raises(UsageError, match=r"fits several people: Sam Jones \(U_SAM1\), Sam Ito \(U_SAM2\)"):
        core.resolve_user("@sam")


def test_delegate_to_a_typed_name(core):
    core.remember_person("console", "U_BEA", "Bea Lund")
    reply = core.handle_command("U_OWNER", "console", "delegate @bea 2026-12-31").message
    assert "<@U_BEA|Bea Lund>" in reply.text
    with core.uow() as uow:
        assert uow.delegations.delegators_of("U_BEA", core.clock.now()) == ["U_OWNER"]


def test_whoami_gives_the_id_for_the_settings(core):
    core.remember_person("teams", "29:ana", "Ana Ruiz")
    reply = core.handle_command("29:ana", "teams", "whoami").message
    assert reply.text == "You are <@29:ana|Ana Ruiz>; your user id is 29:ana"
    assert "GOVBOT_GOVERNANCE=29:ana" in reply.plain_text()


def test_roles_tells_governance_how_to_name_people_and_quote_a_department(core):
    hint = core.handle_command("UGOV", "console", "roles").message.sections[-1].text
    assert '`roles set department_lead "Customer Service" @carla`' in hint
