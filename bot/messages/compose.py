"""Neutral messages the core shows (bot.messages.Message); channels render them.

Users are mentioned as `<@U123>`; renderers may turn that into their own syntax.
Every list is capped ("and N more") so a message stays within platform limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import duties
from bot.domain.proposal_diff import RoundChanges
from bot.domain.value import standing_line
from bot.messages import proposal_view
from bot.messages.message import APPROVE, EDIT_PROPOSAL, REJECT, REQUEST_CHANGES, Button, Message, Section, user_text

MAX_ITEMS = 8
MAX_TEXT = 2500

STOP_TEXT = {
    "no_owner": "no workflow owner is named",
    "customer_data_without_review": "customer data with no human review",
    "changes_permissions_billing_or_production": "it changes permissions, billing or production",
    "unmeasurable_success": "no value metric, so success cannot be measured",
    "invisible_failure": "a failure would not be noticed",
    "prohibited_practice": "a practice the EU AI Act prohibits (no override lifts this)",
}
ROLE_LABEL = {
    "owner": "workflow owner",
    "department_lead": "department lead",
    "security": "security",
    "finance": "finance",
    "legal": "legal",
    "engineering": "engineering",
    "governance": "governance",
}
DECIDED_VERB = {"approve": "Approved", "reject": "Rejected", "request_changes": "Changes requested"}
STATUS_VERB = {
    "approved": "approved",
    "rejected": "rejected",
    "changes_requested": "requested changes",
    "pending": "pending",
    "superseded": "superseded",
}

HELP_LINES = (
    ("propose [paragraph]", "describe a new AI workflow in your own words: I pre-fill what I can, ask what is missing"),
    ("mine", "your proposals, your unfinished one, and the approvals waiting on you"),
    ("cancel", "stop the interview (also `quit`); your answers stay as a draft for `propose`"),
    ("status <id>", "one proposal: stage, classification, approvals, audit trail"),
    ("proposal <id>", "every answer of a proposal, its verdict and what the last resubmission changed"),
    ("edit <id>", "correct a proposal after changes were requested (one summary of its answers)"),
    ("assess <id>", "owner: answer the EU AI Act questions that decide its tier and nobody answered yet"),
    ("approve <request id> [comment]", "approve a request routed to you (the request id is on the card and in `mine`)"),
    ("reject <request id> <comment>", "reject a request routed to you"),
    ("changes <request id> <comment>", "ask the requester for changes"),
    ("approve #<id> [comment]", "name the proposal instead (also reject, changes): your one request on it"),
    ("approve <request id> --override <reason>", "governance: decide in the approver's place, with a written reason"),
    ("portfolio", "the portfolio summary"),
    ("roles", "the role directory"),
    ("roles set <role> [department] <user>...", 'governance: set who holds a role ("Customer Service" in quotes)'),
    ("digest [here]", "draft the weekly digest (here: post it in this conversation)"),
    ("digest post <id>", "governance: post a reviewed digest (also `digest regenerate <id>`)"),
    ("pause|resume|retire|promote <id>", "move a workflow along its lifecycle (owner or governance)"),
    ("promote <id> --override <reason>", "governance: promote despite readiness or value, with a written reason"),
    ("override <id> <code> <reason...>", "governance: override a stop condition with a written reason"),
    ("delegate <user> <until YYYY-MM-DD>", "let someone decide your approvals until a date"),
    ("checkin <id> <number> [note]", "report the latest value of a workflow's metric, in its unit"),
    ("autonomy <id>", "ask to move a workflow one autonomy step further"),
    ("incident <id> <low|medium|high> <what happened>", "report harm done by a workflow; high pauses a running one"),
    ("resolve <incident id> <what was done>", "close an incident (owner or governance); then `resume <id>`"),
    ("policy", "governance: the active policy, who applied it and when"),
    ("policy what-if <TOML>", "governance: what a candidate policy would change; its button applies it"),
    ("whoami", "your name and user id (for GOVBOT_GOVERNANCE and the roles file) and your roles"),
    ("help", "this list"),
)


def mention(user: str | None) -> str:
    return f"<@{user}>" if user else "nobody"


def fmt_time(at: datetime | None, tz: str = "UTC") -> str:
    """ "14:02 (2026-11-16 UTC)" in the configured time zone."""
    if at is None:
        return "-"
    try:
        zone = ZoneInfo(tz)
    except Exception:  # unknown zone names fall back to UTC
        zone, tz = ZoneInfo("UTC"), "UTC"
    local = at.astimezone(zone)
    return f"{local:%H:%M} ({local:%Y-%m-%d} {tz})"


def capped(items: Sequence[str], limit: int = MAX_ITEMS) -> list[str]:
    """At most `limit` items, then "... and N more"."""
    items = list(items)
    if len(items) <= limit:
        return items
    return items[:limit] + [f"... and {len(items) - limit} more"]


def clip(text: str | None, limit: int = MAX_TEXT) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bullets(items: Iterable[str], limit: int = MAX_ITEMS) -> str:
    return clip("\n".join(f"• {i}" for i in capped(list(items), limit)))


def stop_label(code: str) -> str:
    return f"{code} — {STOP_TEXT.get(code, code)}"


def _ref(proposal: Any) -> str:
    return f"#{proposal.id} {user_text(proposal.title)}"


# --------------------------------------------------------------------------- classification


def similar_section(similar: Sequence[Any], audience: str = "requester") -> Section | None:
    """Near-duplicates in other departments (`bot.domain.similarity.Match`), each with its
    owner and why it looks alike; None when there are none. The requester is asked to
    talk to their owners; an approver is told to check the overlap."""
    if not similar:
        return None
    n = len(similar)
    head = f"{n} similar workflow{'s' if n != 1 else ''} exist{'s' if n == 1 else ''} in other departments"
    lines = [
        f"#{x.id} {clip(x.title, 80)} ({x.department or 'no department'}, {x.stage or 'live'}; "
        f"owner {mention(x.owner)}; score {x.score:.2f}) — {x.reason}"
        for x in similar
    ]
    ask = (
        "Talk to their owners before you build: could one workflow serve both?"
        if audience == "requester"
        else "Check the overlap: could one workflow serve both departments?"
    )
    return Section(head, clip(bullets(lines) + "\n" + ask))


def classification_message(
    proposal: Any,
    result: dict[str, Any],
    requests: Sequence[Any],
    resubmitted: bool = False,
    similar: Sequence[Any] = (),
) -> Message:
    """The requester's view of a classification: risk and why, stop conditions,
    readiness gaps, rollout plan, who must approve, the EU AI Act tier and the similar
    workflows of other departments."""
    risk = result.get("risk_level", "?")
    head = "Resubmitted" if resubmitted else "Classified"
    reasons = [user_text(r) for r in result.get("reasons") or []]  # they quote the proposal's own words
    sections = [Section("Risk: " + risk.upper(), bullets(reasons or ["no risk signals found"]))]
    stops = result.get("stop_conditions") or []
    if stops:
        sections.append(Section("Stop conditions (block the move to pilot)", bullets(stop_label(c) for c in stops)))
    ready = result.get("readiness") or {}
    missing = ready.get("missing") or []
    text = "Missing: " + ", ".join(missing) if missing else "Nothing missing."
    if ready.get("ready_to_scale"):
        text += " Ready to scale."
    sections.append(Section(f"Readiness {ready.get('score', 0)}/{ready.get('max', 6)}", text))
    rollout = result.get("rollout") or {}
    if rollout:
        sections.append(
            Section(
                "Rollout plan",
                fields=tuple(
                    (k.replace("_", " "), mention(str(v)) if k == "owner" and v else user_text(clip(str(v), 300)))
                    for k, v in rollout.items()
                ),
            )
        )
    sections.append(Section("Who must approve", bullets(approver_lines(requests))))
    eu = ((result.get("regulatory") or {}).get("eu_ai_act")) or {}
    if eu:
        lines = [f"Tier: {eu.get('tier', '?')} (role: {eu.get('role', 'deployer')})"]
        lines += [f"Basis: {user_text(b)}" for b in capped(eu.get("basis") or [], 4)]
        lines += [f"Duty: {user_text(d)}" for d in capped(eu.get("duties") or [], 6)]
        sections.append(Section("EU AI Act", clip("\n".join(lines))))
    overlap = similar_section(similar)
    if overlap is not None:
        sections.append(overlap)
    return Message(
        kind="classification",
        text=f"{head} {_ref(proposal)}: {risk} risk, {len(stops)} stop condition(s), "
        f"{len([r for r in requests if r.status != 'superseded'])} approval(s) needed",
        sections=tuple(sections),
        meta={"proposal_id": proposal.id, "risk_level": risk},
    )


def approver_lines(requests: Sequence[Any]) -> list[str]:
    lines = []
    for r in requests:
        if r.status == "superseded":
            continue
        dept = f" ({user_text(r.department)})" if r.department else ""
        line = f"{ROLE_LABEL.get(r.role, r.role)}{dept}: {mention(r.approver)} — {STATUS_VERB.get(r.status, r.status)}"
        if r.note:
            line += f" — {r.note}"
        lines.append(line)
    return lines or ["nobody"]


def similar_notice(similar: Sequence[Any], title: str) -> Message | None:
    """Before the requester submits: "3 similar workflows exist: ..., talk to their
    owners?" (None when nothing looks alike)."""
    section = similar_section(similar)
    if section is None:
        return None
    return Message(
        kind="similar_workflows",
        text=f"Before you submit {clip(title, 80)}: {section.title}",
        sections=(Section(None, section.text),),
    )


