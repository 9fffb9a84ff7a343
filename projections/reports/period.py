"""A report's period, parsed and checked in this one place: from, to, the time zone, its days.

``asked_period`` reads a query's raw ``from`` and ``to`` (a time with its UTC offset, or a
date: that day in the report's zone); ``Periods.resolve`` turns them into UTC instants in the
zone the caller named, which must be one of the server's IANA zones. Anything that cannot be
meant is a ``BadPeriod``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg import Cursor

MAX_DAYS = 1000
DEFAULT_PERIOD = timedelta(days=7)
BUCKETS = ("day", "none")
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
_OUT_OF_RANGE = "reports cover times from 1970 to 2199"
_NOT_ZONES = ("localtime", "posixrules")  # the server's files, not IANA names
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# The days of the period in the caller's zone, each clipped to the period.
DAYS_SQL = (
    "SELECT day, starts, ends FROM (SELECT d::date AS day, "
    "greatest(d AT TIME ZONE %(tz)s, %(from)s) AS starts, "
    "least((d + interval '1 day') AT TIME ZONE %(tz)s, %(to)s) AS ends "
    "FROM generate_series(date_trunc('day', %(from)s AT TIME ZONE %(tz)s), "
    "%(to)s AT TIME ZONE %(tz)s, interval '1 day') AS d) AS days WHERE starts < ends"
)


class BadPeriod(ValueError):
    """A report period or time zone that cannot be meant: from after to, unknown zone."""


@dataclass(frozen=True)
class Period:
    """A half-open range of instants [start, end), and the zone its days are counted in."""

    start: datetime
    end: datetime
    tz: str

    def params(self) -> dict[str, Any]:
        """The period as the reports' SQL names it."""
        return {"from": self.start, "to": self.end, "tz": self.tz}


@dataclass(frozen=True)
class Day:
    """One day of a period in its zone, clipped to the period: [start, end) in UTC."""

    date: date
    start: datetime
    end: datetime


def asked_period(
    since: str | None, until: str | None, *, now: datetime
) -> tuple[datetime | date, datetime | date]:
    """The period a query's raw ``from`` and ``to`` ask for: by default the 7 days up to now,
    or the week of days that ends with a date ``to``."""
    end = _when("to", until) or now
    start = _when("from", since)
    if start is None:
        week = DEFAULT_PERIOD if isinstance(end, datetime) else DEFAULT_PERIOD - timedelta(days=1)
        try:
            start = end - week
        except OverflowError as error:
            raise BadPeriod("to: too early for a report") from error
    return start, end


def _when(name: str, value: str | None) -> datetime | date | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if _DAY.fullmatch(value):
            return date.fromisoformat(value)
        when = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadPeriod(
            f"{name}: {value!r} is not an ISO 8601 time or date (in a URL, write + as %2B)"
        ) from error
    if when.tzinfo is None or when.utcoffset() is None:
        raise BadPeriod(f"{name}: give the time with its UTC offset, e.g. {value}Z")
    return when


class Periods:
    """Periods resolved in the server's time zones (their names read once: the view is slow)."""

    def __init__(self) -> None:
        self._zones: dict[str, str] | None = None

    def resolve(
        self,
        curs: Cursor,
        from_: datetime | date,
        to: datetime | date,
        tz: str,
        *,
        bucket: str = "none",
    ) -> Period:
        """``from_`` and ``to`` in ``tz``: a date from its start, ``to`` to its end."""
        if bucket not in BUCKETS:
            raise BadPeriod("bucket is day or none")
        zone = self._known_zones(curs).get(tz.lower(), "")
        if not zone:
            raise BadPeriod("unknown time zone: use an IANA name such as Europe/Berlin")
        start = _instant(curs, from_, zone, end=False)
        end = _instant(curs, to, zone, end=True)
        both_days = not isinstance(from_, datetime) and not isinstance(to, datetime)
        if start > end or (both_days and from_ > to):
            raise BadPeriod("from is after to")
        if bucket == "day" and end - start > timedelta(days=MAX_DAYS):
            raise BadPeriod(f"a report by day covers at most {MAX_DAYS} days")
        return Period(start, end, zone)

    @staticmethod
    def days(curs: Cursor, period: Period) -> list[Day]:
        curs.execute(DAYS_SQL + " ORDER BY day", period.params())
        return [
            Day(row["day"], row["starts"].astimezone(UTC), row["ends"].astimezone(UTC))
            for row in curs.fetchall()
        ]

    def _known_zones(self, curs: Cursor) -> dict[str, str]:
        """The server's IANA zone names by their lower case."""
        if self._zones is None:
            curs.execute("SELECT name FROM pg_timezone_names")
            names = [row["name"] for row in curs.fetchall()]
            self._zones = {
                name.lower(): name
                for name in names
                if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
            }
        return self._zones


def _instant(curs: Cursor, value: datetime | date, tz: str, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise BadPeriod("give times with their UTC offset, e.g. 2026-01-01T00:00:00Z")
        if not EARLIEST.date() < value.date() < LATEST.date():
            raise BadPeriod(_OUT_OF_RANGE)
        return value.astimezone(UTC)
    if not EARLIEST.date() < value < LATEST.date():
        raise BadPeriod(_OUT_OF_RANGE)
    # A day in the caller's zone: from its start; ``to`` includes the whole day.
    day = value + timedelta(days=1) if end else value
    curs.execute("SELECT (%s::date)::timestamp AT TIME ZONE %s AS at", (day, tz))
    return curs.fetchone()["at"].astimezone(UTC)
