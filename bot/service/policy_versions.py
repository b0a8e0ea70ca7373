"""Policy versions (DESIGN.md "After go-live → Policy versions"): the active policy,
checking a candidate, and applying it.

`apply_policy` is one transaction: the new `applied` row (which every instance picks
up within `GOVBOT_POLICY_REFRESH` seconds), the re-classification of every live
proposal whose verdict it changes, the approval requests for roles the new verdict
needs that were never asked, the notices to owners and requesters, and the audit
events. Concurrent applies queue on one key-value row, so the newest applied row is
also the last one whose verdicts were written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.classifier import classify
from bot.domain.errors import NotFound, UsageError
from bot.domain.policy import Policy, PolicyError
from bot.domain.policy_diff import NOT_LIVE, counts, describe, locate, tier_of, verdict_change
from bot.domain.policy_file import packaged_policy_text, parse_policy_text
from bot.domain.records import ApprovalRequestRow, PolicyVersionRow, ProposalRow
from bot.messages import compose
from bot.messages.message import Message
from bot.messages.policy import active_message, applied_message, what_if_message
from bot.ports import Clock, PolicySource, UnitOfWork
from bot.service import notify
from bot.service.policy import stamped, unstamped
from bot.service.refusals import refuse
from bot.service.reopen import ask_missing_roles, stored_verdict
from bot.service.roles import is_governance
from bot.service.whatif import Candidate, what_if
from bot.settings import Settings

logger = logging.getLogger(__name__)

APPLY_LOCK = "policy:apply"  # key-value row every apply writes first (the queue)
PAGE = 500  # proposals re-classified per read
TEXT_MAX = 1_000_000  # characters of policy TOML accepted
HISTORY = 20  # applied policies searched for the one in force


@dataclass
class ActiveInfo:
    """The policy in force and where it comes from."""

    version: str
    hash: str
    source: str  # sql | file | default
    applied_by: str | None = None
    applied_at: datetime | None = None
    version_id: int | None = None


@dataclass
class Applied:
    """What `apply_policy` did (JSON-ready through `to_json`)."""

    status: str  # applied | unchanged
    from_version: str
    to_version: str
    version_id: int | None
    compared: int = 0
    reclassified: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "from": self.from_version,
            "to": self.to_version,
            "policy_version_id": self.version_id,
            "compared": self.compared,
            "reclassified": self.reclassified,
            "changed": self.changed,
            "counts": counts(self.changed),
            "approval_requests_opened": self.opened,
            "back_in_review": self.reopened,
        }


# --------------------------------------------------------------------------- reading and checking


def active_info(uow: UnitOfWork, source: PolicySource, settings: Settings) -> ActiveInfo:
    """The policy this process has in force (what `source` answers now): applied in SQL
    (by whom, when), else GOVBOT_POLICY_FILE, else the packaged default."""
    policy = source.current()
    with uow:
        rows = uow.policies.history(HISTORY)
    for row in rows:
        if row.hash == policy.content_hash:
            return ActiveInfo(policy.version, row.hash, "sql", row.applied_by, row.applied_at, row.id)
    return ActiveInfo(policy.version, policy.content_hash, "file" if settings.policy_file else "default")


def active_text(uow: UnitOfWork, settings: Settings) -> str:
    """The TOML of the policy in force (`govbot policy export`), as it was written."""
    with uow:
        row = uow.policies.active()
    if row is not None:
        return row.toml
    if settings.policy_file is not None:
        try:
            return settings.policy_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(str(settings.policy_file), [f"cannot read the file: {exc.strerror or exc}"]) from None
    return packaged_policy_text()


def check(text: str, source: str) -> Candidate:
    """Parse and validate candidate TOML; PolicyError lists every problem, each with
    the line it is on when it can be found ("line 42: risk.rules[2].level: ...")."""
    if len(text) > TEXT_MAX:
        raise PolicyError(source, [f"the policy is {len(text):,} characters; at most {TEXT_MAX:,} are accepted"])
    try:
        policy = parse_policy_text(text, source)
    except PolicyError as exc:
        located = []
        for problem in exc.problems:
            line = locate(text, problem) if not problem.startswith("not valid TOML") else None
            located.append(f"line {line}: {problem}" if line else problem)
        raise PolicyError(source, located) from None
    return Candidate(policy, text)


# --------------------------------------------------------------------------- applying


def apply_policy(
    uow: UnitOfWork,
    clock: Clock,
    source: PolicySource,
    settings: Settings,
    actor: str,
    candidate: Candidate,
    candidate_id: int | None = None,
) -> Applied:
    """Make `candidate` the active policy (governance only; see the module doc).
    `candidate_id`: the kept chat candidate it comes from (marked `confirmed`)."""
    _governance_only(uow, clock, settings, actor, "policy.apply_refused", "apply a policy")
    policy, now = candidate.policy, clock.now()
    before = source.refresh()
    with uow:
        uow.keyvalues.put(APPLY_LOCK, policy.content_hash)  # later applies wait here until this one commits
        active = uow.policies.active()
        if active is not None and active.hash == policy.content_hash:
            return Applied("unchanged", before.version, policy.version, active.id)
        row = uow.policies.add(
            PolicyVersionRow(
                id=0,
                kind="applied",
                version=policy.version,
                hash=policy.content_hash,
                toml=candidate.text,
                created_by=actor,
                created_at=now,
                applied_by=actor,
                applied_at=now,
            )
        )
        done = Applied("applied", before.version, policy.version, row.id)
        if candidate_id is not None:
            uow.policies.mark(candidate_id, "confirmed")
        _reclassify(uow, settings, actor, policy, done, now)
        uow.audit.add(
            None,
            actor,
            "policy.applied",
            {
                "policy_version_id": row.id,
                "version": policy.version,
                "hash": policy.content_hash,
                "from_version": before.version,
                "from_hash": before.content_hash,
                "compared": done.compared,
                "reclassified": done.reclassified,
                "changed": len(done.changed),
                "counts": counts(done.changed),
                "approval_requests_opened": len(done.opened),
            },
            now,
        )
        uow.commit()
    source.refresh()
    logger.info(
        "policy %s applied by %s: %s live proposals, %s re-classified, %s changed",
        policy.version,
        actor,
        done.compared,
        done.reclassified,
        len(done.changed),
    )
    return done


def _reclassify(uow: UnitOfWork, settings: Settings, actor: str, policy: Policy, done: Applied, now: datetime) -> None:
    """Store a new verdict for every live proposal whose verdict differs under `policy`."""
    after = 0
    while True:
        page = uow.policies.live_page(NOT_LIVE, after, PAGE)
        if not page:
            return
        for proposal, latest in page:
            after = proposal.id
            done.compared += 1
            new = stamped(classify(proposal.answers, policy), policy)
            if latest is not None and unstamped(latest.result) == unstamped(new):
                continue
            row = uow.proposals.get(proposal.id, for_update=True)
            if row.revision != proposal.revision:  # edited since the page was read
                new = stamped(classify(row.answers, policy), policy)
            entry = verdict_change(stored_verdict(row, latest), new)
            uow.classifications.add(row.id, row.revision, new, now)
            row.risk_level, row.eu_tier, row.updated_at = new["risk_level"], tier_of(new), now
            uow.proposals.update(row)
            uow.stop_conditions.set_open(row.id, new["stop_conditions"], now)
            done.reclassified += 1
            if entry is not None:
                done.changed.append(entry)
                _follow_up(uow, settings, actor, policy, row, entry, new, done, now)


def _follow_up(
    uow: UnitOfWork,
    settings: Settings,
    actor: str,
    policy: Policy,
    row: ProposalRow,
    entry: dict[str, Any],
    result: dict[str, Any],
    done: Applied,
    now: datetime,
) -> None:
    """Ask the roles the new verdict needs, and tell the owner and the requester."""
    stage_before = row.stage
    why = f"policy {policy.version} needs approval by {{roles}}"
    opened, note = ask_missing_roles(
        uow,
        settings,
        row,
        result,
        actor,
        now,
        why=why,
        request_detail={"policy": policy.version},
        policy_version=policy.version,
    )
    if row.stage != stage_before:
        done.reopened.append(row.id)
    done.opened.extend(r.id for r in opened)
    uow.audit.add(
        row.id,
        actor,
        "proposal.reclassified",
        {
            "policy_version": policy.version,
            "policy_hash": policy.content_hash,
            **{k: v for k, v in entry.items() if k != "id"},
            "approval_requests_opened": [r.id for r in opened],
            "stage_before": stage_before,
            "stage": row.stage,
            **({"note": note} if note else {}),
        },
        now,
    )
    _tell(uow, settings, actor, policy, row, entry, opened, stage_before, note, now)


def _tell(
    uow: UnitOfWork,
    settings: Settings,
    actor: str,
    policy: Policy,
    row: ProposalRow,
    entry: dict[str, Any],
    opened: list[ApprovalRequestRow],
    stage_before: str,
    note: str | None,
    now: datetime,
) -> None:
    lines = describe(entry)
    text = (
        f"Policy {policy.version}, applied by {compose.mention(actor)}, changes the verdict on "
        f"#{row.id} {row.title}: {'; '.join(lines)}."
    )
    detail = []
    if opened:
        roles = ", ".join(compose.ROLE_LABEL.get(r.role, r.role) for r in opened)
        detail.append(f"It now needs approval by {roles}; the requests are sent.")
    if row.stage != stage_before:
        detail.append(f"It moves from {stage_before} back to {row.stage} until they decide.")
    if entry["stop_conditions_added"]:
        detail.append(
            "New stop conditions: " + "; ".join(compose.stop_label(c) for c in entry["stop_conditions_added"])
        )
    if note:
        detail.append(note)
    message = compose.notice("policy_reclassified", text, row.id, detail="\n".join(detail))
    for user in dict.fromkeys(u for u in (row.owner, row.requester) if u):
        notify.send(
            uow,
            settings,
            row,
            user,
            message,
            now,
            thread_key=f"classification:{row.id}",
            dedupe_key=f"policy:{policy.content_hash[:16]}:{row.id}:{user}",
        )


# --------------------------------------------------------------------------- chat


def policy_message(uow: UnitOfWork, clock: Clock, source: PolicySource, settings: Settings, actor: str) -> Message:
    """`policy` (governance): the version this instance has in force, who applied it, when."""
    _governance_only(uow, clock, settings, actor, "policy.view_refused", "see the policy")
    info = active_info(uow, source, settings)
    return active_message(info.version, info.hash, info.source, info.applied_by, info.applied_at, settings.timezone)


def try_candidate(
    uow: UnitOfWork, clock: Clock, source: PolicySource, settings: Settings, actor: str, text: str
) -> Message:
    """`policy what-if <TOML>` or an uploaded file (governance): validate the candidate,
    keep it, and show what it would change, with the button that applies it."""
    _governance_only(uow, clock, settings, actor, "policy.what_if_refused", "try a candidate policy")
    try:
        candidate = check(text, "the candidate policy")
    except PolicyError as exc:
        return compose.notice(
            "usage_error",
            f"The candidate policy has {len(exc.problems)} problem(s); nothing was kept.",
            detail="\n".join(exc.problems),
        )
    policy, now = candidate.policy, clock.now()
    with uow:
        row = uow.policies.add(PolicyVersionRow(0, "candidate", policy.version, policy.content_hash, text, actor, now))
        uow.audit.add(None, actor, "policy.candidate", {"policy_version_id": row.id, "version": policy.version}, now)
        uow.commit()
    report = what_if(uow, source.current(), candidate)
    return what_if_message(report, row.id)


def confirm_candidate(
    uow: UnitOfWork, clock: Clock, source: PolicySource, settings: Settings, actor: str, candidate_id: int
) -> Message:
    """The confirm button (`policy.apply`) or `policy apply <id>`: apply a kept candidate."""
    with uow:
        try:
            row = uow.policies.get(candidate_id)
        except NotFound:
            row = None
    if row is None or row.kind not in ("candidate", "confirmed"):
        raise UsageError(f"candidate id: there is no candidate policy {candidate_id}; send one with `policy what-if`")
    if row.kind == "confirmed":
        return compose.notice("policy_applied", f"Candidate {candidate_id} (policy {row.version}) was already applied.")
    result = apply_policy(
        uow, clock, source, settings, actor, check(row.toml, f"candidate {candidate_id}"), candidate_id
    )
    return applied_message(result.to_json())


def _governance_only(uow: UnitOfWork, clock: Clock, settings: Settings, actor: str, action: str, what: str) -> None:
    with uow:
        allowed = is_governance(uow, actor, settings)
    if not allowed:
        raise refuse(uow, clock, actor, None, action, f"only governance may {what}")