# --------------------------------------------------------------------------- approval cards


def approval_request_card(
    proposal: Any,
    request: Any,
    result: dict[str, Any] | None,
    with_buttons: bool = True,
    delegate_of: str | None = None,
    similar: Sequence[Any] = (),
    changes: RoundChanges | None = None,
    approvals: int = 0,
) -> Message:
    """The approver's card: what is proposed (every answer, `bot.messages.proposal_view`),
    what changed since the revision they saw (`changes`), its risk, why they are asked,
    similar workflows of other departments, buttons. `delegate_of` names the approver
    when the card goes to their active delegate; `approvals` counts towards a quorum."""
    risk = (result or {}).get("risk_level", proposal.risk_level)
    answers = proposal.answers or {}
    if request.kind == "autonomy":
        headline = (
            f"Autonomy step for {_ref(proposal)}: {proposal.autonomy or 'draft_only'} → {request.target} ({risk} risk)"
        )
    else:
        headline = f"Approval needed: {_ref(proposal)} ({risk} risk)"
    summary = Section(
        "Proposal",
        fields=(
            ("Requester", mention(proposal.requester)),
            ("Owner", mention(proposal.owner)),
            ("Department", user_text(proposal.department) or "-"),
            ("Stage", proposal.stage),
            ("Request id", str(request.id)),
        ),
    )
    sections = [summary]
    if changes is not None:
        sections.append(proposal_view.changes_section(changes))
    if result:
        sections.append(
            Section(
                f"Risk: {risk}", bullets([user_text(r) for r in result.get("reasons") or []] or ["no risk signals"], 4)
            )
        )
        stops = result.get("stop_conditions") or []
        if stops:
            sections.append(Section("Stop conditions", bullets((stop_label(c) for c in stops), 6)))
    view, more = proposal_view.card_view(answers, result, proposal.id)
    sections += view
    label = ROLE_LABEL.get(request.role, request.role)
    why = (
        f"You are {mention(delegate_of)}'s delegate; they are asked as {label}"
        if delegate_of
        else f"You are asked as {label}"
    )
    if request.department:
        why += f" for {user_text(request.department)}"
    why += "."
    if request.note:
        why += f" {request.note[:1].upper()}{request.note[1:]}."
    sections.append(Section("Why you", why))
    if getattr(request, "quorum", 1) > 1:
        sections.append(Section("Quorum", quorum_line(request, approvals)))
    overlap = similar_section(similar, audience="approver")
    if overlap is not None:
        sections.append(overlap)
    buttons: tuple[Button, ...] = ()
    if with_buttons and request.status == "pending":
        value = str(request.id)
        buttons = (
            Button(APPROVE, "Approve", value, "primary"),
            Button(REJECT, "Reject", value, "danger"),
            Button(REQUEST_CHANGES, "Request changes", value),
        )
    meta: dict[str, Any] = {"proposal_id": proposal.id, "request_id": request.id}
    if more:  # the whole proposal rides along for channels that show it in the card (Teams)
        meta["full"] = proposal_view.full_proposal_message(
            proposal_view.proposal_facts(proposal), result, changes
        ).to_json()
    return Message(
        kind="approval_request",
        text=headline,
        sections=tuple(sections),
        buttons=buttons + more,
        meta=meta,
    )


