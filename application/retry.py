"""Optimistic concurrency: a command that lost a version race runs again on fresh state."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from eventsourcing.persistence import RecordConflictError

from application.errors import Conflict

P = ParamSpec("P")
R = TypeVar("R")

MAX_ATTEMPTS = 8


def retry_on_conflict(method: Callable[P, R]) -> Callable[P, R]:
    """Re-run the whole load-decide-save method when another writer saved first.

    The retried method reloads every aggregate, so the decision is taken again on the state
    that won; a domain error raised on that fresh state (say, the chat is now someone else's)
    is the real answer and propagates. Only an unbroken run of lost races becomes ``Conflict``.
    """

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return method(*args, **kwargs)
            except RecordConflictError as error:
                if attempt == MAX_ATTEMPTS:
                    raise Conflict(f"{method.__name__}: gave up after {attempt} races") from error
                # Spread the retries so that racing writers do not collide again in step.
                time.sleep(random.uniform(0, 0.002 * attempt))
        raise AssertionError("unreachable")

    return wrapper
