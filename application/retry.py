"""Optimistic concurrency: a command that lost a version race runs again on fresh state."""

from __future__ import annotations

import inspect
import random
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


def retry_on_conflict(method: Callable[P, R]) -> Callable[P, R]:
    """Re-run the whole load-decide-save method when another writer saved first.

    The retried method reloads every aggregate, so the decision is taken again on the state
    that won; a domain error raised on that fresh state (say, the chat is now someone else's)
    is the real answer and propagates. Only an unbroken run of lost races becomes ``Conflict``.
    A method with an ``attempt`` parameter is told which run this is: 1, then 2 after a lost
    race, and so on (routing decides differently once it has lost).
    """
    numbered = "attempt" in inspect.signature(method).parameters

    @wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if numbered:
                    return method(*args, **kwargs, attempt=attempt)
                return method(*args, **kwargs)
            except RecordConflictError as error:
                if attempt == MAX_ATTEMPTS:
                    raise Conflict(f"{method.__name__}: gave up after {attempt} races") from error
                # A random, growing wait: writers that lost the same race would otherwise
                # collide again in step.
                time.sleep(random.uniform(0, min(MAX_BACKOFF_S, BACKOFF_S * 2**attempt)))
        raise AssertionError("unreachable")

    return wrapper
