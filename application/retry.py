"""Optimistic concurrency: a command that lost a version race runs again on fresh state."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from eventsourcing.persistence import RecordConflictError

from application.errors import Conflict

P = ParamSpec("P")
R = TypeVar("R")

MAX_ATTEMPTS = 16
BACKOFF_S = 0.002  # doubles with each lost race, up to MAX_BACKOFF_S
MAX_BACKOFF_S = 0.1
_attempts = threading.local()


def current_attempt() -> int:
    """Which run of the current command this is: 1, then 2 after a lost race, and so on."""
    return getattr(_attempts, "value", 1)


def retry_on_conflict(method: Callable[P, R]) -> Callable[P, R]:
    """Re-run the whole load-decide-save method when another writer saved first.

    The retried method reloads every aggregate, so the decision is taken again on the state
    that won; a domain error raised on that fresh state (say, the chat is now someone else's)
    is the real answer and propagates. Only an unbroken run of lost races becomes ``Conflict``.
    """

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            _attempts.value = attempt
            try:
                return method(*args, **kwargs)
            except RecordConflictError as error:
                if attempt == MAX_ATTEMPTS:
                    raise Conflict(f"{method.__name__}: gave up after {attempt} races") from error
                # Let the application refresh what it decides from (its routing picture), then
                # wait a random, growing while: writers that woke on the same refresh would
                # otherwise collide again in step.
                after_conflict = getattr(args[0], "after_conflict", None) if args else None
                if after_conflict is not None:
                    after_conflict()
                time.sleep(random.uniform(0, min(MAX_BACKOFF_S, BACKOFF_S * 2**attempt)))
            finally:
                _attempts.value = 1
                # Whatever the application held for this run of the command, it lets go now.
                end_attempt = getattr(args[0], "end_attempt", None) if args else None
                if end_attempt is not None:
                    end_attempt()
        raise AssertionError("unreachable")

    return wrapper
