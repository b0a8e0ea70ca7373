"""Run a parsed chat command (`Govbot.handle_command`): the same on every channel.

User input never raises: usage errors and refusals come back as a Reply whose
message says what is wrong and what is allowed.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import lifecycle, running, views
from bot.commands import Command, parse
from bot.domain import ProposalInvalid
from bot.ports import NotFound
from bot.service import InterviewStart, Refused, Reply, UsageError

logger = logging.getLogger(__name__)


def run_command(core: Any, actor: str, channel: str, text: str, conversation_id: str | None = None) -> Reply:
    """Parse `text` and run it for `actor`; always returns a Reply. `conversation_id`
    is where it was typed (used by `digest here`)."""
    try:
        command = parse(text)
        if command.name == "digest":
            command.args["conversation_id"] = conversation_id
        return _run(core, actor, channel, command)
    except UsageError as exc:
        return Reply(views.notice("usage_error", exc.message, detail=_usage_hint(core)))
    except Refused as exc:
        return Reply(views.notice("refused", exc.message))
    except ProposalInvalid as exc:
        return Reply(views.notice("usage_error", "; ".join(str(e) for e in exc.errors)))
    except NotFound as exc:
        return Reply(views.notice("usage_error", f"Not found: {exc}"))
    except Exception:  # report, never crash the channel; the log has the details
        logger.exception("command %r by %s failed", (text or "").split(" ", 1)[0][:20], actor)
        return Reply(views.notice("error", "Sorry, that failed on our side; the error is logged. Try again."))


def _usage_hint(core: Any) -> str:
    return f"Type `{getattr(core.settings, 'slack_command', '/aiwf')} help` for every command."


def _run(core: Any, actor: str, channel: str, command: Command) -> Reply:
    name, args = command.name, command.args
    if name == "help":
        message = core.help(channel)
        if args.get("unknown"):
            message = _with_prefix(message, f"Unknown command {args['unknown']!r}.")
        return Reply(message)
    if name == "propose":
        return Reply(interview=_propose(core, actor, channel, args["text"]))
    if name == "edit":
        return Reply(interview=core.edit_seed(actor, args["proposal_id"]))
    if name == "mine":
        return Reply(core.mine(actor))
    if name == "status":
        try:
            return Reply(core.status(args["proposal_id"]))
        except NotFound:
            raise UsageError(f"id: there is no proposal {args['proposal_id']}; see `mine` for yours") from None
    if name == "portfolio":
        return Reply(core.portfolio(), ephemeral=False)
    if name == "roles":
        return Reply(core.roles(actor))
    if name == "roles_set":
        return Reply(core.set_role(actor, args["role"], args["department"], args["users"]))
    if name == "digest":
        return _digest(core, actor, channel, args["here"], args.get("conversation_id"))
    if name == "decide":
        outcome = core.decide(actor, args["request_id"], args["decision"], args["comment"])
        return Reply(_with_prefix(outcome.card, outcome.notice))
    if name in ("pause", "resume", "retire", "promote"):
        return Reply(lifecycle.transition(core, actor, args["proposal_id"], name, reason=args.get("reason")))
    if name == "override":
        return Reply(lifecycle.override_stop(core, actor, args["proposal_id"], args["code"], args["reason"]))
    if name == "delegate":
        return Reply(lifecycle.delegate(core, actor, args["delegate_id"], args["until"]))
    if name == "checkin":
        return Reply(running.record_checkin(core, actor, args["proposal_id"], args["value"], args["note"]))
    if name == "autonomy":
        return Reply(running.request_autonomy_step(core, actor, args["proposal_id"]))
    raise UsageError(f"unknown command {name!r}")  # pragma: no cover - parse() only returns the names above


def _with_prefix(message: Any, line: str) -> Any:
    from bot.messages import Message, Section

    return Message(
        message.kind,
        line,
        (Section(None, message.text),) + tuple(message.sections),
        message.buttons,
        message.image_png,
        message.meta,
    )


def _propose(core: Any, actor: str, channel: str, text: str) -> InterviewStart:
    from bot.interview import seed as make_seed

    seed = make_seed(text)
    draft = core.load_draft(channel, actor)
    if draft and not draft.get("proposal_id"):
        merged = dict(draft.get("answers") or {})
        for key, value in seed.items():
            merged.setdefault(key, value)
        return InterviewStart(seed=merged, proposal_id=None, resumed=True)
    if draft and draft.get("proposal_id") and _still_editable(core, actor, int(draft["proposal_id"])):
        return InterviewStart(seed=dict(draft.get("answers") or {}), proposal_id=draft["proposal_id"], resumed=True)
    return InterviewStart(seed=seed, proposal_id=None, resumed=False)


def _still_editable(core: Any, actor: str, proposal_id: int) -> bool:
    """An unfinished edit resumes only while the proposal still waits for it."""
    with core.uow() as uow:
        try:
            row = uow.proposals.get(proposal_id)
        except NotFound:
            return False
    return core._edit_problem(actor, row) is None


def _digest(core: Any, actor: str, channel: str, here: bool, conversation_id: str | None = None) -> Reply:
    from bot.digest import digest_command  # bot.digest imports the service layer

    return Reply(
        digest_command(core, actor, channel, ["here"] if here else [], conversation_id=conversation_id),
        ephemeral=not here,
    )
