"""`govbot` command line (DESIGN.md, Command line).

Bad input never ends in a traceback: problems are printed one per line on stderr and
the command exits 2. A database that is not migrated exits 1 naming `govbot db upgrade`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from bot.domain.errors import ProposalInvalid
from bot.domain.policy import PolicyError
from bot.domain.proposal import validate_proposal

if TYPE_CHECKING:  # the commands import what they use, so `govbot classify` starts fast
    from bot.messages.message import Message
    from bot.ports import Clock
    from bot.service.core import Govbot
    from bot.settings import Settings

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

logger = logging.getLogger(__name__)
T = TypeVar("T")


class CliError(Exception):
    """A problem to print without a traceback; `code` is the exit status."""

    def __init__(self, lines: Sequence[str] | str, code: int = EXIT_USAGE):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.code = code
        super().__init__("; ".join(self.lines))


# --------------------------------------------------------------------------- helpers


def _settings(*, startup: bool = False) -> Settings:
    """The validated settings; with `startup`, also the files they name (policy, roles).
    Every problem is one line naming its variable; the command exits 2."""
    from bot.settings import SettingsError, check_startup, load_settings

    try:
        settings = load_settings()
        if startup:
            check_startup(settings)
    except SettingsError as exc:
        raise CliError(exc.problems, EXIT_USAGE) from None
    return settings


def _core(clock: Clock | None = None, settings: Settings | None = None) -> Govbot:
    """The core on the configured database, after every setting was checked."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from bot.app import build_core
    from store.db import DatabaseNotMigrated

    if settings is None:
        settings = _settings(startup=True)
    try:
        return build_core(settings, clock=clock)
    except DatabaseNotMigrated as exc:
        raise CliError(str(exc), EXIT_FAIL) from None
    except OperationalError as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        cause = str(exc.orig or exc).strip().splitlines()[0]
        raise CliError(f"cannot reach the database {where}: {cause}", EXIT_FAIL) from None


def _read_json(path: str, stdin: TextIO) -> Any:
    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"proposal: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _proposal_id(text: str) -> int:
    try:
        value = int(text.lstrip("#"))
    except ValueError:
        raise CliError(f"ID: {text!r} is not a proposal id (a whole number such as 12)") from None
    if value <= 0:
        raise CliError(f"ID: {text!r} is not a proposal id (a whole number such as 12)")
    return value


def _render(message: Message, out: TextIO) -> None:
    from handlers.console.render import render_message

    out.write(render_message(message, color=_color(out)) + "\n")


def _color(out: TextIO) -> bool:
    import os

    return bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


# --------------------------------------------------------------------------- commands


