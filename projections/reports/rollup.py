"""The reports' roll-up: what the SLA report sums, per UTC hour and scope, kept as events come.

Pure (no I/O): the read model fills these tallies batch by batch and stores one row per hour,
scope and kind; the report adds the rows of whole hours to the raw rows of the partial hours at
the edges of its days. A scope is a group's id, ``"none"`` (chats and clocks with no group),
``"all"`` (every group at once, so that a report over all groups reads one row per hour), and
for what an operator did (``operator_id`` of a fact or a chat): ``"operator:<id>"`` (in every
group) and ``"operator:<id>:<group's scope>"``.

Durations are kept in whole microseconds (timestamps have no finer grain), so that sums are
exact and the same whatever order the batches add them in. Response durations also go into a
histogram with logarithmic buckets (``duration_bucket``): a percentile estimated from it is
within ``RELATIVE_ERROR`` of the exact one, or ``HISTOGRAM_FLOOR_S`` for durations below that.
"""

from __future__ import annotations

import math
import sys
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any
from uuid import UUID

from domain.clocks import ResponseFact

HOUR = timedelta(hours=1)
ALL_GROUPS, NO_GROUP, OPERATOR = "all", "none", "operator:"
SCORES = (1, 2, 3, 4, 5)  # a rating's scores: ChatTally counts each
HISTOGRAM_FLOOR_S = 0.5  # bucket 0 holds every duration below it
HISTOGRAM_GROWTH = 1.02  # each bucket above the floor is 2% wider than the one before
RELATIVE_ERROR = HISTOGRAM_GROWTH - 1
_LOG_GROWTH = math.log(HISTOGRAM_GROWTH)
_FIELD_BITS = 32  # a bucket's count in the packed histogram: up to 4e9 clocks per bucket
_ONE_MICROSECOND = timedelta(microseconds=1)


def scope_of(group_id: UUID | None) -> str:
    return NO_GROUP if group_id is None else str(group_id)


def scopes_of(group_id: UUID | None, operator_id: UUID | None) -> tuple[str, ...]:
    """Every scope a fact or a chat of this group and operator counts in."""
    group = scope_of(group_id)
    if operator_id is None:
        return group, ALL_GROUPS
    operator = f"{OPERATOR}{operator_id}"
    return group, ALL_GROUPS, operator, f"{operator}:{group}"


def report_scope(group_id: UUID | None, operator_id: UUID | None) -> str:
    """The one scope a report filtered by group, operator, both or neither reads."""
    if operator_id is None:
        return ALL_GROUPS if group_id is None else str(group_id)
    operator = f"{OPERATOR}{operator_id}"
    return operator if group_id is None else f"{operator}:{group_id}"


