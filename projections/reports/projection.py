"""The reports read model: response-clock facts, chats and operator activity, and their
hourly roll-up, kept as events come; the SLA and operator activity reports read them.

Each chat's running clocks (``domain.clocks``) are kept in ``sla_chat_state`` between batches,
and each group's service levels in ``report_groups``: the SL when a clock stops applies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor

from domain.chat import Chat
from domain.clocks import ChatClocks, ResponseFact
from domain.group import Group
from domain.operator import Operator
from projections.machinery.readmodel import ReadModel
from projections.machinery.service_levels import ServiceLevels
from projections.reports.activity_report import read_operator_activity
from projections.reports.period import Periods
from projections.reports.rollup import (
    ReportChat,
    ResponseKey,
    ResponseTally,
    hour_of,
    responses_by_scope,
)
from projections.reports.sla_report import read_sla_report
from projections.reports.tables import TABLES
from projections.reports.upkeep import (
    CHAT_COLUMNS,
    read_apart,
    write_chat_hours,
    write_chats,
    write_clocks,
    write_facts,
    write_response_hours,
)


@dataclass
class _BatchChat:
    """A chat within one batch: its row as the batch found it (what the roll-up counts now),
    as its events leave it, and its response clocks (``None`` once they are over)."""

    stored: ReportChat | None
    chat: ReportChat
    clocks: ChatClocks | None
    clocks_stored: bool  # whether ``sla_chat_state`` holds a row for it


# The chat events the reports follow: a batch reads the rows of their chats up front. Found by
# their type, one set lookup, not an isinstance against each (the chat of an event of a
# subclass would still be read, on its own, when the event is applied).
_CHAT_EVENTS = frozenset(
    {
        Chat.Queued,
        Chat.MovedToHelp,
        Chat.Assigned,
        Chat.Reassigned,
        Chat.Intercepted,
        Chat.Muted,
        Chat.Unmuted,
        Chat.MessagePosted,
        Chat.Closed,
        Chat.Rated,
    }
)


class Reports(ReadModel):
    name = "reports"
    tables = TABLES
    # Up to this many answered clocks of a kind in a report's period, its percentiles are
    # exact (percentile_cont over the raw facts); above, estimated from the roll-up.
    EXACT_PERCENTILES_UP_TO = 5_000

    def __init__(self, datastore, application_name: str) -> None:
        self.service_levels = ServiceLevels(f"{datastore.schema}.report_groups")
        self.periods = Periods()
        super().__init__(datastore, application_name)
        # Within one batch, written once at its end: each chat the batch touches, and the
        # batch's stopped clocks per (UTC hour, group, operator, kind).
        self._batch_chats: dict[UUID, _BatchChat | None] = {}
        self._batch_responses: dict[ResponseKey, ResponseTally] = {}
        self._batch_facts: list[ResponseFact] = []

    def begin_batch(self) -> None:
        super().begin_batch()
        self.service_levels.begin_batch()
        self._batch_chats = {}
        self._batch_responses = {}
        self._batch_facts = []

    def prepare_batch(self, curs: Cursor, events: Sequence[Any]) -> None:
        """Read the rows of every chat the batch follows, in one statement."""
        ids = {e.originator_id for e in events if type(e) in _CHAT_EVENTS}
        ids.difference_update(self._batch_chats)
        if ids:
            self._load_chats(curs, list(ids))

    def end_batch(self, curs: Cursor) -> None:
        chats = [c for c in self._batch_chats.values() if c is not None]
        write_clocks(
            curs,
            self.table,
            done=[c.chat.id for c in chats if c.clocks is None and c.clocks_stored],
            running=[c.clocks for c in chats if c.clocks is not None],
        )
        changed = [c for c in chats if c.chat != c.stored]
        if changed:
            write_chats(curs, self.table, [c.chat for c in changed])
            write_chat_hours(curs, self.table, [(c.stored, c.chat) for c in changed])
        if self._batch_facts:
            write_facts(curs, self.table, self._batch_facts)
        if self._batch_responses:
            write_response_hours(curs, self.table, responses_by_scope(self._batch_responses))
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
    def _(self, e: Chat.MovedToHelp, curs: Cursor) -> None:
        if batch := self._chat(curs, e.originator_id):
            batch.chat.group_id = None  # its group is gone: it counts in no group's now
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
        found = read_apart(
            curs,
            f"SELECT c.*, s.state FROM {self.table('report_chats')} AS c "
            f"LEFT JOIN {self.table('sla_chat_state')} AS s ON s.chat_id = c.id "
            "WHERE c.id = ANY(%b)",
            (ids,),
        )
        self._batch_chats.update(dict.fromkeys(ids))
        for row in found:
            stored = ReportChat(**{name: row[name] for name in CHAT_COLUMNS})
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
            self.record(fact)
        if batch.clocks.closed:
            batch.clocks = None

    def record(self, fact: ResponseFact) -> None:
        """Keep a stopped clock for the batch's end: its row, and its tally per hour, group,
        operator and kind (``responses_by_scope`` spreads those over their scopes)."""
        self._batch_facts.append(fact)
        key = (hour_of(fact.stopped_at), fact.group_id, fact.operator_id, fact.kind)
        tally = self._batch_responses.get(key)
        if tally is None:
            self._batch_responses[key] = tally = ResponseTally()
        tally.add(fact)

    def _sl(self, curs: Cursor, group_id: UUID | None, kind: str) -> int:
        return self.service_levels.seconds(curs, group_id, kind)

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

    # -- reports --------------------------------------------------------------------------------

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
        """First and next response, CSAT, chats and queue over a period, and per day in ``tz``
        (``bucket="day"``), for all groups, a group, an operator (who answered; unanswered: who
        held the chat at its close; chats: who held them last) or an operator in a group.

        A date (not a time) means that day in ``tz``: ``from_`` its start, ``to`` its end.
        Responses count by when their clock stopped; chats requested and the queue by when the
        chat was requested; chats closed, abandoned and CSAT by when it was closed.
        """
        with self._snapshot() as curs:
            period = self.periods.resolve(curs, from_, to, tz, bucket=bucket)
            days = self.periods.days(curs, period) if bucket == "day" else []
            return read_sla_report(
                curs,
                self.table,
                period,
                days,
                bucket=bucket,
                group_id=group_id,
                operator_id=operator_id,
                exact_up_to=self.EXACT_PERCENTILES_UP_TO,
            )

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
            period = self.periods.resolve(curs, from_, to, tz, bucket="day")
            return read_operator_activity(
                curs, self.table, period, now=now, operator_id=operator_id
            )

    @contextmanager
    def _snapshot(self) -> Iterator[Cursor]:
        """A read-only transaction on one snapshot: every section counts the same rows."""
        with self.datastore.transaction() as curs:
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield curs
