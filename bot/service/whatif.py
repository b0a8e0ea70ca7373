"""`govbot policy what-if`: every live proposal re-classified under a candidate policy,
compared with its stored verdict; nothing is written.

The live proposals stream out of SQL in batches (`uow.policies.live_verdicts`, a
server-side cursor on PostgreSQL), so memory does not grow with the portfolio. Large
portfolios are classified on every core: a pool of worker processes, each of which
parses the candidate once, takes batches as they are read and hands back only the
proposals whose verdict changes; at most two batches per worker are in flight, and
results come back in id order.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from bot.domain.classifier import classify
from bot.domain.policy import Policy
from bot.domain.policy_diff import NOT_LIVE, verdict_change, what_if_report
from bot.domain.policy_file import parse_policy_text
from bot.domain.records import StoredVerdict
from bot.ports import UnitOfWork

logger = logging.getLogger(__name__)

BATCH = 1000  # proposals per batch read and per task handed to a worker
POOL_FROM = 3000  # portfolios at least this big are classified by a pool of processes


@dataclass(frozen=True)
class Candidate:
    """A validated candidate policy and the TOML it was parsed from (workers parse it
    again: a compiled policy does not cross process boundaries)."""

    policy: Policy
    text: str


def compare(rows: Iterable[StoredVerdict], policy: Policy) -> tuple[int, list[dict[str, Any]]]:
    """(how many were compared, the what-if entries of those whose verdict changes)."""
    n, changed = 0, []
    for row in rows:
        n += 1
        entry = verdict_change(row, classify(row.answers, policy))
        if entry is not None:
            changed.append(entry)
    return n, changed


def what_if(
    uow: UnitOfWork,
    active: Policy,
    candidate: Candidate,
    *,
    workers: int | None = None,
    batch: int = BATCH,
) -> dict[str, Any]:
    """The what-if report (DESIGN.md "Policy versions") of `candidate` against the
    stored verdicts of every live proposal; `active` names the "from" version.
    `workers`: processes to classify with (default: one per core for a portfolio of
    POOL_FROM proposals or more, else none: this process)."""
    compared, changed = 0, []
    with uow:
        if workers is None:
            workers = (os.cpu_count() or 1) if uow.proposals.count() >= POOL_FROM else 0
        batches = uow.policies.live_verdicts(NOT_LIVE, batch)
        results = _pooled(batches, candidate.text, workers) if workers > 1 else _local(batches, candidate.policy)
        for n, entries in results:
            compared += n
            changed.extend(entries)
    logger.info(
        "what-if %s -> %s: %s compared, %s changed", active.version, candidate.policy.version, compared, len(changed)
    )
    return what_if_report(active.version, candidate.policy.version, compared, changed)


def _local(batches: Iterable[list[StoredVerdict]], policy: Policy) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    for part in batches:
        yield compare(part, policy)


# --------------------------------------------------------------------------- worker processes

_worker_policy: Policy | None = None


def _start_worker(text: str) -> None:
    global _worker_policy
    _worker_policy = parse_policy_text(text, "what-if candidate")


def _compare_in_worker(rows: list[StoredVerdict]) -> tuple[int, list[dict[str, Any]]]:
    assert _worker_policy is not None, "the worker was started without a policy"
    return compare(rows, _worker_policy)


def _pooled(
    batches: Iterable[list[StoredVerdict]], text: str, workers: int
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    # spawn, not fork: the parent may hold database connections and server threads
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(text,)) as pool:
        pending: deque[Future[tuple[int, list[dict[str, Any]]]]] = deque()
        for part in batches:
            pending.append(pool.submit(_compare_in_worker, part))
            while len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