def quorum_line(request: Any, approvals: int) -> str:
    """ "1 of 2 governance approvals": how far a request is towards its quorum."""
    label = ROLE_LABEL.get(request.role, request.role)
    if request.governance_fallback and request.role != "governance":
        return duties.quorum_line("governance", approvals, request.quorum) + f" (standing in for {label})"
    return duties.quorum_line(label, approvals, request.quorum)


def outcome_notice(decision: str, proposal_id: int, stage: str, waiting: int) -> str:
    """One line for the person who just decided."""
    verb = DECIDED_VERB.get(decision, decision)
    if stage == "pilot":
        return f"{verb}. All approvals are in: #{proposal_id} moves to pilot."
    if stage == "approved":
        return f"{verb}. All approvals are in, but stop conditions block pilot for #{proposal_id}."
    if stage == "rejected" and decision == "reject":
        return f"{verb}. #{proposal_id} is rejected."
    if stage == "changes_requested":
        return f"{verb}. The requester can edit and resubmit #{proposal_id}."
    if waiting:
        return f"{verb}. #{proposal_id} waits on {waiting} more approval(s)."
    return f"{verb}. #{proposal_id} is {stage}."


def decided_line(decision: Any, tz: str = "UTC") -> str:
    """ "Approved by <@U1> at 14:02 (2026-11-16 UTC)" (+ on behalf of ...)."""
    line = (
        f"{DECIDED_VERB.get(decision.decision, decision.decision)} by {mention(decision.actor)} "
        f"at {fmt_time(decision.created_at, tz)}"
    )
    if decision.on_behalf_of:
        line += f" on behalf of {mention(decision.on_behalf_of)}"
    return line


