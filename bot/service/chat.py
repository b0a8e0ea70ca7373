"""Run a parsed chat command (`Govbot.handle_command`): the same on every channel.

User input never raises: usage errors and refusals come back as a Reply whose
message says what is wrong and what is allowed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain.approval_rules import comment_required, missing_comment
from bot.domain.errors import NotFound, ProposalInvalid, Refused, UsageError
from bot.domain.incidents import SEVERITIES, check_severity
from bot.domain.intake import is_paragraph
from bot.domain.interview import seed as make_seed
from bot.domain.people import MENTION, is_platform_id, name_key
from bot.domain.proposal import STOP_CONDITIONS
from bot.domain.roles import DIRECTORY_ROLES, PER_DEPARTMENT, is_mention
from bot.domain.usertext import refuse_nul
from bot.messages import compose
from bot.messages.message import Message, Section
from bot.ports import Clock, Drafter, PolicySource, UnitOfWork
from bot.service import (
    assess,
    checkins,
    decisions,
    digest,
    inbox,
    incidents,
    intake,
    lifecycle,
    people,
    policy_versions,
    portfolio,
    queries,
    reroute,
    roles,
    submit,
)
from bot.service.drafts import load_draft
from bot.service.results import InterviewStart, Reply
from bot.settings import Settings

logger = logging.getLogger(__name__)


def run_command(
    uow: UnitOfWork,
    clock: Clock,
    policy: PolicySource,
    settings: Settings,
    drafter: Drafter | None,
    actor: str,
    channel: str,
    text: str,
    conversation_id: str | None = None,
) -> Reply:
    """Parse `text` and run it for `actor`; always returns a Reply. `conversation_id`
    is where it was typed (used by `digest here`)."""
    reply = _reply(uow, clock, policy, settings, drafter, actor, channel, text, conversation_id)
    if reply.message is not None:
        try:  # people by name; a failed look-up must not cost the person their answer
            with uow:
                reply.message = people.named(uow, reply.message)
        except Exception:
            logger.exception("naming the people in the reply failed")
    return reply


def _reply(
    uow: UnitOfWork,
    clock: Clock,
    policy: PolicySource,
    settings: Settings,
    drafter: Drafter | None,
    actor: str,
    channel: str,
    text: str,
    conversation_id: str | None,
) -> Reply:
    try:
        refuse_nul(text, "text")
        command = parse(text)
        if command.name == "digest":
            command.args["conversation_id"] = conversation_id
        return _run(uow, clock, policy, settings, drafter, actor, channel, command)
    except UsageError as exc:
        return Reply(compose.notice("usage_error", exc.message, detail=_usage_hint(settings)))
    except Refused as exc:
        return Reply(compose.notice("refused", exc.message))
    except ProposalInvalid as exc:
        return Reply(compose.notice("usage_error", "; ".join(str(e) for e in exc.errors)))
    except NotFound as exc:
        return Reply(compose.notice("usage_error", f"Not found: {exc}"))
    except Exception:  # report, never crash the channel; the log has the details
        logger.exception("command %r by %s failed", (text or "").split(" ", 1)[0][:20], actor)
        return Reply(compose.notice("error", "Sorry, that failed on our side; the error is logged. Try again."))


LANE_OF_COMMAND = {
    "digest": "llm",
    "propose": "llm",
    "portfolio": "heavy",
    "policy": "heavy",
}  # every other command is quick


def command_lane(text: str) -> str:
    """Which lane a typed command needs: `digest` may ask the LLM for a draft, `portfolio`
    reads everything; the rest (and what does not parse) are quick."""
    try:
        return LANE_OF_COMMAND.get(parse(text).name, "quick")
    except (UsageError, ValueError):
        return "quick"


def help_message(settings: Settings, channel: str | None = None) -> Message:
    """Every command with one line; Slack shows the slash command, other channels
    (commands typed to the bot) show the bare commands."""
    return compose.help_message(settings.slack_command if channel in (None, "slack") else "")


def _usage_hint(settings: Settings) -> str:
    return f"Type `{settings.slack_command} help` for every command."


def _run(
    uow: UnitOfWork,
    clock: Clock,
    policy: PolicySource,
    settings: Settings,
    drafter: Drafter | None,
    actor: str,
    channel: str,
    command: Command,
) -> Reply:
    name, args = command.name, command.args
    if name == "help":
        message = help_message(settings, channel)
        if args.get("unknown"):
            message = _with_prefix(message, f"Unknown command {args['unknown']!r}.")
        return Reply(message)
    if name == "propose":
        return Reply(interview=_propose(uow, clock, actor, channel, args["text"]))
    if name == "edit":
        return Reply(interview=intake.edit_seed(uow, clock, policy, actor, args["proposal_id"]))
    if name == "assess":
        form = assess.form(uow, clock, policy.current(), settings, actor, args["proposal_id"])
        return Reply(assess=form) if form.questions else Reply(assess.nothing_message(form))
    if name == "mine":
        return Reply(inbox.mine(uow, clock, settings, actor, channel))
    if name == "cancel":
        return Reply(_cancel(uow, actor, channel))
    if name == "status":
        try:
            days = policy.current().min_pilot_days
            message = queries.status_message(
                uow, settings, args["proposal_id"], actor, now=clock.now(), min_pilot_days=days
            )
            return Reply(message)
        except NotFound:
            raise UsageError(f"id: there is no proposal {args['proposal_id']}; see `mine` for yours") from None
    if name == "proposal":
        try:
            return Reply(queries.proposal_message(uow, settings, args["proposal_id"], actor))
        except NotFound:
            raise UsageError(f"id: there is no proposal {args['proposal_id']}; see `mine` for yours") from None
    if name == "portfolio":
        return Reply(portfolio.portfolio_message(uow, clock, settings), ephemeral=False)
    if name == "roles":
        return Reply(roles.roles_message(uow, settings, actor))
    if name == "roles_set":
        role, dept, users = args["role"], args["department"], args["users"]
        return Reply(roles.set_role(uow, clock, settings, actor, role, dept, users, follow=reroute.reroute))
    if name == "digest":
        if args.get("verb"):
            message = digest.digest_command(
                uow, clock, settings, drafter, actor, channel, [args["verb"], str(args["digest_id"])]
            )
            return Reply(message)
        here = bool(args["here"])
        message = digest.digest_command(
            uow, clock, settings, drafter, actor, channel, ["here"] if here else [], args.get("conversation_id")
        )
        return Reply(message, ephemeral=not here)
    if name == "decide":
        request_id = args.get("request_id")
        if request_id is None:
            request_id = request_on(
                uow, clock, settings, actor, args["proposal_id"], args["decision"], args.get("override_reason")
            )
        outcome = decisions.decide(
            uow, clock, settings, actor, request_id, args["decision"], args["comment"], args.get("override_reason")
        )
        return Reply(_with_prefix(outcome.card, outcome.notice))
    if name in ("pause", "resume", "retire", "promote"):
        message = lifecycle.transition(
            uow, clock, settings, actor, args["proposal_id"], name, reason=args.get("reason"), policy=policy
        )
        return Reply(message)
    if name == "override":
        message = lifecycle.override_stop(
            uow, clock, policy, settings, actor, args["proposal_id"], args["code"], args["reason"]
        )
        return Reply(message)
    if name == "delegate":
        with uow:
            delegate_id = people.resolve_user(uow, args["delegate_id"])
        return Reply(lifecycle.delegate(uow, clock, settings, actor, delegate_id, args["until"]))
    if name == "whoami":
        return Reply(roles.whoami(uow, settings, actor))
    if name == "checkin":
        message = checkins.record_checkin(uow, clock, settings, actor, args["proposal_id"], args["value"], args["note"])
        return Reply(message)
    if name == "autonomy":
        return Reply(checkins.request_autonomy_step(uow, clock, settings, actor, args["proposal_id"]))
    if name == "incident":
        return Reply(incidents.report(uow, clock, settings, actor, args["proposal_id"], args["severity"], args["text"]))
    if name == "resolve":
        return Reply(incidents.resolve(uow, clock, settings, actor, args["incident_id"], args["text"]))
    if name == "policy":
        return Reply(policy_versions.policy_message(uow, clock, policy, settings, actor))
    if name == "policy_what_if":
        return Reply(policy_versions.try_candidate(uow, clock, policy, settings, actor, args["text"]))
    if name == "policy_apply":
        return Reply(policy_versions.confirm_candidate(uow, clock, policy, settings, actor, args["candidate_id"]))
    raise UsageError(f"unknown command {name!r}")  # pragma: no cover - parse() only returns the names above


def _with_prefix(message: Message, line: str) -> Message:
    return Message(
        message.kind,
        line,
        (Section(None, message.text),) + tuple(message.sections),
        message.buttons,
        message.image_png,
        message.meta,
    )


def _propose(uow: UnitOfWork, clock: Clock, actor: str, channel: str, text: str) -> InterviewStart:
    if is_paragraph(text):  # a description, not a title: read it (the draft keeps the words)
        return intake.keep_words(uow, clock, actor, channel, text)
    seed = make_seed(text)
    draft = load_draft(uow, channel, actor)
    if draft and not draft.get("proposal_id"):
        merged = dict(draft.get("answers") or {})
        for key, value in seed.items():
            merged.setdefault(key, value)
        return InterviewStart(seed=merged, proposal_id=None, resumed=True)
    if draft and draft.get("proposal_id") and _still_editable(uow, actor, int(draft["proposal_id"])):
        return InterviewStart(seed=dict(draft.get("answers") or {}), proposal_id=draft["proposal_id"], resumed=True)
    return InterviewStart(seed=seed, proposal_id=None, resumed=False, describe=not seed)


def _cancel(uow: UnitOfWork, actor: str, channel: str) -> Message:
    """`cancel` / `quit` typed outside a running interview: say what is kept."""
    draft = load_draft(uow, channel, actor)
    if not draft:
        return compose.notice("cancel", "Nothing to cancel: no interview is running.")
    title = (draft.get("answers") or {}).get("title") or "untitled"
    what = f"your edit of #{draft['proposal_id']}" if draft.get("proposal_id") else f'your proposal "{title}"'
    return compose.notice(
        "cancel", f"Stopped. {what[:1].upper()}{what[1:]} is kept as a draft: type `propose` to resume it."
    )


def _still_editable(uow: UnitOfWork, actor: str, proposal_id: int) -> bool:
    """An unfinished edit resumes only while the proposal still waits for it."""
    with uow:
        try:
            row = uow.proposals.get(proposal_id)
        except NotFound:
            return False
    return submit.edit_problem(actor, row) is None


LIFECYCLE = ("pause", "resume", "retire", "promote")
DECISIONS = {
    "approve": "approve",
    "reject": "reject",
    "changes": "request_changes",
    "request_changes": "request_changes",
    "request-changes": "request_changes",
}
ALIASES = {
    "?": "help",
    "list": "mine",
    "my": "mine",
    "show": "status",
    "home": "mine",
    "quit": "cancel",
    "exit": "cancel",
    "stop": "cancel",
}
MAX_ID = 2**31 - 1
CLEAR_WORDS = ("none", "-", "nobody")


@dataclass(frozen=True)
class Command:
    name: str
    args: dict[str, Any] = field(default_factory=dict)


def _split_first(text: str) -> tuple[str, str]:
    parts = text.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


def parse_id(token: str, what: str = "id") -> int:
    """A proposal or request id: `12` or `#12`."""
    raw = token.strip().lstrip("#")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 0 < int(raw) <= MAX_ID:
        raise UsageError(f"{what}: {token[:40]!r} is not a number; give the number shown as #N, e.g. `status 12`")
    return int(raw)


def _need(rest: str, usage: str, what: str) -> tuple[str, str]:
    first, more = _split_first(rest)
    if not first:
        raise UsageError(f"{what} is missing. Usage: {usage}")
    return first, more


def parse(text: str) -> Command:
    """Parse one command line (without the slash command itself)."""
    text = (text or "").replace("\u00a0", " ").strip()
    word, rest = _split_first(text)
    name = word.lower()
    name = ALIASES.get(name, name)
    if name in ("", "help"):
        return Command("help")
    if name == "propose":
        return Command("propose", {"text": rest})
    if name in ("mine", "portfolio", "whoami", "cancel"):
        return Command(name)
    if name == "promote":  # governance may override readiness and value with a written reason
        return _promote(rest)
    if name in ("status", "proposal", "edit", "assess", "autonomy") or name in LIFECYCLE:
        token, extra = _need(rest, f"{name} <id>", "id")
        if extra:
            raise UsageError(f"{name}: expected only a proposal id, got extra text {extra!r}. Usage: {name} <id>")
        return Command(name, {"proposal_id": parse_id(token)})
    if name in DECISIONS:
        return _decision(name, rest)
    if name == "roles":
        return _roles(rest)
    if name == "digest":
        return _digest_command(rest)
    if name == "override":
        return _override(rest)
    if name == "delegate":
        return _delegate(rest)
    if name == "policy":
        return _policy(rest)
    if name == "incident":
        return _incident(rest)
    if name == "resolve":
        usage = "resolve <incident id> <what was done>"
        token, done = _need(rest, usage, "incident id")
        if not done:
            raise UsageError(f"what was done: say how the incident was dealt with. Usage: {usage}")
        return Command("resolve", {"incident_id": parse_id(token, "incident id"), "text": done})
    if name == "checkin":
        token, more = _need(rest, "checkin <id> <number> [note]", "id")
        value, note = _need(more, "checkin <id> <number> [note]", "value")
        return Command("checkin", {"proposal_id": parse_id(token), "value": value, "note": note or None})
    return Command("help", {"unknown": word[:40]})


def _incident(rest: str) -> Command:
    """`incident <id> <low|medium|high> <what happened>`."""
    usage = f"incident <id> <{'|'.join(SEVERITIES)}> <what happened>"
    token, more = _need(rest, usage, "id")
    proposal_id = parse_id(token)
    word, what = _split_first(more)
    try:
        severity = check_severity(word)
    except UsageError as exc:
        raise UsageError(f"{exc.message}. Usage: {usage}") from None
    if not what:
        raise UsageError(f"what happened: say what the workflow did. Usage: {usage}")
    return Command("incident", {"proposal_id": proposal_id, "severity": severity, "text": what})


_FENCE = re.compile(r"^```[a-zA-Z]*\n?|\n?```$")


def _policy(rest: str) -> Command:
    """`policy`, `policy what-if <TOML>` (pasted, code fences allowed), `policy apply <candidate id>`."""
    sub, more = _split_first(rest)
    word = sub.lower()
    if word == "":
        return Command("policy")
    if word in ("what-if", "whatif"):
        text = _FENCE.sub("", more.strip()).strip()
        if not text:
            raise UsageError(
                "policy what-if: paste the candidate policy (TOML) after it, or attach a .toml file on Teams"
            )
        return Command("policy_what_if", {"text": text + "\n"})
    if word == "apply":
        token, extra = _need(more, "policy apply <candidate id>", "candidate id")
        if extra:
            raise UsageError(f"policy apply: expected only a candidate id, got extra text {extra!r}")
        return Command("policy_apply", {"candidate_id": parse_id(token, "candidate id")})
    raise UsageError(
        f"policy: unknown option {sub!r}; allowed: `policy`, `policy what-if <TOML>` or `policy apply <candidate id>`"
    )


OVERRIDE_FLAG = "--override"


def parse_decision(word: str, rest: str, *, require_comment: bool = True) -> Command:
    """`approve|reject|changes <request id | #proposal id> [comment] [--override <reason>]`.

    A bare number is a request id (the number on the card and in `mine`); `#3` names
    proposal 3, resolved later to the one request on it that waits on the person
    (`request_on`). `--override <reason>` is governance deciding in the approver's
    place. With `require_comment` (the default) a reject or changes without a comment
    is refused here; the console asks for it instead."""
    decision = DECISIONS[word.lower()]
    usage = f"{word} <request id | #proposal id>" + (" <comment>" if comment_required(decision) else " [comment]")
    usage += f" [{OVERRIDE_FLAG} <reason>]"
    override: str | None = None
    head, flag, reason = f" {rest} ".partition(f" {OVERRIDE_FLAG} ")
    if flag:
        override = reason.strip()
        if not override:
            raise UsageError(f"override reason: write why governance decides in the approver's place. Usage: {usage}")
        rest = head.strip()
    token, comment = _need(rest, usage, "request id")
    if require_comment:
        problem = missing_comment(decision, comment)  # the typed command's grammar: `reject <id> <comment>`
        if problem is not None:
            raise UsageError(f"{problem}. Usage: {usage}")
    args: dict[str, Any] = {"decision": decision, "comment": comment or None}
    if token.strip().startswith("#"):
        args["proposal_id"] = parse_id(token, "proposal id")
    else:
        args["request_id"] = parse_id(token, "request id")
    if override is not None:
        args["override_reason"] = override
    return Command("decide", args)


def _promote(rest: str) -> Command:
    """`promote <id>`, or governance's `promote <id> --override <reason>` (readiness and
    value only; DESIGN.md "Gates")."""
    usage = f"promote <id> [{OVERRIDE_FLAG} <reason>]"
    head, flag, reason = f" {rest} ".partition(f" {OVERRIDE_FLAG} ")
    token, extra = _need(head.strip(), usage, "id")
    if extra:
        raise UsageError(f"promote: unexpected {extra[:60]!r}; a governance override needs the flag. Usage: {usage}")
    args: dict[str, Any] = {"proposal_id": parse_id(token)}
    if flag:
        if not reason.strip():
            raise UsageError(f"override reason: write why production goes ahead anyway. Usage: {usage}")
        args["reason"] = reason.strip()
    return Command("promote", args)


def _digest_command(rest: str) -> Command:
    """`digest`, `digest here`, and the review buttons typed: `digest post|regenerate <id>`."""
    verb, more = _split_first(rest)
    verb = verb.lower()
    if verb in ("", "here"):
        if more:
            raise UsageError(f"digest {verb}: unexpected {more!r}; allowed: `digest` or `digest here`")
        return Command("digest", {"here": verb == "here"})
    if verb in ("post", "regenerate"):
        token, extra = _need(more, f"digest {verb} <digest id>", "digest id")
        if extra:
            raise UsageError(f"digest {verb}: expected only a digest id, got extra text {extra!r}")
        return Command("digest", {"here": False, "verb": verb, "digest_id": parse_id(token, "digest id")})
    raise UsageError(
        f"digest: unknown option {verb!r}; allowed: `digest`, `digest here`, `digest post <id>`, "
        "`digest regenerate <id>`"
    )


def _decision(word: str, rest: str) -> Command:
    return parse_decision(word, rest)


def request_on(
    uow: UnitOfWork,
    clock: Clock,
    settings: Settings,
    actor: str,
    proposal_id: int,
    decision: str,
    override_reason: str | None = None,
) -> int:
    """The request a decision typed as `#<proposal id>` means: the one pending request on
    that proposal that waits on `actor` (with a governance override: the one pending
    request on it). Raises UsageError listing the request ids when there is none or
    more than one."""
    word = next((w for w, d in DECISIONS.items() if d == decision), decision)
    with uow:
        try:
            proposal = uow.proposals.get(proposal_id)
        except NotFound:
            raise UsageError(f"id: there is no proposal {proposal_id}; see `mine` for yours") from None
        if override_reason:
            pending = [r for r in uow.approvals.for_proposal(proposal.id) if r.status == "pending"]
        else:
            pending = [r for r, p in inbox.waiting_on(uow, settings, actor, clock.now()) if p.id == proposal.id]
        others = [r for r in uow.approvals.for_proposal(proposal.id) if r.status == "pending"]
    if len(pending) == 1:
        return int(pending[0].id)

    def listing(requests: list[Any]) -> str:
        return ", ".join(
            f"request {r.id} ({compose.ROLE_LABEL.get(r.role, r.role)}{f', {r.department}' if r.department else ''})"
            for r in requests
        )

    if pending:
        raise UsageError(
            f"#{proposal.id} has {len(pending)} requests waiting on you: {listing(pending)}; "
            f"name one, e.g. `{word} {pending[0].id}`"
        )
    if others:
        raise UsageError(
            f"nothing on #{proposal.id} waits on you; its pending requests: {listing(others)}. "
            f"Governance may decide one in the approver's place: `{word} <request id> {OVERRIDE_FLAG} <reason>`"
        )
    raise UsageError(f"#{proposal.id} has no pending approval request ({proposal.stage}); see `status {proposal.id}`")


def _override(rest: str) -> Command:
    usage = "override <id> <code> <reason...>"
    token, more = _need(rest, usage, "id")
    code, reason = _need(more, usage, "code")
    if code not in STOP_CONDITIONS:
        raise UsageError(f"code: unknown stop condition {code!r}; allowed: {', '.join(STOP_CONDITIONS)}")
    if not reason:
        raise UsageError(f"reason: governance overrides need a written reason. Usage: {usage}")
    return Command("override", {"proposal_id": parse_id(token), "code": code, "reason": reason})


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _delegate(rest: str) -> Command:
    usage = "delegate <user> <until YYYY-MM-DD>"
    parts = rest.split()
    if parts and parts[-1] and len(parts) >= 2 and parts[-2].lower() == "until":
        parts.pop(-2)
    if len(parts) != 2:
        raise UsageError(f"delegate: expected a user and a date. Usage: {usage}")
    user = user_token(parts[0])
    if user is None:
        raise UsageError(f"user: {parts[0]!r} is not a user; mention them, e.g. @U123. Usage: {usage}")
    if not _DATE.match(parts[1]):
        raise UsageError(f"until: {parts[1]!r} is not a date like 2026-12-31. Usage: {usage}")
    try:
        until = date.fromisoformat(parts[1])
    except ValueError:
        raise UsageError(f"until: {parts[1]!r} is not a real date. Usage: {usage}") from None
    return Command("delegate", {"delegate_id": user, "until": until})


def user_token(token: str) -> str | None:
    """A typed user: the id of a mention or of a platform id (`<@U1|ana>`, `@U1`, `U1`,
    `29:…`); else the token itself (`@carla`), for the core to look the name up
    (`Govbot.resolve_user`); None for what can be no user at all."""
    token = token.strip().rstrip(",")
    match = MENTION.fullmatch(token)
    if match:
        return match.group(1)
    bare = token[1:] if token.startswith("@") else token
    if is_platform_id(bare):
        return bare
    if not bare or any(c in "<>|" or c.isspace() for c in bare) or not name_key(bare):
        return None
    return token


_QUOTED = re.compile(r'"([^"]*)"|(\S+)')
_CURLY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"})


def quoted_words(text: str, usage: str) -> list[str]:
    """Words, with "double quotes" around what has spaces (a department such as
    "Customer Service"); curly quotes count as straight ones, apostrophes are letters."""
    text = text.translate(_CURLY)
    if text.count('"') % 2:
        raise UsageError(
            f"quotes: a double quote is not closed; put a department with spaces in double quotes, e.g. "
            f'roles set department_lead "Customer Service" @carla. Usage: {usage}'
        )
    return [quoted if quoted is not None and word == "" else word for quoted, word in _QUOTED.findall(text)]


def _roles(rest: str) -> Command:
    sub, more = _split_first(rest)
    if sub.lower() in ("", "list"):
        return Command("roles")
    if sub.lower() != "set":
        raise UsageError(
            f"roles: unknown option {sub!r}; allowed: `roles` or `roles set <role> [department] <user>...`"
        )
    usage = "roles set <role> [department] <user>..."
    tokens = quoted_words(more, usage)
    if not tokens:
        raise UsageError(f"role is missing; allowed: {', '.join(DIRECTORY_ROLES)}. Usage: {usage}")
    role = tokens[0].lower()
    if role not in DIRECTORY_ROLES:
        raise UsageError(f"role: unknown role {tokens[0]!r}; allowed: {', '.join(DIRECTORY_ROLES)}")
    rest_tokens = tokens[1:]
    department = ""
    if role in PER_DEPARTMENT:
        if not rest_tokens:
            raise UsageError(f"department is missing: {role} is held per department. Usage: {usage}")
        first_mention = next((i for i, t in enumerate(rest_tokens) if is_mention(t) or t.lower() in CLEAR_WORDS), None)
        if first_mention is None:  # no mention syntax: "<department> <user>..."
            first_mention = 1
        if first_mention == 0:
            raise UsageError(f"department is missing before the users: {role} is held per department. Usage: {usage}")
        department = " ".join(rest_tokens[:first_mention])
        rest_tokens = rest_tokens[first_mention:]
    if not rest_tokens:
        raise UsageError(f"users are missing (or `none` to clear). Usage: {usage}")
    if len(rest_tokens) == 1 and rest_tokens[0].lower() in CLEAR_WORDS:
        return Command("roles_set", {"role": role, "department": department, "users": []})
    users = []
    for token in rest_tokens:
        user = user_token(token)
        if user is None:
            raise UsageError(f"user: {token!r} is not a user; mention them, e.g. @U123")
        if user not in users:
            users.append(user)
    return Command("roles_set", {"role": role, "department": department, "users": users})
