"""The dashboard read model: a row per chat, as the operators' tabs show it.

Rows carry what a UI needs to draw live timers without asking again: ``waiting_since`` (the
client's open turn) and ``sl_due_at`` (when that turn breaches its group's service level).
Its queries live beside it: the tabs (``tabs``), the live stream's changes (``changes``), the
scheduler's deadlines (``deadlines``) and the dispatcher's queue (``waiting``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.chat import Chat, status_when_held, transcript_message_id
from domain.client import Client, client_id_of
from domain.clocks import FIRST_RESPONSE, NEXT_RESPONSE, ChatClocks, ServiceLevel
from domain.group import Group
from domain.visibility import ChatFacts, lost_sight
from projections.dashboard.changes import DashboardChanges, LiveChanges, row_facts
from projections.dashboard.deadlines import DeadlineQueries
from projections.dashboard.tables import COLUMNS, PREVIEW_CHARS, TABLES
from projections.dashboard.tabs import TabQueries
from projections.dashboard.waiting import WaitingQueries
from projections.machinery.readmodel import ReadModel
from projections.machinery.service_levels import ServiceLevels


def _row_values(row: dict[str, Any] | None) -> tuple[Any, ...]:
    assert row is not None
    return tuple(Jsonb(row[c]) if c == "client" else row[c] for c in COLUMNS)


class Dashboard(TabQueries, LiveChanges, DeadlineQueries, WaitingQueries, ReadModel):
    name = "dashboard"
    tables = TABLES

    def __init__(
        self,
        datastore: PostgresDatastore,
        application_name: str,
        *,
        publish: Callable[[DashboardChanges], None] | None = None,
    ) -> None:
        self.service_levels = ServiceLevels(f"{datastore.schema}.dashboard_group_sl")
        super().__init__(datastore, application_name)
        self.publish = publish  # each committed batch's changes, to the live stream
        self._position = 0
        # Within one batch: each touched chat's row as the batch leaves it (None: no such
        # row), read once in ``prepare_batch`` and written once in ``end_batch``.
        self._rows: dict[UUID, dict[str, Any] | None] = {}
        self._changed: set[UUID] = set()
        self._departures: list[tuple[int, UUID, UUID | None, UUID | None, str | None]] = []

    # -- batches ------------------------------------------------------------------------------

    def begin_batch(self) -> None:
        super().begin_batch()
        self.service_levels.begin_batch()
        self._rows, self._changed, self._departures = {}, set(), []

    def prepare_batch(self, curs: Cursor, events: Sequence[Any]) -> None:
        chat_ids = {e.originator_id for e in events if isinstance(e, Chat.Event)}
        # A card's phone edited: its client's chats (those of this batch are in ``_rows``).
        relabelled = [e.originator_id for e in events if _phone_edited(e)]
        if relabelled:
            curs.execute(
                f"SELECT id FROM {self.table('dashboard_chats')} WHERE client_id = ANY(%b)",
                (relabelled,),
            )
            chat_ids.update(row["id"] for row in curs.fetchall())
        self.read_rows(curs, "dashboard_chats", COLUMNS, chat_ids, self._rows)

    def end_batch(self, curs: Cursor) -> None:
        if self._changed:
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "id")
            curs.executemany(
                f"INSERT INTO {self.table('dashboard_chats')} ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(COLUMNS))}) "
                f"ON CONFLICT (id) DO UPDATE SET {updates}",
                [_row_values(self._rows[chat_id]) for chat_id in self._changed],
            )
        if self._departures:
            curs.executemany(
                f"INSERT INTO {self.table('dashboard_departures')} "
                "(position, chat_id, operator_id, group_id, status) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                self._departures,
            )
        self.begin_batch()

    def apply_at(self, event: Any, position: int, curs: Cursor) -> None:
        self._position = position
        row = self._rows.get(event.originator_id)
        if row is None:
            self.handler(type(event))(self, event, curs)
            return
        seen = (row["status"], row["operator_id"], row["group_id"])
        self.handler(type(event))(self, event, curs)
        after = self._rows[event.originator_id]
        if (after["status"], after["operator_id"], after["group_id"]) == seen:
            return  # the facts the visibility rule reads are as they were: nobody lost sight
        # Whoever saw the chat through what this event changed has lost sight of it.
        lost = lost_sight(ChatFacts(*seen), row_facts(after))
        if lost is not None:
            self._departures.append(
                (position, event.originator_id, lost.operator_id, lost.group_id, lost.status)
            )

    # -- events to rows -----------------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: Any, curs: Cursor) -> None:
        """Events the dashboard does not show change nothing here."""

    @apply.register
    def _(self, e: Chat.ChatRequested, curs: Cursor) -> None:
        label = e.client.get("phone") or self._label_without_phone(curs, e.client)
        last = e.transcript[-1] if e.transcript else None
        clocks = ChatClocks.requested(e)
        row = dict.fromkeys(COLUMNS)
        row.update(
            id=e.originator_id,
            external_id=e.external_id,
            status="queued",
            group_id=e.requested_group_id,
            client=e.client,
            client_id=client_id_of(e.client),
            client_label=label,
            topic=e.topic,
            subtopic=e.subtopic,
            requested_at=e.timestamp,
            waiting_since=clocks.clock_started_at,
            sl_due_at=clocks.due_at(self._levels(curs)),
            overdue=False,
            operator_replied=False,
            muted=False,
            last_activity_at=e.timestamp,
            last_message_id=(
                transcript_message_id(e.originator_id, len(e.transcript) - 1) if last else None
            ),
            last_message_text=last["text"][:PREVIEW_CHARS] if last else None,
            last_message_author=last["author"] if last else None,
            last_message_at=last["at"] if last else None,
        )
        self._rows[e.originator_id] = row
        self._update(row)

    @apply.register
    def _(self, e: Chat.Queued, curs: Cursor) -> None:
        self._update(self._row(e), status="queued", group_id=e.group_id)

    @apply.register
    def _(self, e: Chat.Assigned, curs: Cursor) -> None:
        if (row := self._row(e)) is not None:
            status = status_when_held(row["intercepted_at"] is not None)
            self._update(row, operator_id=e.operator_id, group_id=e.group_id, status=status)

    @apply.register
    def _(self, e: Chat.Intercepted, curs: Cursor) -> None:
        self._update(
            self._row(e), status="active", intercepted_at=e.timestamp, last_activity_at=e.timestamp
        )

    @apply.register
    def _(self, e: Chat.Reassigned, curs: Cursor) -> None:
        if (row := self._row(e)) is None:
            return
        if e.operator_id is None:
            status = "queued"
        else:
            status = status_when_held(row["intercepted_at"] is not None)
        # The clock keeps running; its deadline follows the new group's service level.
        timers = self._timers(curs, row, e, regroup=True)
        self._update(row, operator_id=e.operator_id, group_id=e.group_id, status=status, **timers)

    @apply.register
    def _(self, e: Chat.MovedToHelp, curs: Cursor) -> None:
        if (row := self._row(e)) is not None:
            # Its group is gone: the running clock's deadline follows no group's SL now.
            self._update(row, group_id=None, **self._timers(curs, row, e, regroup=True))

    @apply.register
    def _(self, e: Chat.Muted, curs: Cursor) -> None:
        self._update(self._row(e), muted=True, muted_until=e.until)

    @apply.register
    def _(self, e: Chat.Unmuted, curs: Cursor) -> None:
        self._update(self._row(e), muted=False, muted_until=None)

    @apply.register
    def _(self, e: Chat.TopicChanged, curs: Cursor) -> None:
        self._update(self._row(e), topic=e.topic, subtopic=e.subtopic)

    @apply.register
    def _(self, e: Chat.MessageEdited, curs: Cursor) -> None:
        row = self._row(e)
        if row is not None and row["last_message_id"] == e.message_id:
            self._update(row, last_message_text=e.text[:PREVIEW_CHARS])

    @apply.register
    def _(self, e: Chat.MessageDeleted, curs: Cursor) -> None:
        row = self._row(e)
        if row is not None and row["last_message_id"] == e.message_id:
            self._update(row, last_message_text="")

    @apply.register
    def _(self, e: Chat.MessagePosted, curs: Cursor) -> None:
        if (row := self._row(e)) is None:
            return
        preview = {
            "last_activity_at": e.timestamp,
            "last_message_id": e.message_id,
            # An attachment-only message shows its attachments' names.
            "last_message_text": e.display_text[:PREVIEW_CHARS],
            "last_message_author": e.author,
            "last_message_at": e.timestamp,
        }
        # An operator's message stops the clock; a client's opens their turn (unless muted).
        self._update(row, **preview, **self._timers(curs, row, e))

    @apply.register
    def _(self, e: Chat.Closed, curs: Cursor) -> None:
        if (row := self._row(e)) is not None:
            timers = self._timers(curs, row, e)
            self._update(row, status="closed", closed_at=e.timestamp, **timers)

    @apply.register
    def _(self, e: Chat.ResponseOverdue, curs: Cursor) -> None:
        self._update(self._row(e), overdue=True)

    @apply.register
    def _(self, e: Chat.Rated, curs: Cursor) -> None:
        self._update(self._row(e), rating=e.score)

    @apply.register
    def _(self, e: Client.Edited, curs: Cursor) -> None:
        """The card's phone is the label of all its client's chats (cleared: the number)."""
        if not _phone_edited(e):
            return
        rows = [
            r for r in self._rows.values() if r is not None and r["client_id"] == e.originator_id
        ]
        if not rows:
            return
        # Kept for the client's later handoffs that bring no phone of their own.
        phone, key = e.changes["phone"], _client_key(rows[0]["client"])
        number = self._client_number(curs, rows[0]["client"])
        curs.execute(
            f"UPDATE {self.table('dashboard_clients')} SET phone = %s WHERE client_key = %s",
            (phone, key),
        )
        for row in rows:
            label = phone or f"Client #{number}"
            if label != row["client_label"]:
                self._update(row, client_label=label)

    @apply.register(Group.GroupCreated)
    @apply.register(Group.GroupUpdated)
    def _(self, e: Group.GroupCreated | Group.GroupUpdated, curs: Cursor) -> None:
        self.service_levels.record(curs, e)
        self.record_routing(curs, e)

    @apply.register
    def _(self, e: Group.GroupDeleted, curs: Cursor) -> None:
        self.record_routing(curs, e)

    def _row(self, event: Any) -> dict[str, Any] | None:
        """The event's chat row as the batch has it so far (None: the dashboard has none)."""
        return self._rows.get(event.originator_id)

    def _update(self, row: dict[str, Any] | None, **values: Any) -> None:
        """Change the row in memory, at this event's position; ``end_batch`` writes it."""
        if row is None:
            return  # like an UPDATE that matches no row
        row.update(values, position=self._position)
        self._changed.add(row["id"])

    def _label_without_phone(self, curs: Cursor, client: dict[str, Any]) -> str:
        """The phone staff put on the client's card, else the client's number."""
        number, phone = self._client_entry(curs, client)
        return phone or f"Client #{number}"

    def _client_number(self, curs: Cursor, client: dict[str, Any]) -> int:
        return self._client_entry(curs, client)[0]

    def _client_entry(self, curs: Cursor, client: dict[str, Any]) -> tuple[int, str | None]:
        """Clients without a phone are numbered in the order they first appear."""
        key = _client_key(client)
        curs.execute(
            f"SELECT number, phone FROM {self.table('dashboard_clients')} WHERE client_key = %s",
            (key,),
        )
        row = curs.fetchone()
        if row is not None:
            return row["number"], row["phone"]
        curs.execute(
            f"INSERT INTO {self.table('dashboard_clients')} (client_key, number) "
            f"SELECT %s, COALESCE(MAX(number), 0) + 1 FROM {self.table('dashboard_clients')} "
            "RETURNING number",
            (key,),
        )
        return curs.fetchone()["number"], None

    def _levels(self, curs: Cursor) -> ServiceLevel:
        return lambda group_id, kind: self.service_levels.seconds(curs, group_id, kind)

    def _timers(
        self, curs: Cursor, row: dict[str, Any], event: Any, *, regroup: bool = False
    ) -> dict[str, Any]:
        """The row's timers after ``event``, as the chat's response clocks (``ChatClocks``, the
        reports' too) have them: ``waiting_since`` is the running clock's start, ``sl_due_at``
        its deadline, set when the clock starts (or, ``regroup``, when its group changes); a clock
        that stops or starts anew is no longer ``overdue``."""
        clocks = _clocks_of(row)
        running = (clocks.clock_kind, clocks.clock_started_at)
        levels = self._levels(curs)
        clocks.apply(event, levels)
        timers: dict[str, Any] = {"operator_replied": clocks.operator_replied}
        moved = (clocks.clock_kind, clocks.clock_started_at) != running
        if moved:
            timers["overdue"] = False  # answered, closed, or the client's next turn
        if regroup or moved:
            timers.update(waiting_since=clocks.clock_started_at, sl_due_at=clocks.due_at(levels))
        return timers


def _client_key(client: dict[str, Any]) -> str:
    return json.dumps([client.get("channel"), client.get("id")])


def _phone_edited(event: Any) -> bool:
    return isinstance(event, Client.Edited) and "phone" in event.changes


def _clocks_of(row: dict[str, Any]) -> ChatClocks:
    """A chat's response clocks as its row keeps them: a running clock is the first response
    until an operator has replied, a next response after."""
    kind = None
    if row["waiting_since"] is not None:
        kind = NEXT_RESPONSE if row["operator_replied"] else FIRST_RESPONSE
    return ChatClocks(
        chat_id=row["id"],
        group_id=row["group_id"],
        operator_id=row["operator_id"],
        operator_replied=row["operator_replied"],
        clock_kind=kind,
        clock_started_at=row["waiting_since"],
        muted=row["muted"],
        muted_until=row["muted_until"],
        closed=row["status"] == "closed",
    )
