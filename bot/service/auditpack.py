"""The audit pack: one document per proposal for an auditor (`govbot audit-pack ID`).

It gathers, in one read, the answers and every revision, the classification and its
reasons, the regulatory mapping (EU AI Act, NIST AI RMF, ISO/IEC 42001), approvals and
decisions, overrides with their reasons, lifecycle moves, value check-ins and the full
audit trail. The document is built once as neutral blocks and rendered as Markdown or
as PDF (fpdf2, with the DejaVu font matplotlib ships so any script prints).
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.errors import UsageError
from bot.domain.proposal import FIELDS
from bot.ports import Clock, UnitOfWork
from bot.service.export import format_event, iso_time
from bot.service.queries import checkin_flag

logger = logging.getLogger(__name__)

FORMATS = ("md", "pdf")
NIST_FUNCTIONS = ("govern", "map", "measure", "manage")


@dataclass
class Block:
    """One piece of the document: a heading, a paragraph, a bullet list or a table."""

    kind: str  # h1 | h2 | h3 | p | list | table
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: tuple[str, ...] = ()
    rows: Sequence[tuple[str, ...]] = field(default_factory=list)


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# --------------------------------------------------------------------------- gather


def gather(uow: UnitOfWork, clock: Clock, proposal_id: int) -> dict[str, Any]:
    """Read everything the pack shows in one unit of work (NotFound propagates)."""
    with uow:
        row = uow.proposals.get(proposal_id)
        return {
            "proposal": row,
            "revisions": uow.proposals.revisions(proposal_id),
            "classification": uow.classifications.latest(proposal_id),
            "stops": uow.stop_conditions.for_proposal(proposal_id),
            "requests": uow.approvals.for_proposal(proposal_id),
            "decisions": {d.request_id: d for d in uow.decisions.for_proposal(proposal_id)},
            "checkins": uow.checkins.for_proposal(proposal_id),
            "incidents": uow.incidents.for_proposal(proposal_id),
            "events": uow.audit.for_proposal(proposal_id),
            "audit_head": uow.audit.head(),
            "flag": checkin_flag(uow, proposal_id),
            "downstream": uow.handoffs.for_proposal(proposal_id),
            "similar": uow.similarity.linked(proposal_id),
            "generated_at": clock.now(),
        }


def blocks(data: dict[str, Any]) -> list[Block]:
    """The document as neutral blocks, in reading order."""
    row = data["proposal"]
    out = [Block("h1", f"Audit pack: #{row.id} {row.title}")]
    out.append(
        Block(
            "table",
            header=("Field", "Value"),
            rows=[
                ("Generated", iso_time(data["generated_at"]) or ""),
                ("Stage", row.stage),
                ("Risk level", row.risk_level),
                ("EU AI Act tier", _show(row.eu_tier)),
                ("Department", _show(row.department)),
                ("Requester", row.requester),
                ("Owner", _show(row.owner)),
                ("Channel", row.channel),
                ("Autonomy", _show(row.autonomy)),
                ("AI vendor", _show(row.vendor)),
                ("Model", _show(row.model)),
                ("Hands work to", ", ".join(data.get("downstream") or []) or "-"),
                ("Revision", str(row.revision)),
                ("Created", iso_time(row.created_at) or ""),
                ("Stage changed", iso_time(row.stage_changed_at) or ""),
            ],
        )
    )
    out += _answers(data)
    out += _classification(data)
    out += _regulatory(data)
    out += _stops(data)
    out += _approvals(data)
    out += _lifecycle(data)
    out += _checkins(data)
    out += _incidents(data)
    out += _similar(data)
    out.append(Block("h2", "Full audit trail"))
    out.append(Block("list", items=[format_event(e) for e in data["events"]] or ["no events"]))
    out.append(Block("p", _chain_note(data.get("audit_head"))))
    return out


def _chain_note(head: tuple[int, str] | None) -> str:
    """The audit chain head this pack publishes: whoever keeps the pack can check later,
    with `govbot audit --verify`, that no event up to it was rewritten."""
    at = f"#{head[0]} {head[1]}" if head else "#0 (the trail was empty)"
    return (
        f"Audit chain head when this pack was generated: {at}. Every audit event is hash-chained to "
        "the one before it; `govbot audit --verify` checks the whole chain, and a trail rewritten after "
        "this pack was made no longer has this head."
    )


def _similar(data: dict[str, Any]) -> list[Block]:
    """Live near-duplicates in other departments (AI sprawl), with why they look alike."""
    similar = data.get("similar") or []
    items = [
        f"#{x.id} {x.title} ({x.department or 'no department'}, {x.stage}; score {x.score:.2f}): {x.reason}"
        for x in similar
    ]
    return [Block("h2", "Similar workflows in other departments"), Block("list", items=items or ["none found"])]


def _answers(data: dict[str, Any]) -> list[Block]:
    row = data["proposal"]
    out = [
        Block("h2", f"Answers (revision {row.revision})"),
        Block("table", header=("Key", "Answer"), rows=[(k, _show(row.answers.get(k))) for k in FIELDS]),
    ]
    out.append(Block("h2", "Revisions"))
    previous: dict[str, Any] | None = None
    for rev in data["revisions"]:
        out.append(Block("h3", f"Revision {rev.revision} by {rev.author} at {iso_time(rev.created_at)}"))
        if previous is None:
            out.append(
                Block(
                    "p",
                    "Initial submission: "
                    + ", ".join(f"{k}={_show(v)}" for k, v in rev.answers.items() if v not in (None, "", [], False)),
                )
            )
        else:
            changed = [
                f"{k}: {_show(previous.get(k))} -> {_show(rev.answers.get(k))}"
                for k in sorted(set(previous) | set(rev.answers))
                if previous.get(k) != rev.answers.get(k)
            ]
            out.append(Block("list", items=changed or ["no answer changed"]))
        previous = rev.answers
    return out


def _classification(data: dict[str, Any]) -> list[Block]:
    c = data["classification"]
    if c is None:
        return [Block("h2", "Classification"), Block("p", "No classification recorded.")]
    r = c.result
    readiness = r.get("readiness") or {}
    effective = r.get("effective") or {}
    out = [
        Block("h2", f"Classification (revision {c.revision}, {iso_time(c.created_at)})"),
        Block("p", f"Risk level: {r.get('risk_level', c.risk_level)}"),
        Block("h3", "Reasons"),
        Block("list", items=list(r.get("reasons") or ["none given"])),
        Block(
            "table",
            header=("Item", "Value"),
            rows=[
                ("Stop conditions", _show(r.get("stop_conditions"))),
                (
                    "Readiness",
                    f"{readiness.get('score', '?')}/{readiness.get('max', 6)}; missing: "
                    f"{_show(readiness.get('missing'))}; ready to scale: "
                    f"{_show(readiness.get('ready_to_scale'))}",
                ),
                ("Approver roles", _show(r.get("approver_roles"))),
                ("Effective data", _show(effective.get("data"))),
                ("Effective actions", _show(effective.get("actions"))),
                ("Policy", f"{_show(r.get('policy_version'))} (sha256 {_show(r.get('policy_hash'))})"),
            ],
        ),
    ]
    rollout = r.get("rollout") or {}
    if rollout:
        out += [
            Block("h3", "Rollout plan"),
            Block("table", header=("Entry", "Plan"), rows=[(k, _show(v)) for k, v in rollout.items()]),
        ]
    return out


def _regulatory(data: dict[str, Any]) -> list[Block]:
    c = data["classification"]
    reg = (c.result.get("regulatory") if c is not None else None) or {}
    out = [Block("h2", "Regulatory mapping")]
    if not reg:
        return out + [Block("p", "No regulatory mapping was recorded with the classification.")]
    eu = reg.get("eu_ai_act") or {}
    out += [
        Block("h3", "EU AI Act"),
        Block("p", f"Tier: {_show(eu.get('tier'))}; role: {_show(eu.get('role'))}"),
        Block("p", "Basis:"),
        Block("list", items=[_show(b) for b in eu.get("basis") or []] or ["—"]),
        Block("p", "Duties:"),
        Block("list", items=[_show(d) for d in eu.get("duties") or []] or ["—"]),
    ]
    nist = reg.get("nist_ai_rmf") or {}
    out += [
        Block("h3", "NIST AI RMF"),
        Block(
            "table",
            header=("Function", "Evidenced", "Missing"),
            rows=[
                (fn, _show((nist.get(fn) or {}).get("evidenced")), _show((nist.get(fn) or {}).get("missing")))
                for fn in NIST_FUNCTIONS
            ],
        ),
    ]
    iso = reg.get("iso_42001") or {}
    out += [
        Block("h3", "ISO/IEC 42001 Annex A"),
        Block(
            "table", header=("Evidenced", "Missing"), rows=[(_show(iso.get("evidenced")), _show(iso.get("missing")))]
        ),
    ]
    return out


def _stops(data: dict[str, Any]) -> list[Block]:
    out = [Block("h2", "Stop conditions and overrides")]
    if not data["stops"]:
        return out + [Block("p", "No stop condition was raised.")]
    out.append(
        Block(
            "table",
            header=("Code", "Status", "Overridden by", "Reason", "Changed"),
            rows=[
                (s.code, s.status, _show(s.overridden_by), _show(s.override_reason), iso_time(s.changed_at) or "")
                for s in data["stops"]
            ],
        )
    )
    return out


def _approvals(data: dict[str, Any]) -> list[Block]:
    out = [Block("h2", "Approvals and decisions")]
    if not data["requests"]:
        return out + [Block("p", "No approval was requested.")]
    rows = []
    for r in data["requests"]:
        d = data["decisions"].get(r.id)
        what = r.role if r.kind == "proposal" else f"{r.role} (autonomy -> {r.target})"
        timing = f"asked {iso_time(r.created_at)}"
        if r.reminded_at:
            timing += f"; reminded {iso_time(r.reminded_at)}"
        if r.escalated_at:
            timing += f"; escalated {iso_time(r.escalated_at)}"
        decision = "—"
        if d is not None:
            decision = f"{d.decision} by {d.actor}"
            if d.on_behalf_of:
                decision += f" for {d.on_behalf_of}"
            decision += f" at {iso_time(d.created_at)}"
            why = "; ".join(x for x in (d.comment, d.override_reason and f"override: {d.override_reason}") if x)
            if why:
                decision += f" ({why})"
        rows.append(
            (
                f"#{r.id} round {r.round}",
                what,
                r.approver,
                r.status,
                decision,
                timing + (f"; note: {r.note}" if r.note else ""),
            )
        )
    out.append(Block("table", header=("Request", "Role", "Approver", "Status", "Decision", "Timing"), rows=rows))
    return out


def _lifecycle(data: dict[str, Any]) -> list[Block]:
    moves = [e for e in data["events"] if e.action.startswith("stage.")]
    out = [Block("h2", "Lifecycle moves")]
    if not moves:
        return out + [Block("p", "No lifecycle move recorded.")]
    rows = []
    for e in moves:
        d = e.detail or {}
        why = "; ".join(_show(d[k]) for k in ("reason", "override_reason", "code") if d.get(k))
        if d.get("incident_id"):
            why = "; ".join(x for x in (why, f"incident {d['incident_id']}") if x)
        rows.append(
            (
                iso_time(e.created_at) or "",
                e.actor,
                f"{_show(d.get('from'))} -> {e.action[6:]}",
                _show(d.get("via")),
                why or "—",
            )
        )
    out.append(Block("table", header=("When", "Who", "Move", "Via", "Why"), rows=rows))
    return out


def _checkins(data: dict[str, Any]) -> list[Block]:
    out = [Block("h2", "Value check-ins")]
    row = data["proposal"]
    out.append(Block("p", f"Metric: {_show(row.answers.get('value_metric'))}"))
    if data["flag"]:
        out.append(
            Block(
                "p",
                f"Flagged: {data['flag'].get('note', 'no check-in for two periods')} "
                f"({_show(data['flag'].get('periods_missed'))}).",
            )
        )
    if not data["checkins"]:
        return out + [Block("p", "No check-in reported.")]
    out.append(
        Block(
            "table",
            header=("Period", "Value", "Note", "Reported by", "When"),
            rows=[
                (c.period, c.value, _show(c.note), c.reported_by, iso_time(c.created_at) or "")
                for c in data["checkins"]
            ],
        )
    )
    return out


def _incidents(data: dict[str, Any]) -> list[Block]:
    """Every incident reported after go-live: severity, what happened, who reported it
    when, and how it was resolved."""
    out = [Block("h2", "Incidents")]
    incidents = data.get("incidents") or []
    if not incidents:
        return out + [Block("p", "No incident reported.")]
    open_count = sum(1 for i in incidents if i.status == "open")
    out.append(Block("p", f"{len(incidents)} reported, {open_count} open."))
    out.append(
        Block(
            "table",
            header=("Incident", "Severity", "Status", "What happened", "Reported", "Resolution"),
            rows=[
                (
                    str(i.id),
                    i.severity,
                    i.status,
                    i.text,
                    f"{i.reported_by}, {iso_time(i.created_at) or ''}",
                    "—"
                    if i.resolution is None
                    else f"{i.resolution} ({i.resolved_by}, {iso_time(i.resolved_at) or ''})",
                )
                for i in incidents
            ],
        )
    )
    return out


# --------------------------------------------------------------------------- render


def to_markdown(doc: list[Block]) -> str:
    """Render blocks as GitHub-flavoured Markdown."""
    lines: list[str] = []
    for b in doc:
        if b.kind in ("h1", "h2", "h3"):
            lines += ["#" * int(b.kind[1]) + " " + b.text, ""]
        elif b.kind == "p":
            lines += [_md(b.text), ""]
        elif b.kind == "list":
            lines += [f"- {_md(i)}" for i in b.items] + [""]
        elif b.kind == "table":
            lines.append("| " + " | ".join(b.header) + " |")
            lines.append("|" + "---|" * len(b.header))
            lines += ["| " + " | ".join(_md(c).replace("|", "\\|") for c in r) + " |" for r in b.rows]
            lines.append("")
    return "\n".join(lines)


_MENTION = re.compile(r"<@([^<>|\s]+)(?:\|[^<>]*)?>")


def _md(text: str) -> str:
    """One line of text; chat mentions (`<@U1>`) as the user id an auditor looks up (`@U1`)."""
    return " ".join(_MENTION.sub(r"@\1", str(text)).split())


def _font_dir() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    return path if (path / "DejaVuSans.ttf").is_file() else None


def to_pdf(doc: list[Block]) -> bytes:
    """Render blocks as a PDF (DejaVu Sans when available, else Helvetica in latin-1):
    a title page (the title, the overview table and the contents), then the sections,
    with "page N of M" at the foot of every page and the title at the head of all but
    the first. Text is left-aligned and table columns are sized to their content, so
    a timestamp or an identifier is never broken across lines."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    title = doc[0].text if doc and doc[0].kind == "h1" else "Audit pack"

    class Pack(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font(family, "", 7)
                self.set_text_color(110)
                self.cell(0, 5, clean(title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                self.set_text_color(0)
                self.ln(1)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 7)
            self.set_text_color(110)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")
            self.set_text_color(0)

    pdf = Pack(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.alias_nb_pages()
    fonts = _font_dir()
    if fonts is not None:
        pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        family = "DejaVu"

        def clean(text: str) -> str:
            return _md(text)
    else:
        family = "Helvetica"

        def clean(text: str) -> str:
            return _md(text).encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(clean(title))
    pdf.set_creator("govbot")
    width = pdf.epw
    sizes = {"h1": 16, "h2": 13, "h3": 11}

    def text(block_text: str, size: float, height: float, style: str = "") -> None:
        pdf.set_font(family, style, size)
        pdf.multi_cell(width, height, clean(block_text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bold_width(cell: str) -> float:
        pdf.set_font(family, "B", 8)
        measured = pdf.get_string_width(cell)
        pdf.set_font(family, "", 8)
        return float(measured)

    def table(b: Block) -> None:
        for part, long in _table_parts(b.rows):
            if long:
                long_row(part[0])
            else:
                grid_of(b.header, part)

    def long_row(row: tuple[str, ...]) -> None:
        # a row taller than a page cannot be a table row: its short cells as a bold
        # line, each long cell as a paragraph that flows over the pages
        label = " | ".join(c for c in row if len(c) <= LONG_CELL)
        text(label or "—", 8, 4.5, "B")
        for cell in (c for c in row if len(c) > LONG_CELL):
            text(cell, 8, 4.5)
        pdf.ln(1)

    def grid_of(header: Sequence[str], body_rows: Sequence[tuple[str, ...]]) -> None:
        pdf.set_font(family, "", 8)
        rows = [tuple(clean(h) for h in header), *(tuple(clean(c) for c in r) for r in body_rows)]
        with pdf.table(
            width=width,
            col_widths=column_widths(rows, pdf.get_string_width, width, heading=bold_width),
            line_height=4.5,
            first_row_as_headings=True,
            headings_style=_headings(family),
            text_align="LEFT",
        ) as grid:
            for row in rows:
                grid.row(list(row))
        pdf.ln(1)

    # the title page: what this is, the overview, and what follows
    body = list(doc)
    pdf.add_page()
    pdf.ln(30)
    text(title, 22, 10, "B")
    pdf.ln(2)
    text(
        "An audit pack: the proposal, its classification, regulatory mapping, approvals, overrides, "
        "lifecycle, value check-ins and the full audit trail, as govbot recorded them.",
        10,
        5,
    )
    pdf.ln(6)
    body = body[1:] if body and body[0].kind == "h1" else body
    if body and body[0].kind == "table":
        table(body[0])
        body = body[1:]
    contents = [b.text for b in body if b.kind == "h2"]
    if contents:
        pdf.ln(4)
        text("Contents", 12, 7, "B")
        for name in contents:
            text(f"- {name}", 9, 5)
    pdf.add_page()
    for b in body:
        if b.kind in sizes:
            if pdf.will_page_break(30):  # a heading starts a page rather than end one
                pdf.add_page()
            pdf.ln(2)
            text(b.text, sizes[b.kind], 7, "B")
        elif b.kind == "p":
            text(b.text, 9, 5)
        elif b.kind == "list":
            for item in b.items:
                text("- " + item, 8, 4.5)
        elif b.kind == "table":
            table(b)
    return bytes(pdf.output())


def column_widths(
    rows: Sequence[tuple[str, ...]],
    measure: Callable[[str], float],
    total: float,
    padding: float = 3.0,
    *,
    heading: Callable[[str], float] | None = None,
) -> tuple[float, ...]:
    """Widths for a table's columns that add up to `total`: every column is at least as
    wide as its longest word (a timestamp, an id, a code stays on one line), and the
    room left goes to the columns with the most text. `heading` measures the first row
    (set in bold)."""
    columns = max((len(r) for r in rows), default=0)
    if not columns:
        return ()
    least = [padding] * columns
    natural = [padding] * columns
    for n, row in enumerate(rows):
        width_of = heading if heading is not None and n == 0 else measure
        for i, cell in enumerate(row[:columns]):
            words = cell.split() or [""]
            least[i] = max(least[i], max(width_of(w) for w in words) + padding)
            natural[i] = max(natural[i], width_of(cell) + padding)
    if sum(least) >= total:  # even the longest words do not fit: share the width by them
        return tuple(total * w / sum(least) for w in least)
    if sum(natural) <= total:  # everything fits on one line: spread the rest evenly
        spare = (total - sum(natural)) / columns
        return tuple(n + spare for n in natural)
    spare, wants = total - sum(least), [n - m for n, m in zip(natural, least, strict=True)]
    return tuple(m + spare * w / sum(wants) for m, w in zip(least, wants, strict=True))


LONG_CELL = 600  # characters; a longer cell could make its table row taller than a page


def _table_parts(rows: Sequence[tuple[str, ...]]) -> list[tuple[list[tuple[str, ...]], bool]]:
    """The rows in runs of ordinary rows (a table each) and single rows holding a cell
    longer than LONG_CELL, in order."""
    parts: list[tuple[list[tuple[str, ...]], bool]] = []
    for row in rows:
        long = any(len(str(c)) > LONG_CELL for c in row)
        if long or not parts or parts[-1][1]:
            parts.append(([row], long))
        else:
            parts[-1][0].append(row)
    return parts


def _headings(family: str) -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family=family, emphasis="BOLD")


def build_audit_pack(uow: UnitOfWork, clock: Clock, proposal_id: int, fmt: str) -> bytes:
    """The audit pack of one proposal as Markdown (UTF-8) or PDF bytes.

    Raises `bot.domain.errors.NotFound` for an unknown proposal and UsageError for a bad format."""
    if fmt not in FORMATS:
        raise UsageError(f"format: unknown {fmt!r}; allowed: {', '.join(FORMATS)}")
    doc = blocks(gather(uow, clock, proposal_id))
    logger.info("audit pack for proposal %s (%s)", proposal_id, fmt)
    return to_markdown(doc).encode("utf-8") if fmt == "md" else to_pdf(doc)
