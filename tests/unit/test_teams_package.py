"""The Teams app package: manifest with the command list and two real PNG icons."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from handlers.teams.package import PLACEHOLDER_ID, build_package, manifest

APP_ID = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"


def test_package_holds_manifest_and_icons_at_its_root(tmp_path):
    out = build_package(tmp_path / "out" / "govbot-teams.zip", app_id=APP_ID)
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        data = json.loads(zf.read("manifest.json"))
        color = Image.open(io.BytesIO(zf.read("color.png")))
        outline = Image.open(io.BytesIO(zf.read("outline.png")))
    assert data["id"] == APP_ID and data["bots"][0]["botId"] == APP_ID
    assert data["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert color.format == "PNG" and color.size == (192, 192)
    assert outline.format == "PNG" and outline.size == (32, 32)
    rgba = outline.convert("RGBA")
    pixels = [rgba.getpixel((x, y)) for x in range(32) for y in range(32)]
    assert any(p[3] == 0 for p in pixels), "outline icon needs a transparent background"
    assert all(p[:3] == (255, 255, 255) for p in pixels if p[3] > 0), "outline icon must be white only"


def test_manifest_declares_the_bot_commands_and_scopes():
    data = manifest(APP_ID)
    assert data["manifestVersion"] == "1.16"
    assert (
        data["$schema"] == "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
    )
    (bot,) = data["bots"]
    assert set(bot["scopes"]) == {"personal", "team"}
    commands = [c["title"] for lst in bot["commandLists"] for c in lst["commands"]]
    assert commands == [
        "propose",
        "mine",
        "status",
        "portfolio",
        "roles",
        "checkin",
        "promote",
        "incident",
        "assess",
        "help",
    ]
    assert all(len(c["description"]) <= 128 for lst in bot["commandLists"] for c in lst["commands"])
    assert len(data["name"]["short"]) <= 30 and len(data["description"]["short"]) <= 80
    assert len(data["description"]["full"]) <= 4000


def test_an_app_id_that_is_not_a_guid_is_refused_naming_the_variable(tmp_path):
    with pytest.raises(ValueError, match="MicrosoftAppId"):
        build_package(tmp_path / "x.zip", app_id="my-bot")
    assert not (tmp_path / "x.zip").exists()


def test_without_an_app_id_the_placeholder_stays_and_a_warning_says_so(tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    with caplog.at_level("WARNING"):
        out = build_package(tmp_path / "p.zip")
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("manifest.json"))["id"] == PLACEHOLDER_ID
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "handlers.teams.package",
            "WARNING",
            f"Teams package: MicrosoftAppId is not set; the manifest keeps the placeholder id {PLACEHOLDER_ID}. "
            "Set MicrosoftAppId and build again before uploading.",
        )
    ]


def test_govbot_teams_package_command(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    monkeypatch.chdir(tmp_path)
    code = main(["teams-package", "-o", str(tmp_path / "cli.zip")])
    assert code == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'cli.zip'}\n"
    with zipfile.ZipFile(tmp_path / "cli.zip") as zf:
        assert json.loads(zf.read("manifest.json"))["bots"][0]["botId"] == APP_ID


def test_manifest_declares_the_incident_message_action_for_the_bot():
    data = manifest(APP_ID)
    (extension,) = data["composeExtensions"]
    assert extension["botId"] == APP_ID
    assert extension["commands"] == [
        {
            "id": "incident.report",
            "type": "action",
            "title": "Report an AI incident",
            "description": "Record harm an AI workflow did, quoting this message",
            "context": ["message"],
            "fetchTask": True,
        }
    ]
