"""The dashboard read model: a row per chat, as the operators' tabs show it.

Rows carry what a UI needs to draw live timers without asking again: ``waiting_since`` (the
client's open turn) and ``sl_due_at`` (when that turn breaches its group's service level).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.chat import Chat, mute_in_effect, status_when_held, transcript_message_id
from domain.clocks import FIRST_RESPONSE, NEXT_RESPONSE
from domain.group import Group
from projections.machinery.keyset import decode_time_key, encode_time_key
from projections.machinery.readmodel import Index, ReadModel, Table
from projections.machinery.service_levels import ServiceLevels, service_level_table

TABS = ("mine", "queue", "closed", "all")
PREVIEW_CHARS = 200
ROW_COLUMNS = (
    "id, external_id, status, group_id, operator_id, client, client_label, topic, subtopic, "
    "requested_at, closed_at, waiting_since, sl_due_at, muted, muted_until, rating, "
    "last_message_text, last_message_author, last_message_at, position"
)
# Every column of a row, as a batch keeps it in memory and writes it back once.
COLUMNS = [
    "id",
    "external_id",
    "status",
    "group_id",
    "operator_id",
    "client",
    "client_label",
    "topic",
    "subtopic",
    "requested_at",
    "closed_at",
    "waiting_since",
    "sl_due_at",
    "operator_replied",
    "muted",
    "muted_until",
    "intercepted_at",
    "last_activity_at",
    "rating",
    "last_message_id",
    "last_message_text",
    "last_message_author",
    "last_message_at",
    "position",
]
# Events that can take a chat out of someone's view: off an operator, or out of a group's queue.
_MOVES = (Chat.Queued, Chat.Assigned, Chat.Reassigned, Chat.Closed)
ANNOUNCED_ROWS = 1_000  # a batch that changed more rows is announced without them: read them


@dataclass(frozen=True)
class Viewer:
    operator_id: UUID | None
    supervises: bool


@dataclass
class DashboardChanges:
    """What one committed batch changed: rows as they now are, and who lost sight of a chat.

    ``rows`` is ``None`` when there were too many to carry: the listener reads them itself.
    A departure is a chat leaving an operator (``operator_id``) or a group's queue
    (``group_id``) at ``position``.
    """

    after: int
    upto: int
    rows: list[dict[str, Any]] | None = field(default_factory=list)
    departures: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> bytes:
        body = {"after": self.after, "upto": self.upto, "rows": self.rows}
        body["departures"] = self.departures
        return json.dumps(body, default=_plain, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> DashboardChanges:
        body = json.loads(data)
        return cls(
            after=int(body["after"]),
            upto=int(body["upto"]),
            rows=body["rows"],
            departures=body["departures"],
        )


def _audience(row: dict[str, Any] | None) -> tuple[Any, Any]:
    """Who sees a chat besides supervisors: its operator, and its group while queued."""
    if row is None:
        return None, None
    return row["operator_id"], row["group_id"] if row["status"] == "queued" else None


def _audience_after(event: Any, before: tuple[Any, Any]) -> tuple[Any, Any]:
    """Who sees the chat after a move (as ``_audience`` would read its row then)."""
    operator_id, _ = before
    if isinstance(event, Chat.Assigned):
        return event.operator_id, None  # assigned or active: nobody's queue
    if isinstance(event, Chat.Reassigned):
        if event.operator_id is None:
            return None, event.group_id  # back to the group's queue
        return event.operator_id, None
    if isinstance(event, Chat.Queued):
        return operator_id, event.group_id
    return operator_id, None  # closed: the operator keeps it in their closed tab


def _row_values(row: dict[str, Any] | None) -> tuple[Any, ...]:
    assert row is not None
    return tuple(Jsonb(row[c]) if c == "client" else row[c] for c in COLUMNS)


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot announce {type(value).__name__}")


# Each tab's order, newest or oldest first, as (column, direction).
_ORDER = {
    "mine": ("requested_at", "ASC"),
    "queue": ("requested_at", "ASC"),
    "closed": ("closed_at", "DESC"),
    "all": ("requested_at", "DESC"),
}


class Dashboard(ReadModel):
    name = "dashboard"
    tables = (
        Table(
            "dashboard_chats",
            """
            id uuid PRIMARY KEY,
            external_id text NOT NULL,
            status text NOT NULL,
            group_id uuid,
            operator_id uuid,
            client jsonb NOT NULL,
            client_label text NOT NULL,
            topic text,
            subtopic text,
            requested_at timestamptz NOT NULL,
            closed_at timestamptz,
            waiting_since timestamptz,
            sl_due_at timestamptz,
            operator_replied boolean NOT NULL DEFAULT false,
            muted boolean NOT NULL DEFAULT false,
            muted_until timestamptz,
            intercepted_at timestamptz,
            last_activity_at timestamptz NOT NULL,
            rating smallint,
            last_message_id uuid,
            last_message_text text,
            last_message_author text,
            last_message_at timestamptz,
            position bigint NOT NULL
            """,
            (
                # The live stream reads what changed after a position (a client resuming).
                Index("dashboard_position", "(position)"),
                Index("dashboard_mine", "(operator_id, status, requested_at, id)"),
                Index("dashboard_queue", "(group_id, requested_at, id) WHERE status = 'queued'"),
                Index("dashboard_closed", "(closed_at DESC, id DESC) WHERE status = 'closed'"),
                # The queue tab without a group filter, and the closed tab for one operator.
                Index("dashboard_queue_order", "(requested_at, id) WHERE status = 'queued'"),
                Index(
                    "dashboard_closed_operator",
                    "(operator_id, closed_at DESC, id DESC) WHERE status = 'closed'",
                ),
                Index("dashboard_all", "(requested_at DESC, id DESC)"),
                # The scheduler's deadlines: timed mutes, and active chats going quiet.
                Index("dashboard_mutes", "(muted_until) WHERE muted AND status <> 'closed'"),
                Index("dashboard_activity", "(last_activity_at) WHERE status = 'active'"),
            ),
        ),
        Table(
            "dashboard_departures",
            """
            position bigint NOT NULL,
            chat_id uuid NOT NULL,
            operator_id uuid,
            group_id uuid,
            PRIMARY KEY (position, chat_id)
            """,
        ),
        Table(
            "dashboard_clients",
            """
            client_key text PRIMARY KEY,
            number integer NOT NULL
            """,
        ),
        service_level_table("dashboard_group_sl"),
    )

    def __init__(
        self,
        datastore,
        application_name: str,
        *,
        publish: Callable[[DashboardChanges], None] | None = None,
    ) -> None:
        self.service_levels = ServiceLevels(f"{datastore.schema}.dashboard_group_sl")
        super().__init__(datastore, application_name)
        self._position = 0
        # Within one batch: each touched chat's row as the batch leaves it (None: no such
        # row), read once in ``prepare_batch`` and written once in ``end_batch``.
        self._rows: dict[UUID, dict[str, Any] | None] = {}
        self._changed: set[UUID] = set()
        self._departures: list[tuple[int, UUID, UUID | None, UUID | None]] = []
        # Given by the composition root: publishes each committed batch's changes live.
        self.publish = publish

    # -- projection -----------------------------------------------------------------------------

    def begin_batch(self) -> None:
        super().begin_batch()
        self.service_levels.begin_batch()
        self._rows, self._changed, self._departures = {}, set(), []

    def prepare_batch(self, curs: Cursor, events: Sequence[Any]) -> None:
        chat_ids = {e.originator_id for e in events if isinstance(e, Chat.Event)}
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
                "(position, chat_id, operator_id, group_id) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                self._departures,
            )
        self.begin_batch()

    def apply_at(self, event: Any, position: int, curs: Cursor) -> None:
        self._position = position
        moves = isinstance(event, _MOVES)
        before = _audience(self._rows.get(event.originator_id)) if moves else None
        self.apply(event, curs)
        if before is None:
            return
        after = _audience_after(event, before)
        operator_id = before[0] if before[0] != after[0] else None
        group_id = before[1] if before[1] != after[1] else None
        if operator_id is not None or group_id is not None:
            self._departures.append((position, event.originator_id, operator_id, group_id))

    def changes(self, curs: Cursor, after: int, upto: int) -> DashboardChanges | None:
        if self.publish is None:
            return None
        return self._changes(curs, after, upto, limit=ANNOUNCED_ROWS)

    def announce(self, news: DashboardChanges) -> None:
        if self.publish is not None:
            self.publish(news)

    def _changes(
        self,
        curs: Cursor,
        after: int,
        upto: int,
        *,
        limit: int,
        viewer: Viewer | None = None,
        group_ids: Sequence[UUID] = (),
    ) -> DashboardChanges:
        rows_where, departures_where, params = "", "", []
        if viewer is not None and not viewer.supervises:
            rows_where = " AND (operator_id = %s OR (status = 'queued' AND group_id = ANY(%s)))"
            departures_where = " AND (operator_id = %s OR group_id = ANY(%s))"
            params = [viewer.operator_id, list(group_ids)]
        curs.execute(
            f"SELECT {ROW_COLUMNS} FROM {self.table('dashboard_chats')} "
            f"WHERE position > %s AND position <= %s{rows_where} ORDER BY position LIMIT %s",
            (after, upto, *params, limit + 1),
        )
        rows: list[dict[str, Any]] | None = curs.fetchall()
        if len(rows) > limit:
            rows = None
        curs.execute(
            f"SELECT position, chat_id, operator_id, group_id "
            f"FROM {self.table('dashboard_departures')} "
            f"WHERE position > %s AND position <= %s{departures_where} ORDER BY position",
            (after, upto, *params),
        )
        return DashboardChanges(after, upto, rows, curs.fetchall())

    def changes_between(
        self,
        after: int,
        upto: int,
        *,
        viewer: Viewer | None = None,
        group_ids: Sequence[UUID] = (),
        limit: int = ANNOUNCED_ROWS,
    ) -> DashboardChanges:
        """What changed in (after, upto], as this viewer sees it (``rows`` is ``None`` when
        more than ``limit`` rows changed: too far behind to catch up row by row)."""
        with self.datastore.transaction() as curs:
            return self._changes(curs, after, upto, limit=limit, viewer=viewer, group_ids=group_ids)

    @singledispatchmethod
    def apply(self, event: Any, curs: Cursor) -> None:
        """Events the dashboard does not show change nothing here."""

    @apply.register
    def _(self, e: Chat.ChatRequested, curs: Cursor) -> None:
        label = e.client.get("phone") or f"Client #{self._client_number(curs, e.client)}"
        last = e.transcript[-1] if e.transcript else None
        row = dict.fromkeys(COLUMNS)
        row.update(
            id=e.originator_id,
            external_id=e.external_id,
            status="queued",
            group_id=e.requested_group_id,
            client=e.client,
            client_label=label,
            topic=e.topic,
            subtopic=e.subtopic,
            requested_at=e.timestamp,
            waiting_since=e.timestamp,
            sl_due_at=e.timestamp + self._sl(curs, e.requested_group_id, first=True),
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
        self._update(row, operator_id=e.operator_id, group_id=e.group_id, status=status)
        if row["waiting_since"] is not None:
            # The clock keeps running; its deadline follows the new group's service level.
            due = row["waiting_since"] + self._sl(
                curs, e.group_id, first=not row["operator_replied"]
            )
            self._update(row, sl_due_at=due)

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
            "last_message_text": e.text[:PREVIEW_CHARS],
            "last_message_author": e.author,
            "last_message_at": e.timestamp,
        }
        if e.author == "operator":
            # An operator's message answers the client's open turn: the clock stops.
            preview.update(waiting_since=None, sl_due_at=None, operator_replied=True)
        elif e.author == "client":
            # A muted client's message starts no clock (a timed mute ends at its time).
            muted = mute_in_effect(row["muted"], row["muted_until"], e.timestamp)
            if row["waiting_since"] is None and not muted:
                due = e.timestamp + self._sl(
                    curs, row["group_id"], first=not row["operator_replied"]
                )
                preview.update(waiting_since=e.timestamp, sl_due_at=due)
        self._update(row, **preview)

    @apply.register
    def _(self, e: Chat.Closed, curs: Cursor) -> None:
        self._update(
            self._row(e), status="closed", closed_at=e.timestamp, waiting_since=None, sl_due_at=None
        )

    @apply.register
    def _(self, e: Chat.Rated, curs: Cursor) -> None:
        self._update(self._row(e), rating=e.score)

    @apply.register(Group.GroupCreated)
    @apply.register(Group.GroupUpdated)
    def _(self, e: Group.GroupCreated | Group.GroupUpdated, curs: Cursor) -> None:
        self.service_levels.record(curs, e)

    def _row(self, event: Any) -> dict[str, Any] | None:
        """The event's chat row as the batch has it so far (None: the dashboard has none)."""
        return self._rows.get(event.originator_id)

    def _update(self, row: dict[str, Any] | None, **values: Any) -> None:
        """Change the row in memory, at this event's position; ``end_batch`` writes it."""
        if row is None:
            return  # like an UPDATE that matches no row
        row.update(values, position=self._position)
        self._changed.add(row["id"])

    def _client_number(self, curs: Cursor, client: dict[str, Any]) -> int:
        """Clients without a phone are numbered in the order they first appear."""
        key = json.dumps([client.get("channel"), client.get("id")])
        curs.execute(
            f"SELECT number FROM {self.table('dashboard_clients')} WHERE client_key = %s", (key,)
        )
        row = curs.fetchone()
        if row is not None:
            return row["number"]
        curs.execute(
            f"INSERT INTO {self.table('dashboard_clients')} (client_key, number) "
            f"SELECT %s, COALESCE(MAX(number), 0) + 1 FROM {self.table('dashboard_clients')} "
            "RETURNING number",
            (key,),
        )
        return curs.fetchone()["number"]

    def _sl(self, curs: Cursor, group_id: UUID | None, *, first: bool) -> timedelta:
        kind = FIRST_RESPONSE if first else NEXT_RESPONSE
        return timedelta(seconds=self.service_levels.seconds(curs, group_id, kind))

    # -- queries --------------------------------------------------------------------------------

    def rows(
        self,
        tab: str,
        viewer: Viewer,
        *,
        operator_id: UUID | None = None,
        group_id: UUID | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a tab as this viewer may see it; returns rows and the next cursor."""
        column, direction = _ORDER[tab]
        where: list[str] = []
        params: list[Any] = []
        if tab == "mine":
            where.append("operator_id = %s AND status IN ('assigned', 'active')")
            params.append(viewer.operator_id)
        elif tab == "queue":
            where.append("status = 'queued'")
        elif tab == "closed":
            where.append("status = 'closed'")
        if not viewer.supervises and tab in ("mine", "closed"):
            # Never queued: just the operator's own (a filter the indexes can serve).
            where.append("operator_id = %s")
            params.append(viewer.operator_id)
        elif not viewer.supervises:
            # Operators see their own chats and the queues of their groups.
            where.append(
                "(operator_id = %s OR (status = 'queued' AND group_id = ANY(COALESCE("
                f"(SELECT group_ids FROM {self.table('operators')} WHERE id = %s), '{{}}'))))"
            )
            params.extend([viewer.operator_id, viewer.operator_id])
        if operator_id is not None:
            where.append("operator_id = %s")
            params.append(operator_id)
        if group_id is not None:
            where.append("group_id = %s")
            params.append(group_id)
        if cursor is not None:
            value, row_id = decode_time_key(cursor)
            where.append(f"({column}, id) {'>' if direction == 'ASC' else '<'} (%s, %s)")
            params.extend([value, row_id])
        sql = (
            f"SELECT {ROW_COLUMNS} FROM {self.table('dashboard_chats')} "
            f"WHERE {' AND '.join(where) or 'true'} "
            f"ORDER BY {column} {direction}, id {direction} LIMIT %s"
        )
        with self.datastore.transaction() as curs:
            curs.execute(sql, (*params, limit + 1))
            rows = curs.fetchall()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_time_key(rows[-1][column], rows[-1]["id"])
        return rows, next_cursor

    # -- the scheduler's deadlines --------------------------------------------------------------

    def expired_mutes(self, now: datetime, limit: int = 500) -> list[UUID]:
        """Open chats whose timed mute is over."""
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT id FROM {self.table('dashboard_chats')} WHERE muted "
                "AND status <> 'closed' AND muted_until <= %s ORDER BY muted_until LIMIT %s",
                (now, limit),
            )
            return [row["id"] for row in curs.fetchall()]

    def quiet_chats(self, before: datetime, limit: int = 500) -> list[UUID]:
        """Active chats nobody has written in after ``before``, the client not waiting."""
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT id FROM {self.table('dashboard_chats')} WHERE status = 'active' "
                "AND last_activity_at <= %s AND waiting_since IS NULL "
                "ORDER BY last_activity_at LIMIT %s",
                (before, limit),
            )
            return [row["id"] for row in curs.fetchall()]