def decided_card(proposal: Any, request: Any, decision: Any, tz: str = "UTC") -> Message:
    """The approval card once decided: the decision, no buttons."""
    line = decided_line(decision, tz)
    fields = [
        ("Proposal", _ref(proposal)),
        ("Role", ROLE_LABEL.get(request.role, request.role)),
        ("Request id", str(request.id)),
    ]
    if decision.comment:
        fields.append(("Comment", user_text(clip(decision.comment, 500))))
    if decision.override_reason:
        fields.append(("Governance reason", user_text(clip(decision.override_reason, 500))))
    return Message(
        kind="approval_decided",
        text=line,
        sections=(Section(None, "", tuple(fields)),),
        meta={"proposal_id": proposal.id, "request_id": request.id, "decision": decision.decision},
    )


def closed_card(proposal: Any, request: Any, why: str) -> Message:
    """An approval card that no longer needs a decision (superseded, proposal closed)."""
    text = f"No decision needed on {_ref(proposal)}: {why}"
    return Message(
        kind="approval_closed",
        text=text,
        sections=(
            Section(None, "", (("Role", ROLE_LABEL.get(request.role, request.role)), ("Request id", str(request.id)))),
        ),
        meta={"proposal_id": proposal.id, "request_id": request.id},
    )


def notice(
    kind: str, text: str, proposal_id: int | None = None, detail: str = "", buttons: tuple[Button, ...] = ()
) -> Message:
    """A one-line notice (threaded updates, refusals, command answers). `detail` is the
    core's text: callers mark what people typed in it (comments, reasons) with `user_text`."""
    sections = (Section(None, clip(detail)),) if detail else ()
    meta = {"proposal_id": proposal_id} if proposal_id is not None else {}
    return Message(kind=kind, text=clip(text, 1000), sections=sections, buttons=buttons, meta=meta)


