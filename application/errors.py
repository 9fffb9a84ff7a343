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
