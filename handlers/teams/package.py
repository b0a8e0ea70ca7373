"""The Teams app package for sideloading: manifest.json and the two icons in one zip.

`govbot teams-package` (and `make teams-package`) call `build_package`. The committed
manifest carries a placeholder id; the package gets `MicrosoftAppId` as the app id and
the bot id, so the zip uploaded in Teams points at your Azure Bot.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MANIFEST_DIR = Path(__file__).parent / "manifest"
FILES = ("manifest.json", "color.png", "outline.png")
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def manifest(app_id: str | None = None) -> dict[str, Any]:
    """The manifest with `app_id` (a GUID: the bot's MicrosoftAppId) filled in."""
    data = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    if app_id is None:
        return data
    app_id = app_id.strip()
    if not _GUID.match(app_id):
        raise ValueError(f"MicrosoftAppId must be a GUID like {PLACEHOLDER_ID}, not {app_id[:60]!r}")
    data["id"] = app_id
    for bot in data.get("bots", ()):
        bot["botId"] = app_id
    for extension in data.get("composeExtensions", ()):  # the "Report an AI incident" message action
        extension["botId"] = app_id
    return data


def _configured_app_id() -> str | None:
    from bot.settings import Settings

    return Settings().microsoft_app_id or None  # type: ignore[call-arg]


def build_package(out_path: Path | str, app_id: str | None = None) -> Path:
    """Write the zip (manifest.json, color.png, outline.png at its root) to `out_path`.

    `app_id` defaults to the configured MicrosoftAppId; without one the placeholder id
    stays and a warning says to set MicrosoftAppId before uploading the package.
    """
    out = Path(out_path)
    app_id = app_id if app_id is not None else _configured_app_id()
    data = manifest(app_id)
    if data["id"] == PLACEHOLDER_ID:
        logger.warning(
            "Teams package: MicrosoftAppId is not set; the manifest keeps the placeholder id %s. "
            "Set MicrosoftAppId and build again before uploading.",
            PLACEHOLDER_ID,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        for name in FILES[1:]:
            zf.write(MANIFEST_DIR / name, arcname=name)
    return out
