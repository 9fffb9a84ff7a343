"""Errors raised at the application boundary (the domain's own live in ``domain.errors``)."""

from __future__ import annotations


class ApplicationError(Exception):
    pass


class NotFound(ApplicationError):
    """No aggregate of that kind with that id."""


class Conflict(ApplicationError):
    """Concurrent writers kept winning; the command gave up after its retries."""


class UnknownReference(ApplicationError):
    """A request names something that does not exist (a group id in a body, say)."""


class Forbidden(ApplicationError):
    """The caller's role does not allow this command."""


class BadCredentials(ApplicationError):
    """The e-mail and password do not match an active operator (the same for either)."""


class TooManyAttempts(ApplicationError):
    """Too many failed sign-ins for this e-mail lately; retry after ``retry_after_s``."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s:.0f}s")
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, round(self.retry_after_s + 0.5)))}