def edit_button(proposal_id: int) -> Button:
    return Button(EDIT_PROPOSAL, "Edit and resubmit", str(proposal_id), "primary")


# --------------------------------------------------------------------------- status and lists


def status_message(data: dict[str, Any], tz: str = "UTC") -> Message:
    """`status <id>` from `Govbot.status_data`: everything known about one proposal."""
    p = data["proposal"]
    c = data.get("classification") or {}
    sections = [
        Section(
            None,
            fields=(
                ("Stage", p["stage"]),
                ("Risk", p["risk_level"]),
                ("Owner", mention(p.get("owner"))),
                ("Requester", mention(p["requester"])),
                ("Department", user_text(p.get("department")) or "-"),
                ("Autonomy", autonomy_text(p.get("autonomy"), data.get("autonomy_ceiling"))),
                ("Revision", str(p["revision"])),
                ("AI vendor", " / ".join(x for x in (p.get("vendor"), p.get("model")) if x) or "-"),
                ("Hands work to", ", ".join(p.get("downstream") or []) or "-"),
            ),
        )
    ]
    changes = data.get("changes")
    if changes:
        sections.append(proposal_view.changes_section(proposal_view.changes_from_json(changes), reader="anyone"))
    if c:
        sections.append(
            Section("Why this risk", bullets([user_text(r) for r in c.get("reasons") or []] or ["no risk signals"], 5))
        )
    view, more = proposal_view.card_view(p.get("answers") or {}, c or None, p["id"])
    sections += view
    full = {"full": proposal_view.full_proposal_message(p, c or None, _changes(changes)).to_json()} if more else {}
    stops = []
    for s in data.get("stop_conditions") or []:
        line = f"{stop_label(s['code'])}: {s['status']}"
        if s["status"] == "overridden":
            line += f" by {mention(s.get('overridden_by'))} — {user_text(s.get('override_reason'))}"
        stops.append(line)
    if stops:
        sections.append(Section("Stop conditions", bullets(stops)))
    similar = data.get("similar") or []
    if similar:
        reasons = data.get("similar_reasons") or {}
        lines_ = [
            f"#{x['id']} {clip(x['title'], 80)} ({x.get('department') or 'no department'}; score {x['score']:.2f})"
            + (f" — {reasons[str(x['id'])]}" if reasons.get(str(x["id"])) else "")
            for x in similar
        ]
        sections.append(Section("Similar workflows in other departments", bullets(lines_)))
    lines = []
    for a in data.get("approvals") or []:
        if a["status"] == "superseded":
            continue
        what = ROLE_LABEL.get(a["role"], a["role"]) + (f" ({a['department']})" if a.get("department") else "")
        if a["kind"] == "autonomy":
            what = f"autonomy → {a.get('target')} / {what}"
        d = a.get("decision")
        who = mention(a["approver"]) if a["approver"] else "nobody who may decide yet"
        line = f"{what}: {who} — {STATUS_VERB.get(a['status'], a['status'])}"
        if (a.get("quorum") or 1) > 1:
            line += f" ({quorum_line(_QuorumView(a), int(a.get('approvals') or 0))})"
        if d and a["status"] != "pending":
            if d["actor"] != a["approver"]:
                line += f" by {mention(d['actor'])}"
            line += f" at {_short(d['created_at'])}"
            if d.get("override_reason"):
                line += f" (reason: {user_text(clip(d['override_reason'], 200))})"
            if d.get("comment"):
                line += f": {user_text(clip(d['comment'], 300))}"
        if a.get("note"):
            line += f" ({a['note']})"
        lines.append(line)
    sections.append(Section("Approvals", bullets(lines or ["none"])))
    checkins = data.get("checkins") or []
    flag = data.get("checkin_flag")
    if flag:
        sections.append(
            Section(
                "Flagged",
                f"No value check-in for {len(flag.get('periods_missed') or [])} periods "
                f"({', '.join(flag.get('periods_missed') or [])}).",
            )
        )
    if checkins:
        sections.append(
            Section(
                "Value check-ins",
                bullets(
                    f"{ci['period']}: {user_text(ci['value'])}"
                    + (f" — {user_text(ci['note'])}" if ci.get("note") else "")
                    for ci in checkins[-MAX_ITEMS:]
                ),
            )
        )
    incidents = data.get("incidents") or []
    if incidents:
        sections.append(Section("Incidents", bullets(incident_lines(incidents, tz))))
    sections += value_sections(data)
    undelivered = data.get("undelivered") or []
    if undelivered:
        sections.append(
            Section(
                "Undelivered messages",
                bullets(
                    f"{o['kind']} to {mention(o['recipient'])} via {o['channel']}: {o['status']}, "
                    f"{o['attempts']} attempt(s)"
                    + (f", last error: {user_text(clip(o['last_error'], 120))}" if o.get("last_error") else "")
                    for o in undelivered
                ),
            )
        )
    trail = trail_lines(data.get("audit") or [])
    if len(trail) > TRAIL_LINES:
        trail = [f"... {len(trail) - TRAIL_LINES} earlier lines"] + trail[-TRAIL_LINES:]
    sections.append(Section("Audit trail", clip("\n".join(trail) or "empty")))
    return Message(
        kind="status",
        text=f"#{p['id']} {user_text(p['title'])}: {p['stage']}, {p['risk_level']} risk",
        sections=tuple(sections),
        buttons=more,
        meta={"proposal_id": p["id"], **full},
    )


