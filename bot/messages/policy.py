"""What people see about policy versions: the active policy, a what-if summary (as a
plain-text table for the terminal and as a message with a confirm button for chat),
and what an apply did."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.policy_diff import describe
from bot.messages.compose import fmt_time, mention
from bot.messages.message import POLICY_APPLY, Button, Message, Section

TABLE_CAP = 50  # changed proposals listed by the terminal table
CHAT_CAP = 10  # and in chat

_COUNT_LABELS = (
    ("risk_up", "risk up"),
    ("risk_down", "risk down"),
    ("tier_changed", "EU AI Act tier changed"),
    ("stops_added", "stop conditions added"),
    ("stops_removed", "stop conditions removed"),
)


def counts_line(report: Mapping[str, Any]) -> str:
    """ "37 of 1,204 live proposals change: risk up 30, risk down 2, ..."."""
    counts = report["counts"]
    parts = ", ".join(f"{label} {counts[key]:,}" for key, label in _COUNT_LABELS)
    return f"{len(report['changed']):,} of {report['compared']:,} live proposals change: {parts}"


def _pair(values: Sequence[Any]) -> str:
    before, after = (v if v is not None else "-" for v in values)
    return str(after) if before == after else f"{before} -> {after}"


def _signed(added: Sequence[str], removed: Sequence[str]) -> str:
    return " ".join([*(f"+{c}" for c in added), *(f"-{c}" for c in removed)]) or "="


def what_if_table(report: Mapping[str, Any], cap: int = TABLE_CAP) -> str:
    """The what-if for the terminal: the counts first, then the changed proposals
    (at most `cap`, with how many more there are)."""
    lines = [f"policy what-if: {report['from']} -> {report['to']}", counts_line(report)]
    changed = report["changed"]
    if not changed:
        lines.append("No live proposal's verdict changes.")
        return "\n".join(lines) + "\n"
    rows = [("id", "risk", "EU AI Act tier", "stop conditions", "approver roles")]
    for entry in changed[:cap]:
        rows.append(
            (
                f"#{entry['id']}",
                _pair(entry["risk_level"]),
                _pair(entry["tier"]),
                _signed(entry["stop_conditions_added"], entry["stop_conditions_removed"]),
                _signed(entry["approver_roles_added"], entry["approver_roles_removed"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines.append("")
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if len(changed) > cap:
        lines.append(f"... and {len(changed) - cap:,} more ({len(changed):,} in all; --json lists every one)")
    return "\n".join(lines) + "\n"


def what_if_message(report: Mapping[str, Any], candidate_id: int, cap: int = CHAT_CAP) -> Message:
    """The what-if summary of a candidate in chat, with the button that applies it."""
    changed = report["changed"]
    items = [f"#{e['id']}: {'; '.join(describe(e))}" for e in changed[:cap]]
    if len(changed) > cap:
        items.append(f"... and {len(changed) - cap:,} more ({len(changed):,} in all)")
    sections = [Section(title="What would change", text=counts_line(report))]
    if items:
        sections.append(Section(title="Proposals", text="\n".join(items)))
    return Message(
        kind="policy_what_if",
        text=f"What-if of policy {report['to']} (candidate {candidate_id}) against {report['from']}: "
        f"{len(changed):,} of {report['compared']:,} live proposals change. Nothing is applied until you confirm.",
        sections=tuple(sections),
        buttons=(Button(POLICY_APPLY, f"Apply {report['to']}", str(candidate_id), "primary"),),
        meta={"policy_candidate_id": candidate_id},
    )


def active_message(
    version: str,
    content_hash: str,
    source: str,
    applied_by: str | None,
    applied_at: datetime | None,
    tz: str = "UTC",
) -> Message:
    """`policy`: the active version, who applied it and when."""
    if source == "sql":
        text = f"Active policy: {version}, applied by {mention(applied_by)} at {fmt_time(applied_at, tz)}."
    else:
        where = "GOVBOT_POLICY_FILE" if source == "file" else "the packaged default"
        text = f"Active policy: {version}, from {where} (no policy has been applied in govbot yet)."
    return Message(
        kind="policy_active",
        text=text,
        sections=(
            Section(fields=(("Version", version), ("Content hash", content_hash[:16]))),
            Section(
                title="Change it",
                text="`policy what-if` with a candidate policy (TOML pasted after it, or a .toml file "
                "attached on Teams) shows what would change; its button applies it.",
            ),
        ),
    )


def applied_message(result: Mapping[str, Any]) -> Message:
    """What `policy apply` (or the confirm button) did."""
    if result["status"] == "unchanged":
        return Message(
            kind="policy_applied", text=f"Policy {result['to']} is already the active policy; nothing changed."
        )
    opened, back = result["approval_requests_opened"], result["back_in_review"]
    text = (
        f"Policy {result['to']} is now active (was {result['from']}). {len(result['changed']):,} of "
        f"{result['compared']:,} live proposals changed verdict; {len(opened):,} approval requests opened"
        + (f"; {len(back):,} back in review" if back else "")
        + ". Every instance switches within a minute."
    )
    sections = (Section(title="What changed", text=counts_line(result)),) if result["changed"] else ()
    return Message(kind="policy_applied", text=text, sections=sections)
