"""Check Block Kit payloads the way Slack would: every block and view must parse into
slack_sdk.models classes, validate, round-trip unchanged, and keep Slack's size limits."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.support.slack_api import Call

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
TEXT_MAX = 3000  # section text, message text
METADATA_MAX = 3000
TITLE_MAX = 24


def block_problems(blocks: Any, where: str, limit: int = MESSAGE_BLOCKS_MAX) -> list[str]:
    problems: list[str] = []
    if not isinstance(blocks, list):
        return [f"{where}: blocks is not a list"]
    if len(blocks) > limit:
        problems.append(f"{where}: {len(blocks)} blocks (max {limit})")
    for i, raw in enumerate(blocks):
        try:
            model = Block.parse(raw)
            if model is None:
                problems.append(f"{where}[{i}]: unknown block type {raw.get('type')!r}")
                continue
            again = model.to_dict()  # runs slack_sdk's validators
        except Exception as exc:
            problems.append(f"{where}[{i}]: {type(exc).__name__}: {exc}")
            continue
        if _norm(again) != _norm(raw):
            problems.append(f"{where}[{i}]: does not round-trip through slack_sdk.models: {raw} != {again}")
        text = (raw.get("text") or {}).get("text") if isinstance(raw.get("text"), dict) else None
        if text is not None and len(text) > TEXT_MAX:
            problems.append(f"{where}[{i}]: text of {len(text)} chars (max {TEXT_MAX})")
        if raw.get("type") == "section" and len(raw.get("fields") or []) > 10:
            problems.append(f"{where}[{i}]: more than 10 fields")
    return problems


def view_problems(view: Any, where: str) -> list[str]:
    if not isinstance(view, dict):
        return [f"{where}: view is not an object"]
    problems: list[str] = []
    try:
        View(**view).to_dict()
    except Exception as exc:
        problems.append(f"{where}: {type(exc).__name__}: {exc}")
    for key in ("title", "submit", "close"):
        text = (view.get(key) or {}).get("text", "")
        if len(text) > TITLE_MAX:
            problems.append(f"{where}: {key} {text!r} longer than {TITLE_MAX}")
    if len(view.get("private_metadata") or "") > METADATA_MAX:
        problems.append(f"{where}: private_metadata longer than {METADATA_MAX}")
    problems += block_problems(view.get("blocks"), f"{where}.blocks", VIEW_BLOCKS_MAX)
    return problems


def call_problems(call: Call) -> list[str]:
    """Problems of one recorded Web API (or response_url) call."""
    where = f"{call.method}#{id(call) % 10000}"
    problems: list[str] = []
    args = call.args
    if "blocks" in args:
        problems += block_problems(args["blocks"], f"{where}.blocks")
    if "view" in args:
        problems += view_problems(args["view"], f"{where}.view")
    if isinstance(args.get("text"), str) and len(args["text"]) > 40000:
        problems.append(f"{where}: text longer than 40000")
    return problems


def all_problems(calls: list[Call]) -> list[str]:
    out: list[str] = []
    for c in calls:
        out += call_problems(c)
    return out


def response_action_problems(text: str) -> list[str]:
    """Problems of a view-submission ack body (response_action update/push/errors)."""
    if not text:
        return []
    data = json.loads(text)
    if data.get("response_action") in ("update", "push"):
        return view_problems(data.get("view"), "ack.view")
    return []


def _norm(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))