def autonomy_text(running: str | None, ceiling: dict[str, Any] | None) -> str:
    """ "human_approves (ceiling human_approves; asked for autonomous, capped)"."""
    text = running or "-"
    if not ceiling:
        return text
    text += f" (ceiling {ceiling['level']}"
    if ceiling.get("capped"):
        text += f"; asked for {ceiling.get('asked')}, capped"
    return text + ")"


class _QuorumView:
    """An approval record (`status --json`) read like a request by `quorum_line`."""

    def __init__(self, a: dict[str, Any]):
        self.role = a["role"]
        self.quorum = int(a.get("quorum") or 1)
        self.governance_fallback = bool(a.get("governance_fallback"))


def _changes(data: dict[str, Any] | None) -> RoundChanges | None:
    return proposal_view.changes_from_json(data) if data else None


def value_sections(data: dict[str, Any]) -> list[Section]:
    """`status`: the latest value against the target and the trend; for a pilot, what
    the production gate still lacks; a governance override of the gate with its reason."""
    out: list[Section] = []
    p = data["proposal"]
    standing = data.get("value") or {}
    if standing.get("target") is not None or standing.get("latest") is not None:
        unit = standing.get("unit")
        out.append(Section("Value", standing_line({**standing, "unit": user_text(unit) if unit else None})))
    gate = data.get("production_gate") or {}
    unmet = gate.get("unmet") or []
    if p["stage"] == "pilot":
        text = bullets(f"{u['code']}: {u['text']}" for u in unmet) if unmet else "all conditions met"
        out.append(Section("Production gate", text))
    override = gate.get("override")
    if override:
        codes = ", ".join(str(u.get("code")) for u in override.get("unmet", []) if isinstance(u, dict))
        out.append(
            Section(
                "Production gate overridden",
                f"by {mention(override.get('by'))} at {_short(str(override.get('at')))} ({codes}): "
                f"{user_text(clip(str(override.get('reason') or ''), 300))}",
            )
        )
    return out


def status_summary(data: dict[str, Any]) -> Message:
    """`status <id>` for someone not involved in the proposal: where it stands, without
    its comments, decisions, check-in notes or audit trail."""
    p = data["proposal"]
    live = [a for a in data.get("approvals") or [] if a["status"] != "superseded"]
    approved = sum(1 for a in live if a["status"] == "approved")
    return Message(
        kind="status",
        text=f"#{p['id']} {user_text(p['title'])}: {p['stage']}, {p['risk_level']} risk",
        sections=(
            Section(
                None,
                fields=(
                    ("Stage", p["stage"]),
                    ("Risk", p["risk_level"]),
                    ("Owner", mention(p.get("owner"))),
                    ("Department", user_text(p.get("department")) or "-"),
                    ("Approvals", f"{approved} of {len(live)} approved"),
                    ("Open incidents", str(sum(1 for i in data.get("incidents") or [] if i["status"] == "open"))),
                ),
            ),
            Section(
                None,
                "Comments, decisions and the audit trail are shown to the requester, the owner, "
                "the people asked to approve it and governance.",
            ),
        ),
        meta={"proposal_id": p["id"]},
    )