def hour_of(at: datetime) -> datetime:
    """The UTC hour an instant falls in."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def micros(delta: timedelta) -> int:
    return delta // _ONE_MICROSECOND


def duration_bucket(seconds: float) -> int:
    """0 below the floor; bucket n >= 1 holds [floor * 1.02^(n-1), floor * 1.02^n)."""
    if seconds < HISTOGRAM_FLOOR_S:
        return 0
    return 1 + math.floor(math.log(seconds / HISTOGRAM_FLOOR_S) / _LOG_GROWTH)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    if bucket == 0:
        return 0.0, HISTOGRAM_FLOOR_S
    low = HISTOGRAM_FLOOR_S * HISTOGRAM_GROWTH ** (bucket - 1)
    return low, low * HISTOGRAM_GROWTH


def split_hours(
    start: datetime, end: datetime
) -> tuple[list[datetime], list[tuple[datetime, datetime]]]:
    """[start, end) as the whole UTC hours inside it and the (at most two) parts outside them."""
    first = hour_of(start)
    if first < start:
        first += HOUR
    last = hour_of(end)
    if first >= last:
        return [], [(start, end)] if start < end else []
    hours = [first + n * HOUR for n in range((last - first) // HOUR)]
    edges = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    return hours, edges


class Histogram:
    """Counts per duration bucket, packed as 32-bit fields of one Python integer.

    Adding two histograms is then one integer addition, which keeps merging the rows of a
    month of hours fast; stored as the first bucket and the little-endian fields from there.
    """

    __slots__ = ("packed",)

    def __init__(self, packed: int = 0) -> None:
        self.packed = packed

    @classmethod
    def from_row(cls, first: int, data: bytes) -> Histogram:
        return cls(int.from_bytes(data, "little") << (_FIELD_BITS * first))

    @classmethod
    def from_counts(cls, buckets: list[int], counts: list[int]) -> Histogram:
        return cls(sum(n << (_FIELD_BITS * b) for b, n in zip(buckets, counts, strict=True)))

    @classmethod
    def from_rows(cls, firsts: list[int], datas: list[bytes]) -> Histogram:
        """The sum of stored histograms."""
        return cls(
            sum(
                int.from_bytes(data, "little") << (_FIELD_BITS * first)
                for first, data in zip(firsts, datas, strict=True)
            )
        )

    def add(self, bucket: int) -> None:
        self.packed += 1 << (_FIELD_BITS * bucket)

    def merge(self, other: Histogram) -> None:
        self.packed += other.packed

    def to_row(self) -> tuple[int, bytes]:
        """The first bucket with a count, and the fields from there to the last."""
        if not self.packed:
            return 0, b""
        first = ((self.packed & -self.packed).bit_length() - 1) // _FIELD_BITS
        rest = self.packed >> (_FIELD_BITS * first)
        return first, rest.to_bytes(-(-rest.bit_length() // _FIELD_BITS) * 4, "little")

    def percentiles(self, fractions: tuple[float, ...], max_s: float) -> list[float]:
        """Estimates of ``percentile_cont(fraction)``: each order statistic it interpolates
        between is placed inside its bucket by its rank there, so it stays in the bucket of
        the exact one (``max_s``, known exactly, caps the last bucket)."""
        first, data = self.to_row()
        counts = array("I")
        counts.frombytes(data)
        if sys.byteorder == "big":
            counts.byteswap()
        cumulative = list(accumulate(counts))
        total = cumulative[-1]

        def nth(rank: int) -> float:  # the rank-th smallest duration, from 0
            index = bisect_right(cumulative, rank)
            before = cumulative[index - 1] if index else 0
            low, high = bucket_bounds(first + index)
            share = (rank - before + 0.5) / counts[index]
            return min(low + (high - low) * share, max_s)

        estimates = []
        for fraction in fractions:
            position = fraction * (total - 1)
            below = math.floor(position)
            low, high = nth(below), nth(math.ceil(position))
            estimates.append(low + (high - low) * (position - below))
        return estimates

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and self.packed == other.packed

    def __repr__(self) -> str:
        return f"Histogram{self.to_row()}"


@dataclass
class ResponseTally:
    """Stopped clocks of one kind: answered ones summed up, unanswered ones counted."""

    answered: int = 0
    within_sl: int = 0
    duration_us: int = 0
    max_s: float | None = None
    unanswered: int = 0
    histogram: Histogram = field(default_factory=Histogram)

    def add(self, fact: ResponseFact) -> None:
        """Count one stopped clock; its duration is worked out once (``fact.duration_s`` and
        ``fact.within_sl`` each subtract its times again)."""
        if not fact.answered:
            self.unanswered += 1
            return
        duration = fact.stopped_at - fact.started_at
        seconds = duration.total_seconds()
        self.answered += 1
        self.within_sl += seconds <= fact.sl_s
        self.duration_us += micros(duration)
        self.max_s = _max(self.max_s, seconds)
        self.histogram.add(duration_bucket(seconds))

    def merge(self, other: ResponseTally) -> None:
        self.answered += other.answered
        self.within_sl += other.within_sl
        self.duration_us += other.duration_us
        self.max_s = _max(self.max_s, other.max_s)
        self.unanswered += other.unanswered
        self.histogram.merge(other.histogram)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ResponseTally:
        return cls(
            answered=row["answered"],
            within_sl=row["within_sl"],
            duration_us=row["duration_us"],
            max_s=row["max_s"],
            unanswered=row["unanswered"],
            histogram=Histogram.from_row(row["histogram_from"], bytes(row["histogram"])),
        )


# A batch's stopped clocks are tallied per (UTC hour, group, operator, kind): a clock adds the
# same to each of its scopes, so the tallies are spread over the scopes once per batch.
ResponseKey = tuple[datetime, UUID | None, UUID | None, str]


def responses_by_scope(
    tallies: dict[ResponseKey, ResponseTally],
) -> dict[tuple[datetime, str, str], ResponseTally]:
    """Tallies per (UTC hour, group, operator, kind) as the roll-up keeps them: per (UTC hour,
    scope, kind), each added up in every scope it counts in."""
    by_scope: dict[tuple[datetime, str, str], ResponseTally] = {}
    for (hour, group_id, operator_id, kind), tally in tallies.items():
        for scope in scopes_of(group_id, operator_id):
            total = by_scope.get((hour, scope, kind))
            if total is None:
                by_scope[hour, scope, kind] = total = ResponseTally()
            total.merge(tally)
    return by_scope


@dataclass
class ChatTally:
    """Chats of one hour: requested then (and their time in queues), closed then (and rated).

    Every field but ``queue_wait_max_s`` adds up; a chat's contribution can also be taken
    back (it moved to another group, or went back to a queue), and a maximum cannot.
    """

    requested: int = 0
    queue_left: int = 0  # left the queue: their waits are final
    queue_wait_us: int = 0
    waiting: int = 0  # still in a queue
    closed: int = 0
    abandoned: int = 0  # closed with no operator message
    rated: int = 0
    rating_sum: int = 0
    score_1: int = 0
    score_2: int = 0
    score_3: int = 0
    score_4: int = 0
    score_5: int = 0
    queue_wait_max_s: float | None = None

    def merge(self, other: ChatTally, sign: int = 1) -> None:
        """Add ``other`` (``sign`` -1: take it back, leaving the maximum as it is).

        Field by field, written out: a loop of getattr and setattr over the fields took a
        tenth of a reports rebuild (``COUNTED`` lists them; a test checks both agree)."""
        self.requested += sign * other.requested
        self.queue_left += sign * other.queue_left
        self.queue_wait_us += sign * other.queue_wait_us
        self.waiting += sign * other.waiting
        self.closed += sign * other.closed
        self.abandoned += sign * other.abandoned
        self.rated += sign * other.rated
        self.rating_sum += sign * other.rating_sum
        self.score_1 += sign * other.score_1
        self.score_2 += sign * other.score_2
        self.score_3 += sign * other.score_3
        self.score_4 += sign * other.score_4
        self.score_5 += sign * other.score_5
        if sign > 0:
            self.queue_wait_max_s = _max(self.queue_wait_max_s, other.queue_wait_max_s)


COLUMNS = tuple(f.name for f in fields(ChatTally))
COUNTED = COLUMNS[:-1]


@dataclass
class ReportChat:
    """A chat as the reports count it (a ``report_chats`` row), changed by its events."""

    id: UUID
    group_id: UUID | None
    requested_at: datetime
    operator_id: UUID | None = None
    closed_at: datetime | None = None
    operator_replied: bool = False
    rating: int | None = None
    queued: bool = False
    queued_since: datetime | None = None
    queue_wait_s: float = 0.0

    def queue(self, group_id: UUID | None, at: datetime) -> None:
        self.group_id, self.queued = group_id, True
        if self.queued_since is None:
            self.queued_since = at

    def leave_queue(self, at: datetime) -> None:
        """Assigned, or closed while waiting: the wait adds to the chat's total."""
        if self.queued_since is not None:
            self.queue_wait_s += (at - self.queued_since).total_seconds()
            self.queued_since = None

    def counts(self) -> tuple[tuple[str, ...], dict[datetime, ChatTally]]:
        """What this chat adds to the roll-up: its scopes (its group and all, and the operator
        who holds it) and per UTC hour what it adds to each of them, the same in every one."""
        requested = ChatTally(requested=1)
        if self.queued_since is not None:
            requested.waiting = 1
        elif self.queued:
            requested.queue_left = 1
            requested.queue_wait_us = round(self.queue_wait_s * 1_000_000)
            requested.queue_wait_max_s = self.queue_wait_s
        hours = {hour_of(self.requested_at): requested}
        if self.closed_at is not None:
            closed = ChatTally(closed=1, abandoned=int(not self.operator_replied))
            if self.rating is not None:
                closed.rated, closed.rating_sum = 1, self.rating
                setattr(closed, f"score_{self.rating}", 1)
            closed_hour = hour_of(self.closed_at)
            if closed_hour in hours:
                hours[closed_hour].merge(closed)
            else:
                hours[closed_hour] = closed
        return scopes_of(self.group_id, self.operator_id), hours


def _max(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None else max(a, b)
