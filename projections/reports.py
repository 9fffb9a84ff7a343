"""The reports read model: SLA facts, chats and operator activity, aggregated in SQL.

Rows: ``sla_facts`` (one per stopped response clock, from ``projections.sla``),
``report_chats`` (one per chat: when requested and closed, its group and operator, whether an
operator ever wrote, its rating, its time in the queue), ``operator_activity`` (one per status
interval of an operator). Each chat's running clocks are kept in ``sla_chat_state`` between
batches, and each group's service levels in ``report_groups``: the SL when a clock stops applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor

from domain.chat import Chat
from domain.group import Group
from domain.operator import STATUSES, Operator
from projections.base import ReadModel
from projections.sla import FIRST_RESPONSE, KINDS, ChatClocks, ResponseFact, default_sl

MAX_DAYS = 1000
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
_OUT_OF_RANGE = "reports cover times from 1970 to 2199"
SCORES = (1, 2, 3, 4, 5)
_NOT_ZONES = ("localtime", "posixrules")  # the server's files, not IANA names


class BadPeriod(ValueError):
    """A report period or time zone that cannot be meant: from after to, unknown zone."""


@dataclass(frozen=True)
class Period:
    """A half-open range of instants [start, end), and the zone its days are counted in."""

    start: datetime
    end: datetime
    tz: str


_DONE = object()  # a chat whose response clocks are over (closed, or never seen)


class Reports(ReadModel):
    name = "reports"
    tables = (
        """CREATE TABLE IF NOT EXISTS {schema}.sla_facts (
            chat_id uuid NOT NULL,
            number integer NOT NULL,
            kind text NOT NULL,
            group_id uuid,
            operator_id uuid,
            started_at timestamptz NOT NULL,
            stopped_at timestamptz NOT NULL,
            duration_s double precision NOT NULL,
            sl_s integer NOT NULL,
            within_sl boolean NOT NULL,
            answered boolean NOT NULL,
            PRIMARY KEY (chat_id, number))""",
        "CREATE INDEX IF NOT EXISTS sla_facts_stopped ON {schema}.sla_facts (stopped_at)",
        "CREATE INDEX IF NOT EXISTS sla_facts_group ON {schema}.sla_facts (group_id, stopped_at)",
        "CREATE INDEX IF NOT EXISTS sla_facts_operator "
        "ON {schema}.sla_facts (operator_id, stopped_at)",
        """CREATE TABLE IF NOT EXISTS {schema}.sla_chat_state (
            chat_id uuid PRIMARY KEY,
            state jsonb NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS {schema}.report_groups (
            group_id uuid PRIMARY KEY,
            sl_first_response_s integer NOT NULL,
            sl_next_response_s integer NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS {schema}.report_chats (
            id uuid PRIMARY KEY,
            group_id uuid,
            operator_id uuid,
            requested_at timestamptz NOT NULL,
            closed_at timestamptz,
            operator_replied boolean NOT NULL DEFAULT false,
            rating smallint,
            queued boolean NOT NULL DEFAULT false,
            queued_since timestamptz,
            queue_wait_s double precision NOT NULL DEFAULT 0)""",
        "CREATE INDEX IF NOT EXISTS report_chats_requested ON {schema}.report_chats (requested_at)",
        "CREATE INDEX IF NOT EXISTS report_chats_closed "
        "ON {schema}.report_chats (closed_at) WHERE closed_at IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS report_chats_group "
        "ON {schema}.report_chats (group_id, requested_at)",
        "CREATE INDEX IF NOT EXISTS report_chats_operator "
        "ON {schema}.report_chats (operator_id, requested_at)",
        """CREATE TABLE IF NOT EXISTS {schema}.operator_activity (
            operator_id uuid NOT NULL,
            number integer NOT NULL,
            status text NOT NULL,
            started_at timestamptz NOT NULL,
            ended_at timestamptz,
            PRIMARY KEY (operator_id, number))""",
        "CREATE INDEX IF NOT EXISTS operator_activity_period "
        "ON {schema}.operator_activity (started_at, ended_at)",
    )
    _zones: dict[str, str] | None = None

    def __init__(self, datastore, application_name: str) -> None:
        super().__init__(datastore, application_name)
        # Within one batch: each chat's clocks, read once and written once at the end
        # (``_DONE`` for a chat whose clocks are over).
        self._batch_clocks: dict[UUID, ChatClocks | object] = {}

    def begin_batch(self) -> None:
        super().begin_batch()
        self._batch_clocks = {}

    def end_batch(self, curs: Cursor) -> None:
        done = [chat_id for chat_id, clocks in self._batch_clocks.items() if clocks is _DONE]
        if done:
            curs.execute(
                f"DELETE FROM {self.table('sla_chat_state')} WHERE chat_id = ANY(%s)", (done,)
            )
        running = [c for c in self._batch_clocks.values() if isinstance(c, ChatClocks)]
        if running:
            curs.executemany(
                f"INSERT INTO {self.table('sla_chat_state')} (chat_id, state) VALUES (%s, %s) "
                "ON CONFLICT (chat_id) DO UPDATE SET state = EXCLUDED.state",
                [(c.chat_id, json.dumps(c.to_json())) for c in running],
            )
        self.begin_batch()

    # -- projection: chats ----------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: Any, curs: Cursor) -> None:
        """Events the reports do not count change nothing here."""

    @apply.register
    def _(self, e: Chat.ChatRequested, curs: Cursor) -> None:
        curs.execute(
            f"INSERT INTO {self.table('report_chats')} (id, group_id, requested_at) "
            "VALUES (%s, %s, %s)",
            (e.originator_id, e.requested_group_id, e.timestamp),
        )
        self._save_clocks(curs, ChatClocks.requested(e))

    @apply.register
    def _(self, e: Chat.Queued, curs: Cursor) -> None:
        self._update(
            curs,
            e.originator_id,
            "group_id = %s, queued = true, queued_since = COALESCE(queued_since, %s)",
            e.group_id,
            e.timestamp,
        )
        self._clocks(curs, e)

    @apply.register
    def _(self, e: Chat.Assigned, curs: Cursor) -> None:
        self._update(
            curs,
            e.originator_id,
            f"group_id = %s, operator_id = %s, {_LEAVE_QUEUE}",
            e.group_id,
            e.operator_id,
            e.timestamp,
        )
        self._clocks(curs, e)

    @apply.register
    def _(self, e: Chat.Reassigned, curs: Cursor) -> None:
        self._update(
            curs, e.originator_id, "group_id = %s, operator_id = %s", e.group_id, e.operator_id
        )
        self._clocks(curs, e)

    @apply.register(Chat.Intercepted)
    @apply.register(Chat.Muted)
    @apply.register(Chat.Unmuted)
    def _(self, e: Chat.Event, curs: Cursor) -> None:
        self._clocks(curs, e)

    @apply.register
    def _(self, e: Chat.MessagePosted, curs: Cursor) -> None:
        if e.author == "operator":
            self._update(curs, e.originator_id, "operator_replied = true")
        self._clocks(curs, e)

    @apply.register
    def _(self, e: Chat.Closed, curs: Cursor) -> None:
        # Closing a chat that waits in the queue ends its wait there too.
        self._update(
            curs, e.originator_id, f"closed_at = %s, {_LEAVE_QUEUE}", e.timestamp, e.timestamp
        )
        self._clocks(curs, e)

    @apply.register
    def _(self, e: Chat.Rated, curs: Cursor) -> None:
        self._update(curs, e.originator_id, "rating = %s", e.score)

    def _update(self, curs: Cursor, chat_id: UUID, assignments: str, *values: Any) -> None:
        curs.execute(
            f"UPDATE {self.table('report_chats')} SET {assignments} WHERE id = %s",
            (*values, chat_id),
        )

    def _clocks(self, curs: Cursor, event: Chat.Event) -> None:
        """Run the chat's response clocks on the event; record what stopped."""
        clocks = self._batch_clocks.get(event.originator_id)
        if clocks is None:
            curs.execute(
                f"SELECT state FROM {self.table('sla_chat_state')} WHERE chat_id = %s",
                (event.originator_id,),
            )
            row = curs.fetchone()
            clocks = _DONE if row is None else ChatClocks.from_json(row["state"])
        if clocks is _DONE:  # a closed chat: its clocks are over
            return
        for fact in clocks.apply(event, lambda group_id, kind: self._sl(curs, group_id, kind)):
            self._record(curs, fact)
        self._batch_clocks[clocks.chat_id] = _DONE if clocks.closed else clocks

    def _save_clocks(self, curs: Cursor, clocks: ChatClocks) -> None:
        self._batch_clocks[clocks.chat_id] = clocks  # written at the end of the batch

    def _record(self, curs: Cursor, fact: ResponseFact) -> None:
        curs.execute(
            f"INSERT INTO {self.table('sla_facts')} (chat_id, number, kind, group_id, "
            "operator_id, started_at, stopped_at, duration_s, sl_s, within_sl, answered) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                fact.chat_id,
                fact.number,
                fact.kind,
                fact.group_id,
                fact.operator_id,
                fact.started_at,
                fact.stopped_at,
                fact.duration_s,
                fact.sl_s,
                fact.within_sl,
                fact.answered,
            ),
        )

    def _sl(self, curs: Cursor, group_id: UUID | None, kind: str) -> int:
        if group_id is not None:
            levels = self.service_levels(curs, "report_groups", group_id)
            if levels is not None:
                return levels[0] if kind == FIRST_RESPONSE else levels[1]
        return default_sl(kind)

    # -- projection: groups and operators -------------------------------------------------------

    @apply.register(Group.GroupCreated)
    @apply.register(Group.GroupUpdated)
    def _(self, e: Group.GroupCreated | Group.GroupUpdated, curs: Cursor) -> None:
        self.remember_service_levels(e.originator_id, e.sl_first_response_s, e.sl_next_response_s)
        curs.execute(
            f"INSERT INTO {self.table('report_groups')} VALUES (%s, %s, %s) "
            "ON CONFLICT (group_id) DO UPDATE SET "
            "sl_first_response_s = EXCLUDED.sl_first_response_s, "
            "sl_next_response_s = EXCLUDED.sl_next_response_s",
            (e.originator_id, e.sl_first_response_s, e.sl_next_response_s),
        )

    @apply.register
    def _(self, e: Operator.OperatorRegistered, curs: Cursor) -> None:
        # A new operator is offline from the moment they are registered.
        curs.execute(
            f"INSERT INTO {self.table('operator_activity')} "
            "(operator_id, number, status, started_at) VALUES (%s, 1, 'offline', %s)",
            (e.originator_id, e.timestamp),
        )

    @apply.register
    def _(self, e: Operator.StatusChanged, curs: Cursor) -> None:
        number = self._end_activity(curs, e.originator_id, e.timestamp)
        curs.execute(
            f"INSERT INTO {self.table('operator_activity')} "
            "(operator_id, number, status, started_at) VALUES (%s, %s, %s, %s)",
            (e.originator_id, number + 1, e.status, e.timestamp),
        )

    @apply.register
    def _(self, e: Operator.Deactivated, curs: Cursor) -> None:
        self._end_activity(curs, e.originator_id, e.timestamp)

    def _end_activity(self, curs: Cursor, operator_id: UUID, at: datetime) -> int:
        """End the operator's open interval; returns the number of their last interval."""
        curs.execute(
            f"UPDATE {self.table('operator_activity')} SET ended_at = %s "
            "WHERE operator_id = %s AND ended_at IS NULL",
            (at, operator_id),
        )
        curs.execute(
            "SELECT COALESCE(MAX(number), 0) AS number "
            f"FROM {self.table('operator_activity')} WHERE operator_id = %s",
            (operator_id,),
        )
        return curs.fetchone()["number"]

    # -- queries --------------------------------------------------------------------------------

    def sla_report(
        self,
        from_: datetime | date,
        to: datetime | date,
        *,
        group_id: UUID | None = None,
        operator_id: UUID | None = None,
        bucket: str = "day",
        tz: str = "UTC",
    ) -> dict[str, Any]:
        """First and next response, CSAT, chats and queue over a period, and per day in ``tz``.

        A date (not a time) means that day in ``tz``: ``from_`` its start, ``to`` its end.
        Responses count by when their clock stopped; chats requested and the queue by when the
        chat was requested; chats closed, abandoned and CSAT by when it was closed.
        """
        if bucket not in ("day", "none"):
            raise BadPeriod("bucket is day or none")
        by_day = bucket == "day"
        with self._snapshot() as curs:
            period = self._period(curs, from_, to, tz, by_day=by_day)
            params = {
                "from": period.start,
                "to": period.end,
                "tz": period.tz,
                "group": group_id,
                "operator": operator_id,
            }
            days = self._days(curs, params) if by_day else []
            report: dict[str, Any] = {"period": _period_out(period, bucket)}
            sections: dict[date | None, dict[str, Any]] = {
                day: _empty_sections() for day in [None, *[d["day"] for d in days]]
            }
            facts = self._query(
                curs, _FACTS_SQL, "sla_facts", "stopped_at", params, by_day=by_day, keys=("kind",)
            )
            for row in facts:
                sections[row["day"]][row["kind"]] = _response_section(row)
            requested = self._query(
                curs, _REQUESTED_SQL, "report_chats", "requested_at", params, by_day=by_day
            )
            for row in requested:
                sections[row["day"]]["chats"]["requested"] = row["requested"]
                sections[row["day"]]["queue"] = _queue_section(row)
            closed = self._query(
                curs, _CLOSED_SQL, "report_chats", "closed_at", params, by_day=by_day
            )
            for row in closed:
                chats = sections[row["day"]]["chats"]
                chats["closed"], chats["abandoned"] = row["closed"], row["abandoned"]
                sections[row["day"]]["csat"] = _csat_section(row)
        report.update(sections[None])
        report["buckets"] = [
            {
                "date": d["day"],
                "from": _utc(d["starts"]),
                "to": _utc(d["ends"]),
                **sections[d["day"]],
            }
            for d in days
        ]
        return report

    def operator_activity(
        self,
        from_: datetime | date,
        to: datetime | date,
        *,
        now: datetime,
        operator_id: UUID | None = None,
        tz: str = "UTC",
    ) -> dict[str, Any]:
        """Seconds each operator spent in each status, per day in ``tz``, within the period.

        An interval still open counts up to ``now``.
        """
        with self._snapshot() as curs:
            period = self._period(curs, from_, to, tz, by_day=True)
            params = {
                "from": period.start,
                "to": period.end,
                "tz": period.tz,
                "now": now,
                "operator": operator_id,
            }
            where = "AND operator_id = %(operator)s" if operator_id is not None else ""
            curs.execute(
                f"WITH days AS ({_DAYS_SQL}), spans AS ("
                "SELECT operator_id, status, started_at, COALESCE(ended_at, %(now)s) AS ended_at "
                f"FROM {self.table('operator_activity')} WHERE started_at < %(to)s "
                f"AND COALESCE(ended_at, %(now)s) > %(from)s {where}) "
                "SELECT s.operator_id, d.day, s.status, sum(EXTRACT(EPOCH FROM "
                "least(s.ended_at, d.ends) - greatest(s.started_at, d.starts)))::float8 AS seconds "
                "FROM spans s JOIN days d ON s.started_at < d.ends AND s.ended_at > d.starts "
                "WHERE s.ended_at > s.started_at "
                "GROUP BY s.operator_id, d.day, s.status ORDER BY s.operator_id, d.day",
                params,
            )
            rows = curs.fetchall()
        operators: dict[UUID, dict[str, Any]] = {}
        for row in rows:
            entry = operators.setdefault(
                row["operator_id"],
                {"operator_id": row["operator_id"], "seconds": _no_seconds(), "days": {}},
            )
            day = entry["days"].setdefault(
                row["day"], {"date": row["day"], "seconds": _no_seconds()}
            )
            day["seconds"][row["status"]] = row["seconds"]
            entry["seconds"][row["status"]] += row["seconds"]
        return {
            "period": _period_out(period, "day"),
            "operators": [{**e, "days": list(e["days"].values())} for e in operators.values()],
        }

    # -- the period and its days ----------------------------------------------------------------

    @contextmanager
    def _snapshot(self) -> Iterator[Cursor]:
        """A read-only transaction on one snapshot: every section counts the same rows."""
        with self.datastore.transaction() as curs:
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield curs

    def _period(
        self, curs: Cursor, from_: datetime | date, to: datetime | date, tz: str, *, by_day: bool
    ) -> Period:
        tz = self._known_zones(curs).get(tz.lower(), "")
        if not tz:
            raise BadPeriod("unknown time zone: use an IANA name such as Europe/Berlin")
        start = self._instant(curs, from_, tz, end=False)
        end = self._instant(curs, to, tz, end=True)
        both_days = not isinstance(from_, datetime) and not isinstance(to, datetime)
        if start > end or (both_days and from_ > to):
            raise BadPeriod("from is after to")
        if by_day and end - start > timedelta(days=MAX_DAYS):
            raise BadPeriod(f"a report by day covers at most {MAX_DAYS} days")
        return Period(start, end, tz)

    @staticmethod
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
        return _utc(curs.fetchone()["at"])

    def _known_zones(self, curs: Cursor) -> dict[str, str]:
        """The server's IANA zone names by their lower case, read once (the view is slow)."""
        if self._zones is None:
            curs.execute("SELECT name FROM pg_timezone_names")
            names = [row["name"] for row in curs.fetchall()]
            self._zones = {
                name.lower(): name
                for name in names
                if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
            }
        return self._zones

    @staticmethod
    def _days(curs: Cursor, params: dict[str, Any]) -> list[dict[str, Any]]:
        curs.execute(_DAYS_SQL + " ORDER BY day", params)
        return curs.fetchall()

    def _query(
        self,
        curs: Cursor,
        sql: str,
        table: str,
        at: str,
        params: dict[str, Any],
        *,
        by_day: bool,
        keys: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        """An aggregate of ``table``'s rows with ``at`` in the period, overall and by day."""
        where = [f"{at} >= %(from)s", f"{at} < %(to)s"]
        if params["group"] is not None:
            where.append("group_id = %(group)s")
        if params["operator"] is not None:
            where.append("operator_id = %(operator)s")
        rows = (
            f"SELECT *, ({at} AT TIME ZONE %(tz)s)::date AS day FROM {self.table(table)} "
            f"WHERE {' AND '.join(where)}"
        )
        sets = [f"({', '.join(keys)})"]
        if by_day:
            sets.append(f"({', '.join((*keys, 'day'))})")
        day = "CASE WHEN GROUPING(day) = 0 THEN day END" if by_day else "NULL::date"
        curs.execute(sql.format(day=day, rows=rows, sets=", ".join(sets)), params)
        return curs.fetchall()


# Leaving the queue (assigned, or closed while waiting) adds the wait to the chat's total.
_LEAVE_QUEUE = (
    "queue_wait_s = queue_wait_s + COALESCE(EXTRACT(EPOCH FROM %s - queued_since)::float8, 0), "
    "queued_since = NULL"
)

# The days of the period in the caller's zone, each clipped to the period.
_DAYS_SQL = (
    "SELECT day, starts, ends FROM (SELECT d::date AS day, "
    "greatest(d AT TIME ZONE %(tz)s, %(from)s) AS starts, "
    "least((d + interval '1 day') AT TIME ZONE %(tz)s, %(to)s) AS ends "
    "FROM generate_series(date_trunc('day', %(from)s AT TIME ZONE %(tz)s), "
    "%(to)s AT TIME ZONE %(tz)s, interval '1 day') AS d) AS days WHERE starts < ends"
)

_FACTS_SQL = """SELECT kind, {day} AS day,
    count(*) FILTER (WHERE answered) AS count,
    count(*) FILTER (WHERE answered AND within_sl) AS within_sl,
    100.0::float8 * count(*) FILTER (WHERE answered AND within_sl)
        / NULLIF(count(*) FILTER (WHERE answered), 0) AS pct_within_sl,
    avg(duration_s) FILTER (WHERE answered) AS avg_s,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s) FILTER (WHERE answered) AS p50_s,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_s) FILTER (WHERE answered) AS p90_s,
    max(duration_s) FILTER (WHERE answered) AS max_s,
    count(*) FILTER (WHERE NOT answered) AS unanswered
FROM ({rows}) AS facts GROUP BY GROUPING SETS ({sets})"""

# A chat's queue time counts once it has left the queue; those still in it are "waiting".
_REQUESTED_SQL = """SELECT {day} AS day,
    count(*) AS requested,
    count(*) FILTER (WHERE queued AND queued_since IS NULL) AS queued,
    avg(queue_wait_s) FILTER (WHERE queued AND queued_since IS NULL) AS avg_wait_s,
    max(queue_wait_s) FILTER (WHERE queued AND queued_since IS NULL) AS max_wait_s,
    count(*) FILTER (WHERE queued_since IS NOT NULL) AS waiting
FROM ({rows}) AS chats GROUP BY GROUPING SETS ({sets})"""

_CLOSED_SQL = """SELECT {day} AS day,
    count(*) AS closed,
    count(*) FILTER (WHERE NOT operator_replied) AS abandoned,
    count(rating) AS rated,
    sum(rating)::float8 / NULLIF(count(rating), 0) AS csat_avg,
    count(*) FILTER (WHERE rating = 1) AS score_1,
    count(*) FILTER (WHERE rating = 2) AS score_2,
    count(*) FILTER (WHERE rating = 3) AS score_3,
    count(*) FILTER (WHERE rating = 4) AS score_4,
    count(*) FILTER (WHERE rating = 5) AS score_5
FROM ({rows}) AS chats GROUP BY GROUPING SETS ({sets})"""


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _period_out(period: Period, bucket: str) -> dict[str, Any]:
    return {"from": period.start, "to": period.end, "tz": period.tz, "bucket": bucket}


def _empty_response() -> dict[str, Any]:
    return {
        "count": 0,
        "within_sl": 0,
        "pct_within_sl": None,
        "avg_s": None,
        "p50_s": None,
        "p90_s": None,
        "max_s": None,
        "unanswered": 0,
    }


def _empty_sections() -> dict[str, Any]:
    return {
        **{kind: _empty_response() for kind in KINDS},
        "csat": {"count": 0, "avg": None, "distribution": {str(s): 0 for s in SCORES}},
        "chats": {"requested": 0, "closed": 0, "abandoned": 0},
        "queue": {"count": 0, "avg_wait_s": None, "max_wait_s": None, "waiting": 0},
    }


def _response_section(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in _empty_response()}


def _queue_section(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "count": row["queued"],
        "avg_wait_s": row["avg_wait_s"],
        "max_wait_s": row["max_wait_s"],
        "waiting": row["waiting"],
    }


def _csat_section(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "count": row["rated"],
        "avg": row["csat_avg"],
        "distribution": {str(s): row[f"score_{s}"] for s in SCORES},
    }


def _no_seconds() -> dict[str, float]:
    return {status: 0.0 for status in STATUSES}
