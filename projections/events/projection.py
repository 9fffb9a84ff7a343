"""The Events read model: the one follower that turns the log into Events and schedules
their deliveries, in the transaction that records its position (the log is the outbox).

It keeps what it needs in its own tables (chats' external ids, bots and operators;
operators' first names; messages as shown; the webhooks), fed by the events themselves.

A batch's Events, deliveries, chats and messages are gathered in memory and written at its
end, one statement per table (rows as arrays): a statement per event was most of a rebuild's
time. A webhook's event writes what was gathered first, since it changes which webhooks take
the Events that follow (and a replay reads the Events written so far).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor
from psycopg.sql import SQL
from pydantic_core import to_json

from domain.chat import Chat
from domain.operator import Operator
from domain.webhook import Webhook
from projections.events.mapping import ChatFacts, bot_of, event_id, fact_for, iso, message_state
from projections.events.queries import EventQueries
from projections.events.retention import horizon
from projections.events.tables import DELIVERIES, OUTBOX_DDL, TABLES
from projections.machinery.readmodel import ReadModel

_MESSAGE_EVENTS = (Chat.MessagePosted, Chat.MessageEdited, Chat.MessageDeleted)
_ASSIGNING = (Chat.Assigned, Chat.Reassigned)
_NAMING_OPERATORS = (Chat.Assigned, Chat.Intercepted, Chat.Reassigned, Chat.ResponseOverdue)
# A webhook takes an Event when it is active, names the type (or none) and the bot (or none).
_MATCHES = (
    "(cardinality(w.events) = 0 OR {type} = ANY(w.events)) AND (w.bot IS NULL OR w.bot = {bot})"
)


_HANDLERS: dict[type, Callable[..., None] | None] = {}
_UNKNOWN: Any = object()
_WEBHOOK_EVENTS = (Webhook.Event, Webhook.WebhookRegistered)


def _handler(event_type: type) -> Callable[..., None] | None:
    """``EventsOut.on``'s implementation for ``event_type``, or None where it does nothing
    (most of the log: reservations, operators' chats, clients). Found once per event type:
    ``self.on`` would build a bound method every time."""
    method = inspect.getattr_static(EventsOut, "on")
    method.__get__(None, EventsOut)  # the library's deferred registrations, if any, now
    handler = method.dispatcher.dispatch(event_type)
    if handler is method.dispatcher.registry[object]:
        return None
    if issubclass(event_type, _WEBHOOK_EVENTS):
        return _after_gathered(handler)
    return handler


def _author(author: str, author_id: str | None) -> UUID | None:
    """The operator who wrote a message (its Events name them), if an operator did."""
    return UUID(author_id) if author == "operator" and author_id else None


def _after_gathered(handler: Callable[..., None]) -> Callable[..., None]:
    """A webhook's event is applied after what the batch gathered so far is written."""

    def apply(model: EventsOut, event: Any, position: int, curs: Cursor) -> None:
        model._write_gathered(curs)
        handler(model, event, position, curs)

    return apply


class EventsOut(EventQueries, ReadModel):
    name = "events"
    tables = TABLES

    def __init__(self, datastore, application_name: str) -> None:
        super().__init__(datastore, application_name)
        self.sql_create_statements.extend(SQL(ddl) for ddl in OUTBOX_DDL)
        self.begin_batch()

    def begin_batch(self) -> None:
        self._chats: dict[UUID, ChatFacts | None] = {}
        self._operators: dict[UUID, str | None] = {}
        self._messages: dict[UUID, dict[str, Any] | None] = {}
        self._horizon = 0
        # Gathered for the batch's end: Events (as rows), and the chats and messages changed.
        self._events: list[dict[str, Any]] = []
        self._changed_chats: dict[UUID, ChatFacts] = {}
        self._changed_messages: dict[UUID, dict[str, Any]] = {}
        # An Event's ``operator``, built once per operator and batch (and name: never mutated,
        # since the Events gathered before a rename keep the name they were told).
        self._operator_objects: dict[UUID, dict[str, Any]] = {}

    def prepare_batch(self, curs: Cursor, events: Sequence[Any]) -> None:
        """Read, in a few statements, the chats, messages and operators the batch touches
        (the operators its Events name: chats' holders, and the authors of messages)."""
        # Deliveries up to here were pruned (``retention``): a rebuild schedules them no more.
        self._horizon = horizon(curs)
        chat_ids, message_ids, operator_ids = set(), set(), set()
        for e in events:
            if not isinstance(e, Chat.Event):
                continue
            chat_ids.add(e.originator_id)
            if isinstance(e, _NAMING_OPERATORS):
                operator_ids.add(e.operator_id)
            elif isinstance(e, Chat.MessagePosted):
                operator_ids.add(_author(e.author, e.author_id))
            elif isinstance(e, Chat.MessageEdited | Chat.MessageDeleted):
                message_ids.add(e.message_id)
        rows: dict[Any, Any] = {}
        self.read_rows(
            curs,
            "event_chats",
            ("id", "external_id", "bot", "operator_id"),
            chat_ids - self._chats.keys(),
            rows,
        )
        for chat_id, row in rows.items():
            self._chats[chat_id] = None if row is None else ChatFacts(**row)
        rows = {}
        self.read_rows(
            curs, "event_messages", ("id", "message"), message_ids - self._messages.keys(), rows
        )
        self._messages.update((k, row and row["message"]) for k, row in rows.items())
        operator_ids.update(c.operator_id for c in self._chats.values() if c)
        for message in filter(None, map(self._messages.get, message_ids)):
            operator_ids.add(_author(message["author"], message["author_id"]))
        operator_ids.discard(None)
        rows = {}
        self.read_rows(
            curs,
            "event_operators",
            ("id", "first_name"),
            operator_ids - self._operators.keys(),
            rows,
        )
        self._operators.update((k, row and row["first_name"]) for k, row in rows.items())

    def apply_at(self, event: Any, position: int, curs: Cursor) -> None:
        handler = _HANDLERS.get(type(event), _UNKNOWN)
        if handler is _UNKNOWN:
            handler = _HANDLERS[type(event)] = _handler(type(event))
        if handler is not None:
            handler(self, event, position, curs)

    def end_batch(self, curs: Cursor) -> None:
        self._write_gathered(curs)

    def _write_gathered(self, curs: Cursor) -> None:
        """What the batch gathered so far, one statement per table. The rows go as one JSON
        document per statement, the Events' ``data`` and messages nested in it: psycopg dumps
        an array parameter element by element in Python, and each jsonb value was encoded on
        its own, which together were half of the model's time."""
        if self._changed_chats:
            chats = list(self._changed_chats.values())
            self._changed_chats = {}
            curs.execute(
                f"INSERT INTO {self.table('event_chats')} (id, external_id, bot, operator_id) "
                "SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::uuid[]) "
                "ON CONFLICT (id) DO UPDATE SET operator_id = excluded.operator_id",
                (
                    [c.id for c in chats],
                    [c.external_id for c in chats],
                    [c.bot for c in chats],
                    [c.operator_id for c in chats],
                ),
            )
        if self._changed_messages:
            messages = self._changed_messages
            self._changed_messages = {}
            curs.execute(
                f"INSERT INTO {self.table('event_messages')} (id, chat_id, message) "
                "SELECT * FROM jsonb_to_recordset(%s::jsonb) AS m(id uuid, chat_id uuid, "
                "message jsonb) ON CONFLICT (id) DO UPDATE SET message = excluded.message",
                (to_json(list(messages.values())).decode(),),
            )
        if self._events:
            self._write_events(curs)

    def _write_events(self, curs: Cursor) -> None:
        """The gathered Events, and a delivery of each to every webhook that takes it (but
        those retention pruned: ``retention.py``)."""
        rows, self._events = self._events, []
        matches = _MATCHES.format(type="e.type", bot="e.bot")
        curs.execute(
            f"WITH e AS (INSERT INTO {self.table('events')} (position, id, type, chat_id, "
            "external_id, bot, occurred_at, operator, data) SELECT * FROM jsonb_to_recordset("
            "%s::jsonb) AS r(position bigint, id text, type text, chat_id uuid, external_id "
            "text, bot text, occurred_at timestamptz, operator jsonb, data jsonb) "
            "RETURNING position, id, chat_id, type, bot) "
            f"INSERT INTO {DELIVERIES} (webhook_id, position, event_id, chat_id, type, "
            f"scheduled_by) SELECT w.id, e.position, e.id, e.chat_id, e.type, e.position FROM e "
            f"JOIN {self.table('webhooks')} w ON w.active AND {matches} WHERE e.position > %s "
            "ON CONFLICT DO NOTHING",
            (to_json(rows).decode(), self._horizon),
        )

    def apply(self, event: Any, curs: Cursor) -> None:
        raise NotImplementedError("the Events read model applies events with their position")

    @singledispatchmethod
    def on(self, event: Any, position: int, curs: Cursor) -> None:
        """Events that tell a bot nothing change nothing here; their position is tracked."""

    # -- what the Events need to know ------------------------------------------------------

    @on.register
    def _(self, e: Operator.OperatorRegistered, position: int, curs: Cursor) -> None:
        self._name_operator(e.originator_id, e.first_name, curs)

    @on.register
    def _(self, e: Operator.ProfileUpdated, position: int, curs: Cursor) -> None:
        self._name_operator(e.originator_id, e.first_name, curs)

    def _name_operator(self, operator_id: UUID, first_name: str, curs: Cursor) -> None:
        self._operators[operator_id] = first_name
        self._operator_objects.pop(operator_id, None)
        curs.execute(
            f"INSERT INTO {self.table('event_operators')} (id, first_name) VALUES (%s, %s) "
            "ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name",
            (operator_id, first_name),
        )

    @on.register
    def _(self, e: Chat.ChatRequested, position: int, curs: Cursor) -> None:
        chat = ChatFacts(e.originator_id, e.external_id, bot_of(e.actor))
        self._chats[chat.id] = self._changed_chats[chat.id] = chat

    @on.register
    def _(self, e: Chat.Event, position: int, curs: Cursor) -> None:
        chat = self._chats.get(e.originator_id)
        if chat is None:
            return
        message = self._message(e) if isinstance(e, _MESSAGE_EVENTS) else None
        fact = fact_for(e, chat, message)
        if isinstance(e, _ASSIGNING):
            chat.operator_id = e.operator_id
            self._changed_chats[chat.id] = chat
        if fact is None:
            return
        operator = None
        if fact.operator_id is not None:
            operator = self._operator_json(fact.operator_id)
        chat_id = str(chat.id)
        self._events.append(
            {
                "position": position,
                "id": event_id(chat_id, e.originator_version, fact.type),
                "type": fact.type,
                "chat_id": chat_id,
                "external_id": chat.external_id,
                "bot": chat.bot,
                "occurred_at": e.timestamp,
                "operator": operator,
                "data": fact.data,
            }
        )

    def _operator_json(self, operator_id: UUID) -> dict[str, Any]:
        found = self._operator_objects.get(operator_id)
        if found is None:
            name = self._operators.get(operator_id)
            found = {"id": str(operator_id), "first_name": name}
            self._operator_objects[operator_id] = found
        return found

    def _message(self, e: Any) -> dict[str, Any] | None:
        """The message after ``e``, as the chat keeps it (``Chat``'s own ``apply``)."""
        if isinstance(e, Chat.MessagePosted):
            message = message_state(e)
        else:
            message = self._messages.get(e.message_id)
            if message is None:
                return None
            message = dict(message)
            if isinstance(e, Chat.MessageEdited):
                message.update(text=e.text, edited_at=iso(e.timestamp))
            else:
                message.update(text="", deleted_at=iso(e.timestamp))
        self._messages[e.message_id] = message
        self._changed_messages[e.message_id] = {
            "id": message["id"],
            "chat_id": str(e.originator_id),
            "message": message,
        }
        return message

    # -- webhooks --------------------------------------------------------------------------

    @on.register
    def _(self, e: Webhook.WebhookRegistered, position: int, curs: Cursor) -> None:
        curs.execute(
            f"INSERT INTO {self.table('webhooks')} (id, url, events, bot, description, secret, "
            "active, created_at) VALUES (%s, %s, %s, %s, %s, %s, true, %s)",
            (e.originator_id, e.url, list(e.events), e.bot, e.description, e.secret, e.timestamp),
        )

    @on.register
    def _(self, e: Webhook.WebhookChanged, position: int, curs: Cursor) -> None:
        curs.execute(
            f"UPDATE {self.table('webhooks')} SET url = %s, events = %s, description = %s, "
            "active = %s WHERE id = %s",
            (e.url, list(e.events), e.description, e.active, e.originator_id),
        )

    @on.register
    def _(self, e: Webhook.WebhookDisabled, position: int, curs: Cursor) -> None:
        curs.execute(
            f"UPDATE {self.table('webhooks')} SET active = false WHERE id = %s", (e.originator_id,)
        )

    @on.register
    def _(self, e: Webhook.SecretRotated, position: int, curs: Cursor) -> None:
        # The right-hand sides read the row as it was: the replaced secret becomes the previous.
        curs.execute(
            f"UPDATE {self.table('webhooks')} SET previous_secret = secret, secret = %s, "
            "previous_until = %s WHERE id = %s",
            (e.secret, e.previous_until, e.originator_id),
        )

    @on.register
    def _(self, e: Webhook.WebhookDeleted, position: int, curs: Cursor) -> None:
        curs.execute(f"DELETE FROM {self.table('webhooks')} WHERE id = %s", (e.originator_id,))
        curs.execute(f"DELETE FROM {DELIVERIES} WHERE webhook_id = %s", (e.originator_id,))

    @on.register
    def _(self, e: Webhook.ReplayRequested, position: int, curs: Cursor) -> None:
        """Every matching Event from ``from_position`` on is due again (once per request:
        applying the request again, as a rebuild does, finds it already done)."""
        matches = _MATCHES.format(type="e.type", bot="e.bot")
        curs.execute(
            f"INSERT INTO {DELIVERIES} (webhook_id, position, event_id, chat_id, type, "
            "scheduled_by) SELECT w.id, e.position, e.id, e.chat_id, e.type, %s "
            f"FROM {self.table('events')} e JOIN {self.table('webhooks')} w ON w.id = %s "
            f"WHERE e.position >= %s AND e.position < %s AND e.position > %s AND {matches} "
            "ON CONFLICT (webhook_id, position) DO UPDATE SET status = 'pending', attempts = 0, "
            "next_attempt_at = now(), leased_until = NULL, last_status_code = NULL, "
            "last_error = NULL, delivered_at = NULL, scheduled_by = excluded.scheduled_by "
            f"WHERE {DELIVERIES}.scheduled_by < excluded.scheduled_by",
            (position, e.originator_id, e.from_position, position, self._horizon),
        )
