"""The one error hierarchy of the domain; entry points translate it (no HTTP in here)."""

from __future__ import annotations


class RapportError(Exception):
    """A refusal written for the person who reads it."""

    code = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(RapportError):
    """The record named does not exist."""

    code = "not_found"


class Conflict(RapportError):
    """The request is well-formed but the current data forbids it."""

    code = "conflict"


class Invalid(RapportError):
    """The request itself is wrong: a missing, malformed or unknown value."""

    code = "invalid"


class Forbidden(RapportError):
    """The user's role does not allow this."""

    code = "forbidden"


class Unauthorized(RapportError):
    """No valid credentials."""

    code = "unauthorized"


class TooManyRequests(RapportError):
    """Too many attempts; try again later."""

    code = "too_many_requests"
