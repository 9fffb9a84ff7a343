"""The history projection: every chat ever handed off, its facts and its words.

One row per chat (``history_chats``) and the chat's messages (``history_messages``: client,
bot, operator and transcript lines; system lines are the engine's own words and are left
out). Posting a message appends to the chat's vector, so ``q`` matches a chat whose messages,
taken together, hold every word asked for; an edit or a delete recomputes it from the messages
table, so an edited text is found by its new words only and a deleted one not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.chat import Chat, status_when_held, transcript_message_id
from projections.history.queries import HistoryQueries
from projections.history.tables import SEARCH_CHARS, TABLES
from projections.machinery.readmodel import ReadModel

CONVERSATION = ("client", "bot", "operator")
JSON_COLUMNS = ("client", "closed_by")
# Every column of a chat's row but its vector, as a batch keeps it in memory.
COLUMNS = (
    "id",
    "external_id",
    "status",
    "group_id",
    "operator_id",
    "operator_ids",
    "intercepted",
    "client",
    "client_id",
    "phone",
    "channel",
    "topic",
    "subtopic",
    "requested_at",
    "closed_at",
    "close_reason",
    "closed_by",
    "rating",
    "message_count",
    "search_chars",
)


class History(HistoryQueries, ReadModel):
    """History's projection (events to rows, the vector's upkeep); its queries come from
    ``HistoryQueries``."""

    name = "history"
    tables = TABLES

    def __init__(self, datastore, application_name: str) -> None:
        super().__init__(datastore, application_name)
        self.begin_batch()

    def begin_batch(self) -> None:
        super().begin_batch()
        # Within one batch: each touched chat's row as the batch leaves it (None: no such row),
        # read once in ``prepare_batch`` and written once in ``end_batch``, with the texts to
        # add to its vector (``_vectors``: the starting text of a chat new in this batch,
        # then one text per message) and the chats whose vector is recomputed at the end.
        self._rows: dict[UUID, dict[str, Any] | None] = {}
        self._changed: dict[UUID, None] = {}  # in order of first change
        self._vectors: dict[UUID, list[str]] = {}
        self._new: set[UUID] = set()
        self._recompute: dict[UUID, None] = {}
        self._messages: list[tuple[Any, ...]] = []  # history_messages rows not yet written

    def _write_messages(self, curs: Cursor) -> None:
        """The messages kept so far, in one statement (before anything that reads them)."""
        if not self._messages:
            return
        curs.execute(
            f"INSERT INTO {self.table('history_messages')} "
            "(chat_id, message_id, version, line, author, text, at) "
            "SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::int[], %b::int[], %b::text[], "
            "%b::text[], %b::timestamptz[])",
            [list(column) for column in zip(*self._messages, strict=True)],
        )
        self._messages = []

    def prepare_batch(self, curs: Cursor, events: Sequence[Any]) -> None:
        chat_ids = {e.originator_id for e in events if isinstance(e, Chat.Event)}
        self.read_rows(curs, "history_chats", COLUMNS, chat_ids, self._rows)

    def end_batch(self, curs: Cursor) -> None:
        self._write_messages(curs)
        table = self.table("history_chats")
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "id")
        for chat_id in self._changed:
            row = self._rows[chat_id]
            assert row is not None
            texts = self._vectors.get(chat_id, [])
            # One vector per text, concatenated in order: what appending message by message
            # gives (a new chat's first text is its transcript, as recomputing gives it).
            vectors = " || ".join(["to_tsvector('simple', %s)"] * len(texts))
            fresh, grow = "''::tsvector", ""
            if chat_id in self._new:
                fresh = vectors or fresh
            elif texts:
                grow = f", search = {table}.search || {vectors}"
            curs.execute(
                f"INSERT INTO {table} ({', '.join(COLUMNS)}, search) "
                f"VALUES ({', '.join(['%s'] * len(COLUMNS))}, {fresh}) "
                f"ON CONFLICT (id) DO UPDATE SET {updates}{grow}",
                (*_row_values(row), *texts),
            )
        for chat_id in self._recompute:
            self._recompute_search(curs, chat_id)
        self.begin_batch()

    @singledispatchmethod
    def apply(self, event: Any, curs: Cursor) -> None:
        """Events history does not show change nothing here."""

    @apply.register
    def _(self, e: Chat.ChatRequested, curs: Cursor) -> None:
        client = e.client
        row = dict.fromkeys(COLUMNS)
        row.update(
            id=e.originator_id,
            external_id=e.external_id,
            status="queued",
            group_id=e.requested_group_id,
            operator_ids=[],
            intercepted=False,
            client=client,
            client_id=_text(client.get("id")),
            phone=_text(client.get("phone")),
            channel=_text(client.get("channel")),
            topic=e.topic,
            subtopic=e.subtopic,
            requested_at=e.timestamp,
            message_count=len(e.transcript),
            search_chars=sum(len(line["text"]) for line in e.transcript),
        )
        self._rows[e.originator_id] = row
        self._new.add(e.originator_id)
        self._update(row)
        if e.transcript:
            self._messages.extend(
                (
                    e.originator_id,
                    transcript_message_id(e.originator_id, n),
                    e.originator_version,
                    n,
                    line["author"],
                    line["text"],
                    line["at"],
                )
                for n, line in enumerate(e.transcript)
            )
            # The transcript's lines within the searchable part, as one text.
            searchable, running = [], 0
            for line in e.transcript:
                running += len(line["text"])
                if running <= SEARCH_CHARS:
                    searchable.append(line["text"])
            self._vectors[e.originator_id] = ["\n".join(searchable)]

    @apply.register
    def _(self, e: Chat.Queued, curs: Cursor) -> None:
        self._update(self._row(e), status="queued", group_id=e.group_id)

    @apply.register
    def _(self, e: Chat.MovedToHelp, curs: Cursor) -> None:
        self._update(self._row(e), group_id=None)

    @apply.register
    def _(self, e: Chat.Assigned, curs: Cursor) -> None:
        self._hand_to(self._row(e), e.operator_id, e.group_id)

    @apply.register
    def _(self, e: Chat.Intercepted, curs: Cursor) -> None:
        self._update(self._row(e), status="active", intercepted=True)

    @apply.register
    def _(self, e: Chat.Reassigned, curs: Cursor) -> None:
        if e.operator_id is None:
            # Back to routing: Assigned or Queued follows in the same save.
            self._update(self._row(e), status="queued", operator_id=None, group_id=e.group_id)
        else:
            self._hand_to(self._row(e), e.operator_id, e.group_id)

    @apply.register
    def _(self, e: Chat.TopicChanged, curs: Cursor) -> None:
        self._update(self._row(e), topic=e.topic, subtopic=e.subtopic)

    @apply.register
    def _(self, e: Chat.Closed, curs: Cursor) -> None:
        self._update(
            self._row(e),
            status="closed",
            closed_at=e.timestamp,
            close_reason=e.reason,
            closed_by=e.closed_by,
        )

    @apply.register
    def _(self, e: Chat.Rated, curs: Cursor) -> None:
        self._update(self._row(e), rating=e.score)

    @apply.register
    def _(self, e: Chat.MessagePosted, curs: Cursor) -> None:
        if e.author not in CONVERSATION:
            return
        # An attachment-only message is found by its attachments' names.
        text = e.display_text
        self._messages.append(
            (e.originator_id, e.message_id, e.originator_version, 0, e.author, text, e.timestamp)
        )
        if (row := self._row(e)) is None:
            return
        # Appending gives the vector a recomputation would, without re-reading the chat.
        if row["search_chars"] + len(text) <= SEARCH_CHARS:
            self._vectors.setdefault(e.originator_id, []).append(text)
        self._update(
            row,
            search_chars=row["search_chars"] + len(text),
            message_count=row["message_count"] + 1,
        )

    @apply.register
    def _(self, e: Chat.MessageEdited, curs: Cursor) -> None:
        self._write_messages(curs)
        curs.execute(
            f"UPDATE {self.table('history_messages')} SET text = %s "
            "WHERE chat_id = %s AND message_id = %s",
            (e.text, e.originator_id, e.message_id),
        )
        # Recomputed at the end of the batch, from the messages as they then read. (Whether
        # a row matched is not known here: in pipeline mode rowcount waits for no answer.)
        self._recompute[e.originator_id] = None

    @apply.register
    def _(self, e: Chat.MessageDeleted, curs: Cursor) -> None:
        self._write_messages(curs)
        curs.execute(
            f"DELETE FROM {self.table('history_messages')} WHERE chat_id = %s AND message_id = %s",
            (e.originator_id, e.message_id),
        )
        self._recompute[e.originator_id] = None

    def _hand_to(
        self, row: dict[str, Any] | None, operator_id: UUID, group_id: UUID | None
    ) -> None:
        """An operator holds the chat now; as in the aggregate, after an intercept it stays
        active with whoever holds it next."""
        if row is None:
            return
        held = row["operator_ids"]
        self._update(
            row,
            operator_id=operator_id,
            group_id=group_id,
            status=status_when_held(row["intercepted"]),
            operator_ids=held if operator_id in held else [*held, operator_id],
        )

    def _row(self, event: Any) -> dict[str, Any] | None:
        """The event's chat row as the batch has it so far (None: history has none)."""
        return self._rows.get(event.originator_id)

    def _update(self, row: dict[str, Any] | None, **values: Any) -> None:
        """Change the row in memory; ``end_batch`` writes it."""
        if row is None:
            return  # like an UPDATE that matches no row
        row.update(values)
        self._changed[row["id"]] = None

    def _recompute_search(self, curs: Cursor, chat_id: UUID) -> None:
        """The chat's vector, count and length, from its messages as they now read."""
        curs.execute(
            f"UPDATE {self.table('history_chats')} SET search = m.search, "
            "search_chars = m.chars, message_count = m.n "
            "FROM (SELECT to_tsvector('simple', COALESCE("
            "string_agg(text, E'\\n' ORDER BY version, line) "
            "FILTER (WHERE running <= %s), '')) AS search, "
            "COALESCE(max(running), 0) AS chars, count(*) AS n "
            "FROM (SELECT text, version, line, "
            "sum(length(text)) OVER (ORDER BY version, line) AS running "
            f"FROM {self.table('history_messages')} WHERE chat_id = %s) AS r) AS m "
            "WHERE id = %s",
            (SEARCH_CHARS, chat_id, chat_id),
        )


def _row_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        Jsonb(row[c]) if c in JSON_COLUMNS and row[c] is not None else row[c] for c in COLUMNS
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
