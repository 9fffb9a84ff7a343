"""The reports read model: SLA facts, chats and operator activity, aggregated in SQL.

Rows: ``sla_facts`` (one per stopped response clock, from ``domain.clocks``),
``report_chats`` (one per chat: when requested and closed, its group and operator, whether an
operator ever wrote, its rating, its time in the queue), ``operator_activity`` (one per status
interval of an operator). Each chat's running clocks are kept in ``sla_chat_state`` between
batches, and each group's service levels in ``report_groups``: the SL when a clock stops applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor
from psycopg.rows import dict_row

from domain.chat import Chat
from domain.clocks import KINDS, ChatClocks, ResponseFact
from domain.group import Group
from domain.operator import STATUSES, Operator
from projections.machinery.readmodel import Index, ReadModel, Table
from projections.machinery.service_levels import ServiceLevels, service_level_table
from projections.reports.rollup import (
    ALL_GROUPS,
    COLUMNS,
    COUNTED,
    HOUR,
    NO_GROUP,
    ChatTally,
    Histogram,
    ReportChat,
    ResponseTally,
    duration_bucket,
    hour_of,
    scope_of,
    split_hours,
)

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


@dataclass
class _BatchChat:
    """A chat within one batch: its row as the batch found it (what the roll-up counts now),
    as its events leave it, and its response clocks (``None`` once they are over)."""

    stored: ReportChat | None
    chat: ReportChat
    clocks: ChatClocks | None
    clocks_stored: bool  # whether ``sla_chat_state`` holds a row for it


# The chat events the reports follow: a batch reads the rows of their chats up front.
_CHAT_EVENTS = (
    Chat.Queued,
    Chat.Assigned,
    Chat.Reassigned,
    Chat.Intercepted,
    Chat.Muted,
    Chat.Unmuted,
    Chat.MessagePosted,
    Chat.Closed,
    Chat.Rated,
)
_CHAT_COLUMNS = tuple(f.name for f in fields(ReportChat))
_RESPONSE_COLUMNS = (
    "hour, scope, kind, answered, within_sl, duration_us, max_s, unanswered, "
    "histogram_from, histogram"
)


class Reports(ReadModel):
    name = "reports"
    tables = (
        Table(
            "sla_facts",
            """
            chat_id uuid NOT NULL,
            number integer NOT NULL,
            kind text NOT NULL,
            group_id uuid,
            operator_id uuid,
            started_at timestamptz NOT NULL,
            stopped_at timestamptz NOT NULL,
            duration_s double precision NOT NULL,
            duration_bucket smallint NOT NULL,
            sl_s integer NOT NULL,
            within_sl boolean NOT NULL,
            answered boolean NOT NULL,
            PRIMARY KEY (chat_id, number)
            """,
            (
                Index("sla_facts_stopped", "(stopped_at)"),
                Index("sla_facts_group", "(group_id, stopped_at)"),
                Index("sla_facts_operator", "(operator_id, stopped_at)"),
            ),
        ),
        Table(
            "sla_chat_state",
            """
            chat_id uuid PRIMARY KEY,
            state jsonb NOT NULL
            """,
        ),
        service_level_table("report_groups"),
        Table(
            "report_chats",
            """
            id uuid PRIMARY KEY,
            group_id uuid,
            operator_id uuid,
            requested_at timestamptz NOT NULL,
            closed_at timestamptz,
            operator_replied boolean NOT NULL DEFAULT false,
            rating smallint,
            queued boolean NOT NULL DEFAULT false,
            queued_since timestamptz,
            queue_wait_s double precision NOT NULL DEFAULT 0
            """,
            (
                Index("report_chats_requested", "(requested_at)"),
                Index("report_chats_closed", "(closed_at) WHERE closed_at IS NOT NULL"),
                Index("report_chats_group", "(group_id, requested_at)"),
                Index("report_chats_operator", "(operator_id, requested_at)"),
            ),
        ),
        # The roll-up (rollup.py): per UTC hour and scope, the facts by the hour their
        # clock stopped, and the chats by the hour they were requested (requested, queue) or
        # closed (closed, abandoned, CSAT).
        Table(
            "report_response_hours",
            """
            scope text NOT NULL,
            hour timestamptz NOT NULL,
            kind text NOT NULL,
            answered integer NOT NULL,
            within_sl integer NOT NULL,
            duration_us bigint NOT NULL,
            max_s double precision,
            unanswered integer NOT NULL,
            histogram_from smallint NOT NULL,
            histogram bytea NOT NULL,
            PRIMARY KEY (scope, hour, kind)
            """,
        ),
        Table(
            "report_chat_hours",
            """
            scope text NOT NULL,
            hour timestamptz NOT NULL,
            requested integer NOT NULL,
            queue_left integer NOT NULL,
            queue_wait_us bigint NOT NULL,
            waiting integer NOT NULL,
            closed integer NOT NULL,
            abandoned integer NOT NULL,
            rated integer NOT NULL,
            rating_sum integer NOT NULL,
            score_1 integer NOT NULL,
            score_2 integer NOT NULL,
            score_3 integer NOT NULL,
            score_4 integer NOT NULL,
            score_5 integer NOT NULL,
            queue_wait_max_s double precision,
            PRIMARY KEY (scope, hour)
            """,
        ),
        Table(
            "operator_activity",
            """
            operator_id uuid NOT NULL,
            number integer NOT NULL,
            status text NOT NULL,
            started_at timestamptz NOT NULL,
            ended_at timestamptz,
            PRIMARY KEY (operator_id, number)
            """,
            (Index("operator_activity_period", "(started_at, ended_at)"),),
        ),
    )
    # Up to this many answered clocks of a kind in a report's period, its percentiles are
    # exact (percentile_cont over the raw facts); above, estimated from the roll-up.
    EXACT_PERCENTILES_UP_TO = 5_000
    _zones: dict[str, str] | None = None

    def __init__(self, datastore, application_name: str) -> None:
        self.service_levels = ServiceLevels(f"{datastore.schema}.report_groups")
        super().__init__(datastore, application_name)
        # Within one batch, written once at its end: each chat the batch touches, and the
        # batch's stopped clocks per (UTC hour, scope, kind).
        self._batch_chats: dict[UUID, _BatchChat | None] = {}
        self._batch_responses: dict[tuple[datetime, str, str], ResponseTally] = {}
        self._batch_facts: list[tuple[Any, ...]] = []  # sla_facts rows, written at the end

    def begin_batch(self) -> None:
        super().begin_batch()
        self.service_levels.begin_batch()
        self._batch_chats = {}
        self._batch_responses = {}
        self._batch_facts = []

    def prepare_batch(self, curs: Cursor, events: Sequence[Any]) -> None:
        """Read the rows of every chat the batch follows, in one statement."""
        ids = {e.originator_id for e in events if isinstance(e, _CHAT_EVENTS)}
        ids.difference_update(self._batch_chats)
        if ids:
            self._load_chats(curs, list(ids))

    def end_batch(self, curs: Cursor) -> None:
        chats = [c for c in self._batch_chats.values() if c is not None]
        done = [c.chat.id for c in chats if c.clocks is None and c.clocks_stored]
        if done:
            curs.execute(
                f"DELETE FROM {self.table('sla_chat_state')} WHERE chat_id = ANY(%s)", (done,)
            )
        running = [c.clocks for c in chats if c.clocks is not None]
        if running:
            curs.executemany(
                f"INSERT INTO {self.table('sla_chat_state')} (chat_id, state) VALUES (%s, %s) "
                "ON CONFLICT (chat_id) DO UPDATE SET state = EXCLUDED.state",
                [(c.chat_id, json.dumps(c.to_json())) for c in running],
            )
        changed = [c for c in chats if c.chat != c.stored]
        if changed:
            self._write_chats(curs, [c.chat for c in changed])
            self._write_chat_hours(curs, changed)
        if self._batch_facts:
            curs.execute(
                f"INSERT INTO {self.table('sla_facts')} (chat_id, number, kind, group_id, "
                "operator_id, started_at, stopped_at, duration_s, duration_bucket, sl_s, "
                "within_sl, answered) SELECT * FROM unnest(%s::uuid[], %s::int[], %s::text[], "
                "%s::uuid[], %s::uuid[], %s::timestamptz[], %s::timestamptz[], %s::float8[], "
                "%s::smallint[], %s::int[], %s::bool[], %s::bool[])",
                [list(column) for column in zip(*self._batch_facts, strict=True)],
            )
        if self._batch_responses:
            self._write_response_hours(curs)
        self.begin_batch()

    # -- projection: chats ----------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: Any, curs: Cursor) -> None:
        """Events the reports do not count change nothing here."""

    @apply.register
    def _(self, e: Chat.ChatRequested, curs: Cursor) -> None:
        chat = ReportChat(e.originator_id, e.requested_group_id, e.timestamp)
        self._batch_chats[chat.id] = _BatchChat(
            stored=None, chat=chat, clocks=ChatClocks.requested(e), clocks_stored=False
        )

    @apply.register
    def _(self, e: Chat.Queued, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            batch.chat.queue(e.group_id, e.timestamp)
            self._clocks(curs, batch, e)

    @apply.register
    def _(self, e: Chat.Assigned, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            batch.chat.group_id, batch.chat.operator_id = e.group_id, e.operator_id
            batch.chat.leave_queue(e.timestamp)
            self._clocks(curs, batch, e)

    @apply.register
    def _(self, e: Chat.Reassigned, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            batch.chat.group_id, batch.chat.operator_id = e.group_id, e.operator_id
            self._clocks(curs, batch, e)

    @apply.register(Chat.Intercepted)
    @apply.register(Chat.Muted)
    @apply.register(Chat.Unmuted)
    def _(self, e: Chat.Event, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            self._clocks(curs, batch, e)

    @apply.register
    def _(self, e: Chat.MessagePosted, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            if e.author == "operator":
                batch.chat.operator_replied = True
            self._clocks(curs, batch, e)

    @apply.register
    def _(self, e: Chat.Closed, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            # Closing a chat that waits in the queue ends its wait there too.
            batch.chat.closed_at = e.timestamp
            batch.chat.leave_queue(e.timestamp)
            self._clocks(curs, batch, e)

    @apply.register
    def _(self, e: Chat.Rated, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            batch.chat.rating = e.score

    def _chat(self, curs: Cursor, chat_id: UUID) -> _BatchChat | None:
        """The chat as this batch has it (``None``: a chat the reports never saw requested)."""
        if chat_id not in self._batch_chats:
            self._load_chats(curs, [chat_id])
        return self._batch_chats[chat_id]

    def _load_chats(self, curs: Cursor, ids: list[UUID]) -> None:
        found = _read(
            curs,
            f"SELECT c.*, s.state FROM {self.table('report_chats')} AS c "
            f"LEFT JOIN {self.table('sla_chat_state')} AS s ON s.chat_id = c.id "
            "WHERE c.id = ANY(%s)",
            (ids,),
        )
        self._batch_chats.update(dict.fromkeys(ids))
        for row in found:
            stored = ReportChat(**{name: row[name] for name in _CHAT_COLUMNS})
            state = row["state"]
            self._batch_chats[stored.id] = _BatchChat(
                stored=stored,
                chat=replace(stored),
                clocks=None if state is None else ChatClocks.from_json(state),
                clocks_stored=state is not None,
            )

    def _clocks(self, curs: Cursor, batch: _BatchChat, event: Chat.Event) -> None:
        """Run the chat's response clocks on the event; record what stopped."""
        if batch.clocks is None:  # a closed chat: its clocks are over
            return
        for fact in batch.clocks.apply(
            event, lambda group_id, kind: self._sl(curs, group_id, kind)
        ):
            self._record(curs, fact)
        if batch.clocks.closed:
            batch.clocks = None

    def _record(self, curs: Cursor, fact: ResponseFact) -> None:
        self._batch_facts.append(
            (
                fact.chat_id,
                fact.number,
                fact.kind,
                fact.group_id,
                fact.operator_id,
                fact.started_at,
                fact.stopped_at,
                fact.duration_s,
                duration_bucket(fact.duration_s),
                fact.sl_s,
                fact.within_sl,
                fact.answered,
            )
        )
        hour = hour_of(fact.stopped_at)
        for scope in (scope_of(fact.group_id), ALL_GROUPS):
            self._batch_responses.setdefault((hour, scope, fact.kind), ResponseTally()).add(fact)

    def _sl(self, curs: Cursor, group_id: UUID | None, kind: str) -> int:
        return self.service_levels.seconds(curs, group_id, kind)

    # -- the batch's rows, written at its end ---------------------------------------------------

    def _write_chats(self, curs: Cursor, chats: list[ReportChat]) -> None:
        columns = ", ".join(_CHAT_COLUMNS)
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in _CHAT_COLUMNS[1:])
        curs.executemany(
            f"INSERT INTO {self.table('report_chats')} ({columns}) "
            f"VALUES ({', '.join(['%s'] * len(_CHAT_COLUMNS))}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates}",
            [astuple(chat) for chat in chats],
        )

    def _write_chat_hours(self, curs: Cursor, changed: list[_BatchChat]) -> None:
        """Move each changed chat's counts from where its stored row put them to where it is
        now. A maximum wait taken back is recounted from the chats' rows (rare: a chat that
        left the queue went back to one, or moved to another group)."""
        deltas: dict[tuple[datetime, str], ChatTally] = {}
        recount: set[tuple[datetime, str]] = set()
        for batch in changed:
            before = batch.stored.tallies() if batch.stored is not None else {}
            after = batch.chat.tallies()
            for key in before.keys() | after.keys():
                old, new = before.get(key), after.get(key)
                if old == new:
                    continue
                delta = deltas.setdefault(key, ChatTally())
                if new is not None:
                    delta.merge(new)
                if old is not None:
                    delta.merge(old, sign=-1)
                    kept = new.queue_wait_max_s if new is not None else None
                    if old.queue_left and (kept is None or kept < old.queue_wait_max_s):
                        recount.add(key)
        if not deltas:
            return
        table = self.table("report_chat_hours")
        columns = ", ".join(COLUMNS)
        sums = ", ".join(f"{name} = t.{name} + EXCLUDED.{name}" for name in COUNTED)
        curs.executemany(
            f"INSERT INTO {table} AS t (hour, scope, {columns}) "
            f"VALUES (%s, %s, {', '.join(['%s'] * len(COLUMNS))}) "
            f"ON CONFLICT (scope, hour) DO UPDATE SET {sums}, "
            "queue_wait_max_s = GREATEST(t.queue_wait_max_s, EXCLUDED.queue_wait_max_s)",
            [(hour, scope, *astuple(delta)) for (hour, scope), delta in deltas.items()],
        )
        if recount:
            hours, scopes = zip(*recount, strict=True)
            curs.execute(
                f"UPDATE {table} AS t SET queue_wait_max_s = ("
                f"SELECT max(c.queue_wait_s) FROM {self.table('report_chats')} AS c "
                "WHERE c.requested_at >= t.hour AND c.requested_at < t.hour + interval '1 hour' "
                "AND c.queued AND c.queued_since IS NULL AND (t.scope = %s "
                "OR (t.scope = %s AND c.group_id IS NULL) OR c.group_id::text = t.scope)) "
                "WHERE (t.hour, t.scope) IN "
                "(SELECT * FROM unnest(%s::timestamptz[], %s::text[]))",
                (ALL_GROUPS, NO_GROUP, list(hours), list(scopes)),
            )
        # A chat that moved away leaves nothing behind: the same rows as if it never was there.
        hours, scopes = zip(*deltas, strict=True)
        curs.execute(
            f"DELETE FROM {table} WHERE (hour, scope) IN "
            "(SELECT * FROM unnest(%s::timestamptz[], %s::text[])) "
            "AND requested = 0 AND closed = 0",
            (list(hours), list(scopes)),
        )

    def _write_response_hours(self, curs: Cursor) -> None:
        """Add the batch's stopped clocks to their hours' rows: read once, written once."""
        table = self.table("report_response_hours")
        tallies = self._batch_responses
        hours, scopes, kinds = zip(*tallies, strict=True)
        stored = _read(
            curs,
            f"SELECT {_RESPONSE_COLUMNS} FROM {table} WHERE (hour, scope, kind) IN "
            "(SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[]))",
            (list(hours), list(scopes), list(kinds)),
        )
        for row in stored:
            tallies[row["hour"], row["scope"], row["kind"]].merge(ResponseTally.from_row(row))
        curs.executemany(
            f"INSERT INTO {table} ({_RESPONSE_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (scope, hour, kind) DO UPDATE SET answered = EXCLUDED.answered, "
            "within_sl = EXCLUDED.within_sl, duration_us = EXCLUDED.duration_us, "
            "max_s = EXCLUDED.max_s, unanswered = EXCLUDED.unanswered, "
            "histogram_from = EXCLUDED.histogram_from, histogram = EXCLUDED.histogram",
            [
                (
                    hour,
                    scope,
                    kind,
                    t.answered,
                    t.within_sl,
                    t.duration_us,
                    t.max_s,
                    t.unanswered,
                    *t.histogram.to_row(),
                )
                for (hour, scope, kind), t in tallies.items()
            ],
        )

    # -- projection: groups and operators -------------------------------------------------------

    @apply.register(Group.GroupCreated)
    @apply.register(Group.GroupUpdated)
    def _(self, e: Group.GroupCreated | Group.GroupUpdated, curs: Cursor) -> None:
        self.service_levels.record(curs, e)

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
            if operator_id is None:
                sections, estimated = self._rolled_up_sections(curs, period, days, group_id)
            else:  # an operator's clocks are few, and the roll-up knows no operators
                sections, estimated = self._raw_sections(curs, params, days, by_day=by_day), False
        period_out = _period_out(period, bucket)
        period_out["percentiles"] = "estimated" if estimated else "exact"
        report: dict[str, Any] = {"period": period_out, **sections[None]}
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

    def _raw_sections(
        self, curs: Cursor, params: dict[str, Any], days: list[dict[str, Any]], *, by_day: bool
    ) -> dict[date | None, dict[str, Any]]:
        """The report's sections (``None``: the whole period) aggregated from the raw rows."""
        sections = {day: _empty_sections() for day in [None, *[d["day"] for d in days]]}
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
        closed = self._query(curs, _CLOSED_SQL, "report_chats", "closed_at", params, by_day=by_day)
        for row in closed:
            chats = sections[row["day"]]["chats"]
            chats["closed"], chats["abandoned"] = row["closed"], row["abandoned"]
            sections[row["day"]]["csat"] = _csat_section(row)
        return sections

    def _rolled_up_sections(
        self, curs: Cursor, period: Period, days: list[dict[str, Any]], group_id: UUID | None
    ) -> tuple[dict[date | None, dict[str, Any]], bool]:
        """The report's sections from the roll-up's whole hours and the raw rows of the partial
        hours at the edges of each day; whether any percentile is estimated.

        Each part (a day, or the period without buckets) is summed up from its own whole hours
        and edges; the period's total is the sum of its days.
        """
        parts = [(d["day"], d["starts"], d["ends"]) for d in days] or [
            (None, period.start, period.end)
        ]
        hours: list[tuple[date | None, datetime, datetime]] = []  # each part's whole hours
        edges: list[tuple[date | None, datetime, datetime]] = []
        for key, start, end in parts:
            whole, outside = split_hours(start, end)
            if whole:
                hours.append((key, whole[0], whole[-1] + HOUR))
            edges += [(key, a, b) for a, b in outside]
        responses = {key: {kind: ResponseTally() for kind in KINDS} for key, _, _ in parts}
        chats = {key: ChatTally() for key, _, _ in parts}
        for spans, sql, group in (
            (hours, _HOURS_SQL, ALL_GROUPS if group_id is None else str(group_id)),
            (edges, _EDGES_SQL, group_id),
        ):
            if spans:
                self._read_spans(curs, sql, group, spans, responses, chats)
        if days:
            responses[None] = {kind: ResponseTally() for kind in KINDS}
            chats[None] = ChatTally()
            for key, _, _ in parts:
                chats[None].merge(chats[key])
                for kind in KINDS:
                    responses[None][kind].merge(responses[key][kind])
        percentiles, estimated = self._percentiles(curs, period, group_id, responses)
        sections = {
            key: {
                **{kind: responses[key][kind].section(percentiles[key, kind]) for kind in KINDS},
                **chats[key].sections(),
            }
            for key in responses
        }
        return sections, estimated

    def _read_spans(
        self,
        curs: Cursor,
        sql: dict[str, str],
        group: str | UUID | None,
        spans: list[tuple[date | None, datetime, datetime]],
        responses: dict[date | None, dict[str, ResponseTally]],
        chats: dict[date | None, ChatTally],
    ) -> None:
        """Add up, for each part, the roll-up's rows of its whole hours (``_HOURS_SQL``) or the
        raw rows of the partial hours at its edges (``_EDGES_SQL``, summed up the same way)."""
        params = {
            "starts": [start for _, start, _ in spans],
            "ends": [end for _, _, end in spans],
            "group": group,
        }
        in_group = "AND group_id = %(group)s" if group is not None else ""
        tables = {name: self.table(name) for name in _ROLLUP_READS}
        curs.execute(sql["facts"].format(group=in_group, **tables), params, binary=True)
        for row in curs.fetchall():
            tally = ResponseTally(
                answered=row["answered"],
                within_sl=row["within_sl"],
                duration_us=row["duration_us"],
                max_s=row["max_s"],
                unanswered=row["unanswered"],
                histogram=(
                    Histogram.from_rows(row["buckets"] or [], row["histograms"] or [])
                    if "histograms" in row
                    else Histogram.from_counts(row["buckets"] or [], row["counts"] or [])
                ),
            )
            responses[spans[row["n"] - 1][0]][row["kind"]].merge(tally)
        for query in sql["chats"]:
            curs.execute(query.format(group=in_group, **tables), params)
            for row in curs.fetchall():
                n = row.pop("n")
                chats[spans[n - 1][0]].merge(ChatTally(**row))

    def _percentiles(
        self,
        curs: Cursor,
        period: Period,
        group_id: UUID | None,
        responses: dict[date | None, dict[str, ResponseTally]],
    ) -> tuple[dict[tuple[date | None, str], tuple[float | None, float | None]], bool]:
        """p50 and p90 of each part and kind: exact from the raw facts when the period holds
        up to ``EXACT_PERCENTILES_UP_TO`` answered clocks of the kind, else estimated from the
        histograms (the period and all its days alike: the exact pass stays bounded)."""
        percentiles: dict[tuple[date | None, str], tuple[float | None, float | None]] = {}
        exact: set[tuple[date | None, str]] = set()
        estimated = False
        in_period = {
            kind: sum(kinds[kind].answered for key, kinds in responses.items() if key is not None)
            if None not in responses
            else responses[None][kind].answered
            for kind in KINDS
        }
        for key, kinds in responses.items():
            for kind, tally in kinds.items():
                if tally.answered == 0:
                    percentiles[key, kind] = (None, None)
                elif in_period[kind] <= self.EXACT_PERCENTILES_UP_TO:
                    exact.add((key, kind))
                else:
                    p50, p90 = tally.histogram.percentiles((0.5, 0.9), tally.max_s)
                    percentiles[key, kind], estimated = (p50, p90), True
        if exact:
            # One pass over the period's facts, as the raw report takes it, for every part.
            params = {
                "from": period.start,
                "to": period.end,
                "tz": period.tz,
                "group": group_id,
                "operator": None,
            }
            by_day = any(key is not None for key, _ in exact)
            for row in self._query(
                curs,
                _PERCENTILES_SQL,
                "sla_facts",
                "stopped_at",
                params,
                by_day=by_day,
                keys=("kind",),
            ):
                if (row["day"], row["kind"]) in exact:
                    percentiles[row["day"], row["kind"]] = (row["p50_s"], row["p90_s"])
        return percentiles, estimated

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


