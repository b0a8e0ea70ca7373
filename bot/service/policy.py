"""Policy sources: where the core reads the active classification policy.

`StaticPolicy` answers the policy loaded at start-up (`GOVBOT_POLICY_FILE`, else the
packaged default) for the life of the process. A source whose policy can change while
the server runs implements the same `bot.ports.PolicySource`.
"""

from __future__ import annotations

from bot.domain.policy import Policy


class StaticPolicy:
    """A `bot.ports.PolicySource` that always answers the same policy."""

    def __init__(self, policy: Policy):
        self._policy = policy

    def current(self) -> Policy:
        return self._policy
