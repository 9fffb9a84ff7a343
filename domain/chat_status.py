"""A chat's statuses and the rules that follow from its state: held, muted."""

from __future__ import annotations

from datetime import datetime

from domain.errors import InvalidValue

QUEUED, ASSIGNED, ACTIVE, CLOSED = "queued", "assigned", "active", "closed"
OPEN_STATUSES = (QUEUED, ASSIGNED, ACTIVE)
MAX_MUTE_MINUTES = 7 * 24 * 60
MIN_RATING, MAX_RATING = 1, 5


def status_when_held(intercepted: bool) -> str:
    """A chat's status once an operator holds it (assigned, or reassigned to someone): after
    an intercept, whoever holds the chat continues the conversation."""
    return ACTIVE if intercepted else ASSIGNED


def mute_in_effect(muted: bool, until: datetime | None, at: datetime) -> bool:
    """Whether a client is muted at ``at``: a timed mute has lifted once its time is up,
    even before the engine records ``Unmuted``."""
    return muted and (until is None or at < until)


def check_mute_minutes(minutes: int | None) -> None:
    if minutes is None:
        return
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidValue("minutes is a whole number")
    if not 1 <= minutes <= MAX_MUTE_MINUTES:
        raise InvalidValue(f"a mute lasts from 1 to {MAX_MUTE_MINUTES} minutes")


def check_rating(score: int) -> None:
    if isinstance(score, bool) or not isinstance(score, int):
        raise InvalidValue(f"a rating is a whole number from {MIN_RATING} to {MAX_RATING}")
    if not MIN_RATING <= score <= MAX_RATING:
        raise InvalidValue(f"a rating is a whole number from {MIN_RATING} to {MAX_RATING}")