# The days of the period in the caller's zone, each clipped to the period.
_DAYS_SQL = (
    "SELECT day, starts, ends FROM (SELECT d::date AS day, "
    "greatest(d AT TIME ZONE %(tz)s, %(from)s) AS starts, "
    "least((d + interval '1 day') AT TIME ZONE %(tz)s, %(to)s) AS ends "
    "FROM generate_series(date_trunc('day', %(from)s AT TIME ZONE %(tz)s), "
    "%(to)s AT TIME ZONE %(tz)s, interval '1 day') AS d) AS days WHERE starts < ends"
)

# Each span (``n``, from 1: a part's whole hours, or a partial hour at its edge), summed up in
# one row per kind; the histograms as their rows' (first bucket, fields) to add up in Python.
# The spans are few: a lateral subquery each reads its range of an index.
_SPANS = (
    "unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) "
    "WITH ORDINALITY AS e(starts, ends, n)"
)
_ROLLUP_READS = ("report_response_hours", "report_chat_hours", "sla_facts", "report_chats")
_CHAT_SUMS = ", ".join(
    f"max({name})::float8 AS {name}"
    if name == "queue_wait_max_s"
    else f"COALESCE(sum({name}), 0)::{'bigint' if name == 'queue_wait_us' else 'int'} AS {name}"
    for name in COLUMNS
)
_RESPONSE_SUMS = """sum(answered)::int AS answered, sum(within_sl)::int AS within_sl,
    COALESCE(sum(duration_us), 0)::bigint AS duration_us, max(max_s) AS max_s,
    sum(unanswered)::int AS unanswered,
    array_agg(histogram_from) FILTER (WHERE answered > 0) AS buckets"""