def cmd_classify(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from bot.domain.classifier import classify

    raw = _read_json(args.file, stdin)
    try:
        answers = validate_proposal(raw)
    except ProposalInvalid as exc:
        raise CliError([str(e) for e in exc.errors]) from None
    settings = _settings()
    _print_json(classify(answers, _classify_policy(settings)), out)
    return EXIT_OK


def cmd_extract(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """Pre-fill a proposal from a paragraph: the LLM when OPENAI_API_KEY is set, else the lexicon."""
    from bot.app import build_extractor
    from bot.domain.errors import UsageError
    from bot.domain.intake import extract_json
    from bot.domain.policy_file import load_policy

    try:
        text = stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{args.file}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CliError(f"{args.file}: not UTF-8 text") from None
    settings = _settings()
    policy = load_policy(settings.policy_file)
    try:
        extraction = build_extractor(settings).extract(text, policy)
    except UsageError as exc:
        raise CliError(exc.message) from None
    _print_json(extract_json(extraction, policy), out)
    return EXIT_OK


def _classify_policy(settings: Settings) -> Any:
    """GOVBOT_POLICY_FILE when set, else the policy applied in SQL, else the default."""
    from bot.domain.policy_file import load_policy

    if settings.policy_file is not None:
        return load_policy(settings.policy_file)
    from bot.app import stored_policy

    return stored_policy(settings) or load_policy()


def cmd_db(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from store.db import current_revision, make_engine, upgrade

    settings = _settings()
    try:
        upgrade(settings.database_url)
        revision = current_revision(make_engine(settings.database_url))
    except OperationalError as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        cause = str(exc.orig or exc).strip().splitlines()[0]
        raise CliError(f"cannot reach the database {where}: {cause}", EXIT_FAIL) from None
    out.write(f"database migrated to {revision}\n")
    return EXIT_OK


def cmd_roles(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from bot.domain.errors import Refused

    core = _core()
    if args.roles_cmd == "set":
        try:
            message = core.set_role(args.actor, args.role, args.department or "", list(args.users))
        except Refused as exc:
            raise CliError(exc.message) from None
        except ValueError as exc:
            raise CliError(str(getattr(exc, "message", exc))) from None
        _render(message, out)
        return EXIT_OK
    _render(core.roles(), out)
    return EXIT_OK


def _about_proposal(args: argparse.Namespace, work: Callable[[Govbot, int], T]) -> tuple[int, T]:
    """Run `work(core, id)` for the ID argument; an unknown id is a clear error."""
    from bot.domain.errors import NotFound

    core = _core()
    pid = _proposal_id(args.id)
    try:
        return pid, work(core, pid)
    except NotFound:
        raise CliError(f"ID: there is no proposal {pid}", EXIT_FAIL) from None


def cmd_status(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    if args.json:
        _about_proposal(args, lambda core, pid: _print_json(core.status_data(pid), out))
    else:
        _about_proposal(args, lambda core, pid: _render(core.status(pid), out))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    if args.verify and args.id:
        raise CliError("--verify checks the whole audit trail; give no ID with it")
    if args.verify:
        return _verify_audit_chain(out)
    if not args.id:
        raise CliError("ID: give a proposal id, or --verify to check the whole audit trail")

    _, lines = _about_proposal(args, lambda core, pid: core.audit_lines(pid))
    out.write("\n".join(lines) + "\n")
    return EXIT_OK


def _verify_audit_chain(out: TextIO) -> int:
    """`govbot audit --verify`: walk the whole hash chain; exit 1 naming the first broken event."""
    from store.audit_chain import format_head, verify_url
    from store.db import DatabaseNotMigrated

    try:
        report = verify_url(_settings().database_url)
    except DatabaseNotMigrated as exc:
        raise CliError(str(exc), EXIT_FAIL) from None
    if not report.ok:
        raise CliError(
            f"audit trail broken at event #{report.broken_id}: {report.problem} ({report.events} events read)",
            EXIT_FAIL,
        )
    out.write(f"audit trail intact: {report.events} events; chain head {format_head(report.head)}\n")
    return EXIT_OK


def cmd_audit_pack(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    pid, data = _about_proposal(args, lambda core, pid: core.audit_pack(pid, args.format))
    target = Path(args.output or f"audit-pack-{pid}.{args.format}")
    _write(target, data)
    out.write(f"wrote {target} ({len(data)} bytes)\n")
    return EXIT_OK


def _write(target: Path, data: bytes) -> None:
    """Write an output file, or say which file could not be written and why."""
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise CliError(
            f"--output: cannot write {target}: {exc.strerror or exc}; give a path in a folder that exists",
            EXIT_FAIL,
        ) from None


def cmd_export(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    text = _core().export(args.format)
    if args.output:
        _write(Path(args.output), text.encode("utf-8"))
        out.write(f"wrote {args.output}\n")
    else:
        out.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def cmd_portfolio(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    core = _core()
    if args.json:
        _print_json(core.portfolio_data(), out)
    else:
        _render(core.portfolio(), out)
    return EXIT_OK


def cmd_digest(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from bot.messages.digest import digest_json

    core = _core()
    row = core.draft_digest(core.clock.now(), actor="cli")
    notice = None
    if args.post:
        notice = core.post_digest("cli", row.id)
        with core.uow() as uow:
            row = uow.digests.get(row.id)
    if args.json:
        _print_json(digest_json(row), out)
    else:
        out.write(row.text + "\n")
        out.write(
            f"\n(digest {row.id}, model {row.model}, status {row.status}"
            + (f", fallback: {row.fallback_reason}" if row.fallback_reason else "")
            + ")\n"
        )
    if notice is not None and not row.posted_to:
        sys.stderr.write(f"govbot digest: not posted: {notice.text}\n")
        return EXIT_FAIL
    return EXIT_OK


FUTURE_SLACK_S = 60  # `--now` this far ahead of the clock counts as "the future"


def cmd_run_jobs(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from bot.clock import FixedClock, SystemClock
    from bot.service.jobs import failed_jobs

    now = _parse_now(args.now) if args.now else None
    clock = FixedClock(now) if now else SystemClock()
    core = _core(clock)
    real_now = SystemClock().now()
    if now is not None and not args.dry_run and (now - real_now).total_seconds() > FUTURE_SLACK_S:
        sys.stderr.write(
            f"govbot run-jobs: warning: --now {now.isoformat()} is later than the current time "
            f"({real_now.isoformat(timespec='seconds')}); the jobs write their audit events, reminders, "
            "escalations and check-in requests into the real audit trail and outbox dated in the future, "
            "and they will not run again for those periods. Use --dry-run to see what would run without "
            "writing anything.\n"
        )
    result = core.run_due(clock.now(), dry_run=args.dry_run)
    _print_json(result, out)
    failed = failed_jobs(result)
    for job in failed:
        then = (
            "draft it by hand with `govbot digest --post`"
            if job == "digest"
            else "the next run tries this period again"
        )
        sys.stderr.write(
            f"govbot run-jobs: {job} failed for {result[job].get('period')}: {result[job].get('error')}; "
            f"the log has the details; {then}\n"
        )
    return EXIT_FAIL if failed else EXIT_OK


def _parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--now: {text!r} is not an ISO time such as 2026-11-23T09:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cmd_import(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    rows = _read_json(args.file, stdin)
    if not isinstance(rows, list):
        raise CliError("FILE: must hold a JSON list of proposals ([{...}, {...}])")
    actor = _chat_user(args.actor)
    core = _core()
    channel = args.channel or _default_channel(core.settings)
    progress = _progress(len(rows)) if sys.stderr.isatty() and len(rows) > 20 else None
    report = core.import_proposals(actor, channel, rows, progress=progress)
    if progress:
        sys.stderr.write("\n")
    if args.json:
        _print_json(report, out)
    else:
        for item in report["rows"]:
            if item["status"] == "imported":
                out.write(
                    f"row {item['row']}: imported as #{item['proposal_id']} "
                    f"({item['risk_level']} risk) {item['title']}\n"
                )
            else:
                out.write(f"row {item['row']}: refused: {'; '.join(item['errors'])}\n")
        out.write(f"{report['imported']} imported, {report['refused']} refused\n")
    return EXIT_OK if report["refused"] == 0 else EXIT_USAGE


def _default_channel(settings: Settings) -> str:
    if settings.slack_bot_token:
        return "slack"
    if settings.microsoft_app_id or settings.teams_enabled:
        return "teams"
    return "console"


def _progress(total: int) -> Callable[[int], None]:
    def show(done: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        sys.stderr.flush()

    return show


def _chat_user(actor: str) -> str:
    from bot.domain.roles import RESERVED_ACTORS

    actor = actor.strip()
    if not actor or actor in RESERVED_ACTORS or any(c.isspace() for c in actor):
        raise CliError(
            f"--as: {actor!r} is not a user id; use a platform id such as U123 "
            f"(not blank, no spaces, not {' or '.join(RESERVED_ACTORS)})"
        )
    return actor


def cmd_chat(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from handlers.console.chat import run_chat

    run_chat(_core(), _chat_user(args.actor), stdin, out)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from bot.domain.roles import OPERATOR
    from handlers.console.demo import run_demo

    run_demo(_core(), out, color=_color(out), operator=OPERATOR)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """Check everything (settings, files, channels, port, Slack token), then open the
    database and serve; the server logs where it listens and which channels are on."""
    from handlers.base import StartupError
    from handlers.web import bind_host, preflight, serve

    settings = _settings(startup=True)
    try:
        host = bind_host(settings, args.host)
        listener = preflight(settings, host, args.port, socket=args.socket)
    except StartupError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        core = _core(settings=settings)
        serve(core, settings, host=host, port=args.port, socket=args.socket, listener=listener)
    except StartupError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    finally:
        listener.close()
    return EXIT_OK


def _read_policy(path: str, stdin: TextIO) -> Any:
    """Read and validate a candidate policy file; every problem is one line, exit 2."""
    from bot.service.policy_versions import check

    try:
        text = stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CliError(f"{path}: not UTF-8 text") from None
    try:
        return check(text, path)
    except PolicyError as exc:
        raise CliError([f"{path}: {problem}" for problem in exc.problems]) from None


def cmd_policy(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from bot.domain.errors import Refused
    from bot.messages.policy import applied_message, what_if_table

    if args.policy_cmd == "check":
        candidate = _read_policy(args.file, stdin)
        policy = candidate.policy
        out.write(f"{args.file}: valid policy {policy.version} (content hash {policy.content_hash[:16]})\n")
        return EXIT_OK
    if args.policy_cmd == "apply":
        actor = _chat_user(args.actor)
        candidate = _read_policy(args.file, stdin)
        core = _core()
        try:
            result = core.apply_policy(actor, candidate)
        except Refused as exc:
            raise CliError(exc.message) from None
        _render(applied_message(result.to_json()), out)
        return EXIT_OK
    if args.policy_cmd == "what-if":
        candidate = _read_policy(args.file, stdin)
        report = _core().policy_what_if(candidate)
        if args.json:
            _print_json(report, out)
        else:
            out.write(what_if_table(report))
        return EXIT_OK
    text = _core().policy_text()
    out.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def cmd_teams_package(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from handlers.teams.package import build_package

    path = build_package(Path(args.output))
    out.write(f"wrote {path}\n")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="govbot", description="AI-workflow governance assistant for Slack and Teams.")
    p.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("classify", help="classify one proposal JSON and print the verdict")
    c.add_argument("file", nargs="?", default="-", help="a proposal JSON file, or - for standard input")
    c.set_defaults(func=cmd_classify)

    c = sub.add_parser("extract", help="pre-fill a proposal from a paragraph and print what is still to ask")
    c.add_argument("file", nargs="?", default="-", help="a text file holding the paragraph, or - for standard input")
    c.set_defaults(func=cmd_extract)

    c = sub.add_parser("demo", help="scripted tour of the whole flow on the local database")
    c.set_defaults(func=cmd_demo)

    c = sub.add_parser("chat", help="the console channel: talk to govbot in a terminal")
    c.add_argument("--as", dest="actor", required=True, metavar="USER", help="your user id, e.g. U_ALICE")
    c.set_defaults(func=cmd_chat)

    c = sub.add_parser("serve", help="HTTP server for Slack (/slack/events) and Teams (/api/messages)")
    c.add_argument("--host", help="address to listen on (default 0.0.0.0; 127.0.0.1 with GOVBOT_ENV=local)")
    c.add_argument("--port", type=int, default=3000)
    c.add_argument("--socket", action="store_true", help="use Slack Socket Mode (needs SLACK_APP_TOKEN)")
    c.set_defaults(func=cmd_serve)

    c = sub.add_parser("db", help="database administration")
    dsub = c.add_subparsers(dest="db_cmd", required=True, metavar="ACTION")
    dsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db)

    c = sub.add_parser("roles", help="the role directory")
    rsub = c.add_subparsers(dest="roles_cmd", required=True, metavar="ACTION")
    rsub.add_parser("list", help="who holds each role").set_defaults(func=cmd_roles)
    r = rsub.add_parser("set", help="replace the holders of a role")
    r.add_argument("role")
    r.add_argument("users", nargs="+", metavar="USER")
    r.add_argument("--department", default="")
    r.add_argument(
        "--as",
        dest="actor",
        default="cli",
        metavar="USER",
        help="who makes the change (default: the operator at this terminal)",
    )
    r.set_defaults(func=cmd_roles)

    c = sub.add_parser("portfolio", help="portfolio summary")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_portfolio)

    c = sub.add_parser("digest", help="draft (and post) the weekly digest")
    c.add_argument("--post", action="store_true", help="post it to the configured channels")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_digest)

    c = sub.add_parser("status", help="one proposal: stage, classification, approvals, trail")
    c.add_argument("id")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_status)

    c = sub.add_parser("audit", help="the full audit trail of one proposal, or --verify the whole trail")
    c.add_argument("id", nargs="?")
    c.add_argument("--verify", action="store_true", help="check the hash chain of every audit event (no ID)")
    c.set_defaults(func=cmd_audit)

    c = sub.add_parser("audit-pack", help="one document per proposal for an auditor")
    c.add_argument("id")
    c.add_argument("--format", choices=("md", "pdf"), default="md")
    c.add_argument("--output", "-o", help="file to write (default audit-pack-ID.FORMAT)")
    c.set_defaults(func=cmd_audit_pack)

    c = sub.add_parser("export", help="the whole portfolio as CSV or JSON")
    c.add_argument("--format", choices=("csv", "json"), required=True)
    c.add_argument("--output", "-o")
    c.set_defaults(func=cmd_export)

    c = sub.add_parser("import", help="submit proposals from a JSON list (an existing AI inventory)")
    c.add_argument("file", help="JSON file holding a list of proposals, or - for standard input")
    c.add_argument("--as", dest="actor", required=True, metavar="USER", help="the requester of every row")
    c.add_argument("--channel", choices=("slack", "teams", "console"), help="where to route approvals")
    c.add_argument("--json", action="store_true", help="print the per-row report as JSON")
    c.set_defaults(func=cmd_import)

    c = sub.add_parser("run-jobs", help="run due jobs once (reminders, escalations, check-ins, digest)")
    c.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="run as if at this time (a time later than now writes future-dated events into the real trail)",
    )
    c.add_argument("--dry-run", action="store_true", help="print what would run; write nothing, tell nobody")
    c.set_defaults(func=cmd_run_jobs)

    c = sub.add_parser("policy", help="the classification policy: export, check, what-if, apply")
    psub = c.add_subparsers(dest="policy_cmd", required=True, metavar="ACTION")
    psub.add_parser("export", help="print the active policy as TOML").set_defaults(func=cmd_policy)
    r = psub.add_parser("check", help="validate a candidate policy file (exit 2, one line per problem)")
    r.add_argument("file", help="a policy TOML file, or - for standard input")
    r.set_defaults(func=cmd_policy)
    r = psub.add_parser("what-if", help="what a candidate policy would change on the live portfolio (writes nothing)")
    r.add_argument("file", help="a policy TOML file, or - for standard input")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.set_defaults(func=cmd_policy)
    r = psub.add_parser("apply", help="make a policy active and re-classify live proposals (governance)")
    r.add_argument("file", help="a policy TOML file, or - for standard input")
    r.add_argument("--as", dest="actor", required=True, metavar="USER", help="the governance member applying it")
    r.set_defaults(func=cmd_policy)

    c = sub.add_parser("teams-package", help="zip the Teams app manifest and icons for sideloading")
    c.add_argument("--output", "-o", default="govbot-teams.zip")
    c.set_defaults(func=cmd_teams_package)
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, stdin: TextIO | None = None) -> int:
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the problem
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve" and not args.verbose:  # a server logs what it does; libraries stay quiet
        for package in ("bot", "handlers", "store"):
            logging.getLogger(package).setLevel(logging.INFO)
    try:
        return int(args.func(args, out, stdin))
    except CliError as exc:
        for line in exc.lines:
            sys.stderr.write(f"govbot {args.command}: {line}\n")
        return exc.code
    except ProposalInvalid as exc:
        for err in exc.errors:
            sys.stderr.write(f"govbot {args.command}: {err}\n")
        return EXIT_USAGE
    except PolicyError as exc:  # a broken GOVBOT_POLICY_FILE: name every bad key, no traceback
        sys.stderr.write(f"govbot {args.command}: invalid policy {exc.source}\n")
        for problem in exc.problems:
            sys.stderr.write(f"govbot {args.command}: {problem}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
