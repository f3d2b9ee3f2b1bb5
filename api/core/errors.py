"""Domain errors; the API maps them to HTTP answers, jobs to log lines."""

from __future__ import annotations


class NotFound(Exception):
    """The object does not exist, or the actor may not know it exists (tenant isolation)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Forbidden(Exception):
    """The actor can see the object but may not do this to it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Conflict(Exception):
    """The request collides with existing data (a duplicate SKU, say)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unprocessable(Exception):
    """The request is well-formed but breaks a domain rule (not enough stock, say)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class BadRequest(Exception):
    """The request cannot be acted on as sent (a forged, expired or used authorisation state)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unavailable(Exception):
    """An outside service did not answer, or is not configured here: try again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
