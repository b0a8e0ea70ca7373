"""The errors every layer may raise and catch."""

from __future__ import annotations

from dataclasses import dataclass


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


@dataclass(frozen=True)
class FieldError:
    """A problem with one key, phrased for the person who typed it."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ProposalInvalid(ValueError):
    """Raised when a proposal has problems; `errors` lists every one of them."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
