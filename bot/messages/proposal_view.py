"""The proposal as an approver reads it, and what changed since the round they saw.

Composed once, as neutral sections, for the approval card, `status` and the full view
(`proposal <id>`, Slack's modal, Teams' "Full proposal" card): what it does, its data and
actions (declared, and found in the words — marked), audience, review, autonomy,
control points, exception, escalation and rollback paths, the value metric and the EU
AI Act tier with its basis. Where every answer would not fit a chat message
(`INLINE_MAX`), the card shows a shortened view and a "Full proposal" button.

Everything people typed is wrapped with `user_text`, one line at a time, so a renderer
that cuts text into paragraphs still knows which lines are user-written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.proposal_diff import Change, RoundChanges
from bot.messages.message import FULL_PROPOSAL, Button, Message, Section, user_text

# Total characters of the proposal's own text above which a card shows the shortened
# view: one Slack section holds 3000, a Teams card ~28 KB, and the card has more to say.
INLINE_MAX = 3500
SHORT_DESCRIPTION = 700  # characters of the description in the shortened view
SHORT_TEXT = 240  # characters of each other free-text answer in the shortened view
SHORT_BASIS = 2  # EU AI Act basis lines in the shortened view
CHANGE_TEXT = 200  # characters of an old or new free-text value in a change line

WHAT_IT_DOES = (("current_process", "Today"), ("expected_output", "Expected output"))
CONTROLS = (
    ("control_points", "Control points"),
    ("exception_path", "Exception path"),
    ("escalation_path", "Escalation path"),
    ("rollback_path", "Rollback path"),
    ("value_metric", "Value metric"),
)
LABELS = {
    "title": "Title",
    "department": "Department",
    "description": "Description",
    "current_process": "Process today",
    "expected_output": "Expected output",
    "data": "Data",
    "actions": "Actions",
    "audience": "Audience",
    "owner": "Owner",
    "review": "Review",
    "autonomy": "Autonomy",
    "exception_path": "Exception path",
    "escalation_path": "Escalation path",
    "control_points": "Control points",
    "rollback_path": "Rollback path",
    "value_metric": "Value metric",
    "value_baseline": "Value baseline",
    "value_target": "Value target",
    "failure_visible": "Failure visible",
    "stack": "Stack",
    "capacity": "Capacity",
    "use_area": "EU AI Act use area",
    "interacts_with_people": "Interacts with people",
    "generates_content": "Generates content",
    "profiles_people": "Profiles people",
    "narrow_procedural_task": "Narrow procedural task",
    "prohibited_practices": "Prohibited practices",
    "ai_act_role": "AI Act role",
    "vendor": "AI vendor",
    "model": "Model",
    "downstream": "Hands work to",
    # the verdict
    "risk_level": "Risk level",
    "eu_tier": "EU AI Act tier",
    "stop_conditions": "Stop conditions",
    "approver_roles": "Who must approve",
}
USER_KEYS = frozenset(
    {
        "title",
        "department",
        "description",
        "current_process",
        "expected_output",
        "exception_path",
        "escalation_path",
        "control_points",
        "rollback_path",
        "value_metric",
        "vendor",
        "model",
        "downstream",
    }
)
# keys whose values are the proposal's enum codes, yes/no or the verdict's own codes
CODE_KEYS = frozenset(
    {
        "data",
        "actions",
        "audience",
        "review",
        "autonomy",
        "failure_visible",
        "stack",
        "capacity",
        "use_area",
        "interacts_with_people",
        "generates_content",
        "profiles_people",
        "narrow_procedural_task",
        "prohibited_practices",
        "ai_act_role",
        "risk_level",
        "eu_tier",
        "stop_conditions",
        "approver_roles",
    }
)
REGULATORY = (
    "use_area",
    "profiles_people",
    "interacts_with_people",
    "generates_content",
    "narrow_procedural_task",
    "prohibited_practices",
    "ai_act_role",
)


def _clip(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def user_lines(text: Any, limit: int | None = None) -> str:
    """User-written text, clipped to `limit`, marked one line at a time."""
    raw = _clip(str(text or "").strip(), limit)
    return "\n".join(user_text(line) if line.strip() else "" for line in raw.splitlines())


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == () or (isinstance(value, str) and not value.strip())


def _yes_no(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else "-"


def marked_codes(declared: Sequence[str] | None, effective: Sequence[str] | None) -> str:
    """ "customer, financial (declared); employee (found in the words)"."""
    said = sorted(set(declared or ()))
    found = sorted(set(effective or ()) - set(said))
    parts = []
    if said:
        parts.append(", ".join(said) + " (declared)")
    if found:
        parts.append(", ".join(found) + " (found in the words)")
    return "; ".join(parts) or "none"


def text_size(answers: Mapping[str, Any], result: Mapping[str, Any] | None) -> int:
    """Characters of the proposal's own text and its EU AI Act basis (what decides
    between the whole view and the shortened one)."""
    keys = ["description"] + [k for k, _ in WHAT_IT_DOES] + [k for k, _ in CONTROLS]
    size = sum(len(str(answers.get(k) or "")) for k in keys)
    return size + sum(len(b) for b in _eu(result).get("basis") or [])


def fits_inline(answers: Mapping[str, Any], result: Mapping[str, Any] | None) -> bool:
    return text_size(answers, result) <= INLINE_MAX


def _eu(result: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return ((result or {}).get("regulatory") or {}).get("eu_ai_act") or {}


def proposal_sections(
    answers: Mapping[str, Any], result: Mapping[str, Any] | None, *, short: bool = False, duties: bool = False
) -> list[Section]:
    """The proposal in four sections: what it does; data, actions and how it runs;
    controls and value; the EU AI Act tier with its basis. `short` clips the free text
    and the basis (the card's view when everything would not fit); `duties` adds the
    AI Act duties (the full view)."""
    text_limit = SHORT_TEXT if short else None
    effective = (result or {}).get("effective") or {}

    what = [user_lines(answers.get("description"), SHORT_DESCRIPTION if short else None) or "No description given."]
    for key, label in WHAT_IT_DOES:
        if not _blank(answers.get(key)):
            what.append(f"{label}: " + user_lines(answers.get(key), text_limit))
    sections = [Section("What it does", "\n".join(what))]

    vendor = " / ".join(str(answers[k]) for k in ("vendor", "model") if not _blank(answers.get(k)))
    downstream = ", ".join(str(d) for d in answers.get("downstream") or [])
    sections.append(
        Section(
            "Data, actions and how it runs",
            fields=(
                ("Data", marked_codes(answers.get("data"), effective.get("data"))),
                ("Actions", marked_codes(answers.get("actions"), effective.get("actions"))),
                ("Audience", str(answers.get("audience") or "-")),
                ("Review", str(answers.get("review") or "-")),
                ("Autonomy", str(answers.get("autonomy") or "-")),
                ("Failure visible", _yes_no(answers.get("failure_visible"))),
                ("AI vendor", user_text(vendor) or "-"),
                ("Hands work to", user_text(downstream) or "-"),
            ),
        )
    )

    controls = []
    for key, label in CONTROLS:
        value = answers.get(key)
        controls.append(f"{label}: " + (user_lines(value, text_limit) if not _blank(value) else "not given"))
    baseline, target = answers.get("value_baseline"), answers.get("value_target")
    if baseline is not None or target is not None:
        controls.append(f"Value baseline → target: {_num(baseline)} → {_num(target)}")
    sections.append(Section("Controls and value", "\n".join(controls)))

    sections.append(eu_section(answers, result, short=short, duties=duties))
    return sections


def _num(value: Any) -> str:
    return "-" if value is None else user_text(value)


def eu_section(
    answers: Mapping[str, Any], result: Mapping[str, Any] | None, *, short: bool = False, duties: bool = False
) -> Section:
    """The tier, what it rests on (the basis quotes the words that raised an answer)
    and whether anyone answered the regulatory questions."""
    eu = _eu(result)
    if not eu:
        return Section("EU AI Act", "Not classified yet.")
    answered = eu.get("answered")
    lines = [
        f"Tier: {eu.get('tier', '?')} (role: {eu.get('role', 'deployer')})"
        + (
            ""
            if answered is None
            else "; regulatory questions answered"
            if answered
            else "; regulatory questions not answered (defaults assumed)"
        )
    ]
    basis = list(eu.get("basis") or [])
    shown = basis[:SHORT_BASIS] if short else basis
    # the basis quotes the proposal's own words
    lines += [f"Basis: {user_lines(b, 400 if short else None)}" for b in shown]
    if len(shown) < len(basis):
        lines.append(f"… and {len(basis) - len(shown)} more basis line(s) in the full proposal")
    given = [
        f"{LABELS[k].lower()}: {_show(answers.get(k))}"
        for k in REGULATORY
        if k in answers and not _blank(answers.get(k)) and answers.get(k) is not False
    ]
    if given:
        lines.append("Declared: " + "; ".join(given))
    if duties:
        lines += [f"Duty: {user_lines(d)}" for d in eu.get("duties") or []]
    return Section("EU AI Act", "\n".join(lines))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def card_view(
    answers: Mapping[str, Any], result: Mapping[str, Any] | None, proposal_id: int
) -> tuple[list[Section], tuple[Button, ...]]:
    """The proposal on a card or in `status`: every answer when it fits, else the
    shortened view, a line saying so and the "Full proposal" button."""
    if fits_inline(answers, result):
        return proposal_sections(answers, result), ()
    sections = proposal_sections(answers, result, short=True)
    note = Section(
        None,
        f"Shortened to fit this message: press Full proposal (or type `proposal {proposal_id}`) for every answer.",
    )
    return [*sections, note], (full_button(proposal_id),)


def full_button(proposal_id: int) -> Button:
    return Button(FULL_PROPOSAL, "Full proposal", str(proposal_id))


# --------------------------------------------------------------------------- changes


def _change_value(change: Change, value: Any) -> str:
    if value is None:
        return "(blank)"
    if isinstance(value, tuple):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    if change.key in USER_KEYS:
        return "“" + user_text(_clip(" ".join(text.split()), CHANGE_TEXT)) + "”"
    if change.key == "owner":
        return f"<@{text}>"
    if change.key in CODE_KEYS:
        return text  # enum codes and yes/no, checked when the proposal was stored
    return user_text(_clip(text, CHANGE_TEXT))


def change_line(change: Change) -> str:
    """ "Risk level: medium → high"; "Actions: added change_billing; removed draft";
    "Rollback path: “…” → “…”"."""
    label = LABELS.get(change.key, change.key.replace("_", " ").capitalize())
    if change.is_list and change.key in CODE_KEYS:
        parts = []
        if change.added:
            parts.append("added " + ", ".join(str(x) for x in change.added))
        if change.removed:
            parts.append("removed " + ", ".join(str(x) for x in change.removed))
        return f"{label}: " + "; ".join(parts)
    return f"{label}: {_change_value(change, change.before)} → {_change_value(change, change.after)}"


def changes_section(changes: RoundChanges, *, reader: str = "approver") -> Section:
    """What changed from the revision the reader saw to this one: the verdict first
    (risk, tier, stop conditions, approvers), then each answer, old → new."""
    seen = " (the one you saw)" if reader == "approver" else ""
    title = f"Changed since revision {changes.since}{seen}"
    if changes.empty:
        return Section(title, f"Revision {changes.now} was resubmitted with the same answers and the same verdict.")
    lines = [f"• {change_line(c)}" for c in (*changes.verdict, *changes.answers)]
    return Section(title, "\n".join(lines))


# --------------------------------------------------------------------------- the full view


def full_proposal_message(
    about: Mapping[str, Any],
    result: Mapping[str, Any] | None,
    changes: RoundChanges | None = None,
) -> Message:
    """Every answer of the proposal and its verdict (`proposal <id>`, the Slack modal,
    the Teams "Full proposal" card). `about` holds the proposal's `id`, `title`,
    `requester`, `owner`, `department`, `stage`, `risk_level`, `revision` and `answers`
    (`proposal_facts` of a stored proposal, or `status_data`'s "proposal")."""
    answers = about.get("answers") or {}
    risk = (result or {}).get("risk_level", about.get("risk_level"))
    owner = about.get("owner")
    head = Section(
        None,
        fields=(
            ("Requester", f"<@{about.get('requester')}>"),
            ("Owner", f"<@{owner}>" if owner else "nobody"),
            ("Department", user_text(about.get("department")) or "-"),
            ("Stage", str(about.get("stage"))),
            ("Risk", str(risk)),
            ("Revision", str(about.get("revision"))),
        ),
    )
    sections = [head]
    if changes is not None:
        sections.append(changes_section(changes, reader="anyone"))
    reasons = [user_text(r) for r in (result or {}).get("reasons") or []]
    if reasons:
        sections.append(Section(f"Why {risk} risk", "\n".join(f"• {r}" for r in reasons)))
    stops = (result or {}).get("stop_conditions") or []
    if stops:
        sections.append(Section("Stop conditions", "\n".join(f"• {c}" for c in stops)))
    sections += proposal_sections(answers, result, duties=True)
    pid, revision = about.get("id"), about.get("revision")
    return Message(
        kind="proposal_full",
        text=f"#{pid} {user_text(about.get('title'))}: the whole proposal (revision {revision})",
        sections=tuple(sections),
        meta={"proposal_id": pid},
    )


def proposal_facts(proposal: Any) -> dict[str, Any]:
    """What `full_proposal_message` reads, from a stored proposal (`ProposalRow`)."""
    return {
        key: getattr(proposal, key)
        for key in ("id", "title", "requester", "owner", "department", "stage", "risk_level", "revision", "answers")
    }


def changes_to_json(changes: RoundChanges) -> dict[str, Any]:
    """`status --json`'s "changes": {"since", "now", "answers": [{"key", "before", "after"}], "verdict": [...]}."""

    def rows(items: tuple[Change, ...]) -> list[dict[str, Any]]:
        return [{"key": c.key, "before": _jsonable(c.before), "after": _jsonable(c.after)} for c in items]

    return {
        "since": changes.since,
        "now": changes.now,
        "answers": rows(changes.answers),
        "verdict": rows(changes.verdict),
    }


def changes_from_json(data: Mapping[str, Any]) -> RoundChanges:
    def rows(items: Any) -> tuple[Change, ...]:
        return tuple(Change(str(i["key"]), _tupled(i.get("before")), _tupled(i.get("after"))) for i in items or ())

    return RoundChanges(int(data["since"]), int(data["now"]), rows(data.get("answers")), rows(data.get("verdict")))


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _tupled(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
