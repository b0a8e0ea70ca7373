"""The errors every layer may raise and catch."""

from __future__ import annotations


class Refused(Exception):
    """The actor may not do this (not the routed approver, not governance, ...).

    `message` is phrased for the actor; the attempt has already been audited.
    """

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class UsageError(ValueError):
    """A chat command or argument is malformed; `message` says what is allowed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CommentRequired(UsageError):
    """A decision that needs a comment (reject, request changes) came without one;
    channels show `message` on their comment input."""

    field = "comment"


class Conflict(Exception):
    """A uniqueness rule stopped a write (duplicate decision, claimed job, ...)."""


class NotFound(LookupError):
    """The record asked for does not exist."""
