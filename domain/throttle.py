"""The sign-in throttle's rule: more than ``LIMIT`` failures for one e-mail within ``WINDOW``
and the next attempt waits until enough of them are older than the window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

LIMIT = 5
WINDOW = timedelta(minutes=15)


def seconds_to_wait(
    failures: Iterable[datetime], now: datetime, *, limit: int = LIMIT, window: timedelta = WINDOW
) -> float:
    """0 when an attempt may be made now; else how long until one may (always > 0)."""
    recent = sorted(at for at in failures if now - window < at <= now)
    if len(recent) < limit:
        return 0.0
    # Allowed again once all but ``limit - 1`` of them have left the window.
    frees_at = recent[len(recent) - limit] + window
    return max((frees_at - now).total_seconds(), 0.001)