_HOURS_SQL = {
    "facts": f"""SELECT e.n, h.kind, {_RESPONSE_SUMS},
    array_agg(histogram) FILTER (WHERE answered > 0) AS histograms
FROM {_SPANS} CROSS JOIN LATERAL (SELECT * FROM {{report_response_hours}}
    WHERE scope = %(group)s AND hour >= e.starts AND hour < e.ends) AS h
GROUP BY e.n, h.kind""",
    "chats": (
        f"""SELECT e.n, {_CHAT_SUMS}
FROM {_SPANS} CROSS JOIN LATERAL (SELECT * FROM {{report_chat_hours}}
    WHERE scope = %(group)s AND hour >= e.starts AND hour < e.ends) AS h
GROUP BY e.n""",
    ),
}

# The partial hours, from the raw rows: the same sums over one "row" per duration bucket.
_MICROS = "(EXTRACT(EPOCH FROM stopped_at - started_at) * 1000000)::bigint"
_LEFT_QUEUE = "FILTER (WHERE queued AND queued_since IS NULL)"
_EDGES_SQL = {
    "facts": f"""SELECT e.n, b.kind, {_RESPONSE_SUMS},
    array_agg(answered) FILTER (WHERE answered > 0) AS counts
FROM {_SPANS} CROSS JOIN LATERAL (SELECT kind, duration_bucket AS histogram_from,
        count(*) FILTER (WHERE answered)::int AS answered,
        count(*) FILTER (WHERE answered AND within_sl)::int AS within_sl,
        sum({_MICROS}) FILTER (WHERE answered) AS duration_us,
        max(duration_s) FILTER (WHERE answered) AS max_s,
        count(*) FILTER (WHERE NOT answered)::int AS unanswered
    FROM {{sla_facts}} WHERE stopped_at >= e.starts AND stopped_at < e.ends {{group}}
    GROUP BY kind, duration_bucket) AS b
GROUP BY e.n, b.kind""",
    "chats": (
        f"""SELECT e.n, c.* FROM {_SPANS} CROSS JOIN LATERAL (SELECT
    count(*)::int AS requested,
    count(*) {_LEFT_QUEUE}::int AS queue_left,
    COALESCE(sum(round(queue_wait_s * 1000000)::bigint) {_LEFT_QUEUE}, 0)::bigint
        AS queue_wait_us,
    max(queue_wait_s) {_LEFT_QUEUE} AS queue_wait_max_s,
    count(*) FILTER (WHERE queued_since IS NOT NULL)::int AS waiting
    FROM {{report_chats}} WHERE requested_at >= e.starts AND requested_at < e.ends {{group}}
) AS c""",
        f"""SELECT e.n, c.* FROM {_SPANS} CROSS JOIN LATERAL (SELECT
    count(*)::int AS closed,
    count(*) FILTER (WHERE NOT operator_replied)::int AS abandoned,
    count(rating)::int AS rated,
    COALESCE(sum(rating), 0)::int AS rating_sum,
    {", ".join(f"count(*) FILTER (WHERE rating = {s})::int AS score_{s}" for s in SCORES)}
    FROM {{report_chats}} WHERE closed_at >= e.starts AND closed_at < e.ends {{group}}
) AS c""",
    ),
}

_PERCENTILES_SQL = """SELECT kind, {day} AS day,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s) FILTER (WHERE answered) AS p50_s,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_s) FILTER (WHERE answered) AS p90_s
FROM ({rows}) AS facts GROUP BY GROUPING SETS ({sets})"""

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


def _read(curs: Cursor, sql: str, params: Any) -> list[dict[str, Any]]:
    """Rows read within a batch, on a cursor of their own: in pipeline mode the batch's cursor
    may still be handed the results of the writes sent before the read."""
    with curs.connection.cursor(row_factory=dict_row) as reader:
        reader.execute(sql, params)
        return reader.fetchall()


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