def incident_lines(incidents: list[dict[str, Any]], tz: str = "UTC") -> list[str]:
    """One line per incident of `status --json` (open ones first, newest first): its id,
    severity, who reported it when, what happened and, once resolved, what was done."""
    ordered = sorted(incidents, key=lambda i: (i["status"] != "open", -int(i["id"])))
    out = []
    for i in ordered:
        when = fmt_time(datetime.fromisoformat(i["created_at"]), tz) if i.get("created_at") else "-"
        line = f"incident {i['id']} ({i['severity']}, {i['status']}) by {mention(i['reported_by'])}, {when}: "
        line += user_text(clip(i["text"], 300))
        if i.get("resolution"):
            line += f" — resolved: {user_text(clip(i['resolution'], 300))}"
        out.append(line)
    return out


TRAIL_LINES = 12


def trail_lines(audit: Sequence[dict[str, Any]]) -> list[str]:
    """The audit trail as lines, oldest first. Refusals repeated by the same person for
    the same attempt collapse into one line (how many, first and last time) where the
    last of them happened, so a flood of refused commands cannot push the real trail
    out of view."""
    refusals: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for event in audit:
        if event["action"].endswith("refused"):
            d = event.get("detail") or {}
            key = (event["actor"], event["action"], str(d.get("code")), str(d.get("attempt")))
            refusals.setdefault(key, []).append(event)
    last_of_group = {id(group[-1]): group for group in refusals.values()}
    lines = []
    for event in audit:
        if not event["action"].endswith("refused"):
            lines.append(
                f"{_short(event['created_at'])} {mention(event['actor'])} {event['action']}{_audit_why(event)}"
            )
            continue
        group = last_of_group.get(id(event))
        if group is None:
            continue  # shown with the last refusal of its kind
        if len(group) == 1:
            lines.append(
                f"{_short(event['created_at'])} {mention(event['actor'])} {event['action']}{_audit_why(event)}"
            )
        else:
            span = f"{_short(group[0]['created_at'])} to {_short(event['created_at'])}"
            lines.append(f"{span} {mention(event['actor'])} {event['action']} ×{len(group)}{_audit_why(event)}")
    return lines


def _short(iso: str) -> str:
    return iso[:16].replace("T", " ")


def _audit_why(event: dict[str, Any]) -> str:
    d = event.get("detail") or {}
    for key in ("reason", "override_reason", "comment", "note"):
        if d.get(key):
            return f" — {user_text(clip(str(d[key]), 160))}"
    return ""


def proposal_line(p: Any) -> str:
    return f"#{p.id} {user_text(p.title)} — {p.stage}, {p.risk_level} risk"


def mine_message(
    actor: str, proposals: Sequence[Any], pending: Sequence[tuple[Any, Any]], draft: Any = None
) -> Message:
    """`mine`: the actor's proposals, their unfinished interview (`draft`, an
    InterviewDraft) with how to resume it, and the approvals waiting on them."""
    sections = [
        Section("Your proposals", bullets([proposal_line(p) for p in proposals] or ["none yet — try `propose`"]))
    ]
    if draft is not None:
        sections.append(Section("Unfinished", draft_line(draft)))
    waiting = [f"request {r.id}: {_ref(p)} as {ROLE_LABEL.get(r.role, r.role)}" for r, p in pending]
    hint = "Decide with `approve <request id>`, `reject <request id> <comment>` or `changes <request id> <comment>`."
    sections.append(Section("Waiting on you", bullets(waiting or ["nothing"]) + (f"\n{hint}" if pending else "")))
    return Message(
        kind="mine",
        text=f"{len(proposals)} proposal(s), {len(pending)} approval(s) waiting on {mention(actor)}",
        sections=tuple(sections),
    )


