"""Policy sources: where the core reads the active classification policy.

`StaticPolicy` answers one policy for the life of the process (`govbot classify`,
tests). `ActivePolicy` answers the policy applied in SQL (`govbot policy apply`), so
every instance of `govbot serve` uses the same one: at most every `refresh_s` seconds
it reads the active row's content hash, and parses the TOML again only when the hash
changed. While SQL holds no applied policy it answers the fallback
(`GOVBOT_POLICY_FILE`, else the packaged default).

Every verdict the core stores is `stamped` with the policy's version and content hash.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.domain.duties import ceiling_for
from bot.domain.policy import Policy, PolicyError
from bot.domain.policy_file import parse_policy_text
from bot.ports import PolicyStore

logger = logging.getLogger(__name__)

STAMP_KEYS = ("policy_version", "policy_hash", "autonomy_ceiling")


def stamped(result: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """A verdict with the version and content hash of the policy that made it, and the
    autonomy ceiling that policy sets for the verdict's risk level."""
    ceiling = ceiling_for(str(result.get("risk_level")), policy.autonomy_ceiling)
    return {**result, "policy_version": policy.version, "policy_hash": policy.content_hash, "autonomy_ceiling": ceiling}


def unstamped(result: Mapping[str, Any]) -> dict[str, Any]:
    """A verdict without its stamp (to compare what two policies decided)."""
    return {k: v for k, v in result.items() if k not in STAMP_KEYS}


class StaticPolicy:
    """A `bot.ports.PolicySource` that always answers the same policy."""

    def __init__(self, policy: Policy):
        self._policy = policy

    def current(self) -> Policy:
        return self._policy

    def refresh(self) -> Policy:
        return self._policy


class ActivePolicy:
    """A `bot.ports.PolicySource` over the policy applied in SQL (see the module doc).

    Thread-safe: the server answers requests from worker threads. A failed read keeps
    the policy in force (and is logged); so does a stored policy that no longer parses.
    """

    def __init__(
        self,
        store: PolicyStore,
        fallback: Policy,
        refresh_s: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._store = store
        self._fallback = fallback
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._policy = fallback
        self._stamp: tuple[int, str] | None = None
        self._checked = -math.inf

    def current(self) -> Policy:
        if self._monotonic() - self._checked < self._refresh_s:
            return self._policy
        with self._lock:
            if self._monotonic() - self._checked >= self._refresh_s:
                self._reload()
                self._checked = self._monotonic()
            return self._policy

    def refresh(self) -> Policy:
        """Read SQL now (after this process applied a policy)."""
        with self._lock:
            self._reload()
            self._checked = self._monotonic()
            return self._policy

    def _reload(self) -> None:
        try:
            stamp = self._store.active_stamp()
            if stamp == self._stamp:
                return
            found = self._store.active_text() if stamp is not None else None
        except Exception as exc:  # the database is away: keep the policy in force
            logger.warning(
                "could not read the active policy (%s); keeping %s", type(exc).__name__, self._policy.version
            )
            return
        if found is None:
            self._policy, self._stamp = self._fallback, None
            return
        row_id, content_hash, text = found
        try:
            policy = parse_policy_text(text, f"policy_versions row {row_id}")
        except PolicyError as exc:
            logger.error("the active policy (row %s) does not parse; keeping %s: %s", row_id, self._policy.version, exc)
            self._stamp = (row_id, content_hash)  # do not parse it again until it changes
            return
        self._policy, self._stamp = policy, (row_id, content_hash)
        logger.info("policy %s (%s) is active (row %s)", policy.version, content_hash[:12], row_id)