def draft_line(draft: Any) -> str:
    """One line about an unfinished interview and how to resume it."""
    answers = draft.answers or {}
    count = len([k for k, v in answers.items() if v not in (None, "", [])])
    saved = f"saved {_short(draft.updated_at.isoformat())} UTC" if draft.updated_at else "saved"
    if draft.proposal_id:
        return f"Your edit of #{draft.proposal_id} ({saved}): type `propose` to resume it where you stopped."
    title = answers.get("title") or "untitled"
    return (
        f'Proposal "{clip(str(title), 80)}" ({count} answer{"s" if count != 1 else ""} so far, {saved}): '
        "type `propose` to resume it where you stopped."
    )


def home_message(actor: str, proposals: Sequence[Any], cards: Sequence[Message]) -> Message:
    """App Home: the actor's proposals, then each waiting approval; the buttons of all
    cards are merged, each naming its request id in the label (the cards themselves
    are in meta["cards"] for renderers that show them one by one)."""
    sections = [Section("Your proposals", bullets([proposal_line(p) for p in proposals] or ["none yet"]))]
    buttons: list[Button] = []
    for card in cards[:MAX_ITEMS]:
        sections.append(Section(card.text, clip("\n".join(s.text for s in card.sections if s.text), 600)))
        rid = card.meta.get("request_id")
        buttons.extend(Button(b.action, f"{b.label} · request {rid}", b.value, b.style) for b in card.buttons)
    if len(cards) > MAX_ITEMS:
        sections.append(Section(None, f"... and {len(cards) - MAX_ITEMS} more waiting on you"))
    return Message(
        kind="home",
        text=f"govbot — {len(cards)} approval(s) waiting on you",
        sections=tuple(sections),
        buttons=tuple(buttons[:24]),
        meta={"cards": [c.to_json() for c in cards[:MAX_ITEMS]]},
    )


def roles_message(entries: dict[str, Any], can_edit: bool) -> Message:
    """The role directory; governance is told how to change it."""
    lines = []
    for role, value in entries.items():
        if isinstance(value, dict):
            if not value:
                lines.append(f"{role}: nobody (routed to governance)")
            for dept, users in sorted(value.items()):
                lines.append(f"{role} ({user_text(dept)}): {', '.join(mention(u) for u in users) or 'nobody'}")
        else:
            lines.append(f"{role}: {', '.join(mention(u) for u in value) or 'nobody (routed to governance)'}")
    hint = (
        "Change with `roles set <role> [department] <user>...`, mentioning each person, e.g. "
        '`roles set security @sam` or `roles set department_lead "Customer Service" @carla` '
        "(a department with spaces in double quotes; `none` clears a role)."
        if can_edit
        else "Only governance can change the directory."
    )
    return Message(
        kind="roles", text="Role directory", sections=(Section(None, bullets(lines, 40)), Section(None, hint))
    )


def whoami_message(actor: str, roles: Sequence[str]) -> Message:
    """`whoami`: the actor's name and the id to put in GOVBOT_GOVERNANCE or a roles file."""
    return Message(
        kind="whoami",
        text=f"You are {mention(actor)}; your user id is {actor}",
        sections=(
            Section(
                None,
                fields=(("User id", actor), ("Roles", ", ".join(roles) or "none")),
            ),
            Section(
                None,
                f"Give this id to GOVBOT_GOVERNANCE (e.g. GOVBOT_GOVERNANCE={actor}) or the roles file; "
                "in chat, others name you by mentioning you.",
            ),
        ),
    )


def help_message(command: str = "/aiwf") -> Message:
    """Every command with one line; `command` is the slash command ("" where commands
    are typed to the bot, as in Teams and the console)."""
    prefix = f"{command} " if command else ""
    fields = tuple((f"{prefix}{usage}", what) for usage, what in HELP_LINES)
    head = f"govbot commands ({command} <command>)" if command else "govbot commands (type one to the bot)"
    return Message(kind="help", text=head, sections=(Section(None, fields=fields),))
