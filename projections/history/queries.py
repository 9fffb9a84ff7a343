"""What history answers: a page of chats by filters and words, a client's previous dialogs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from domain.visibility import HOLDERS, RECORD, Viewer, clauses
from projections.history.tables import SEARCH_CHARS
from projections.machinery.keyset import decode_time_key, encode_time_key
from projections.machinery.visibility import visible_where

ROW_COLUMNS = (
    "id, external_id, status, group_id, operator_id, operator_ids, client, topic, subtopic, "
    "requested_at, closed_at, close_reason, closed_by, rating, message_count"
)
HEADLINE_OPTIONS = (
    'MaxFragments=2, MaxWords=12, MinWords=4, StartSel=«, StopSel=», FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class HistoryFilters:
    """What a history search asks for; every filter given must hold (AND)."""

    since: datetime | None = None  # requested at or after
    until: datetime | None = None  # requested before
    topic: str | None = None
    subtopic: str | None = None
    operator_id: UUID | None = None  # any operator who held the chat
    group_id: UUID | None = None
    rating: int | None = None
    phone: str | None = None
    channel: str | None = None
    status: str | None = None
    q: str | None = None  # websearch syntax over the messages; never parsed by hand


def _held_conditions(operator_id: UUID | None, held_by: UUID | None) -> list[tuple[str, list[Any]]]:
    """The filter's operator (chats they held at some time) and the caller's own view (what
    the visibility rule's record shows an operator), as conditions with their parameters."""
    conditions: list[tuple[str, list[Any]]] = []
    if operator_id is not None:
        conditions.append(("operator_ids @> %s::uuid[]", [[operator_id]]))
    if held_by is not None:
        conditions.append(
            visible_where(clauses(Viewer(held_by), RECORD), {HOLDERS: "operator_ids"})
        )
    return conditions


class HistoryQueries:
    """History's queries, over the tables its projection keeps (mixed into ``History``)."""

    datastore: PostgresDatastore
    table: Callable[[str], str]

    def search(
        self,
        filters: HistoryFilters,
        *,
        held_by: UUID | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of matching chats, newest first; returns rows and the next cursor.

        ``held_by`` narrows the search to chats that operator held (an operator's own view).
        With ``q``, each row has a ``headline``: the words matched, in their context.
        """
        sql, params = self.search_sql(filters, held_by=held_by, cursor=cursor, limit=limit)
        with self.datastore.cursor() as curs:
            curs.execute(sql, params)
            rows = curs.fetchall()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_time_key(rows[-1]["requested_at"], rows[-1]["id"])
        return rows, next_cursor

    def previous_dialogs(
        self,
        chat_id: UUID,
        client_id: str,
        channel: str | None,
        *,
        card_chats: list[UUID] = (),
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        """The same client's other chats (same id on the same channel, and the chats their
        client card lists: a missing channel and an empty one are the same card), newest
        first."""
        same_channel = "channel = %s" if channel is not None else "channel IS NULL"
        channel_params = (channel,) if channel is not None else ()
        with self.datastore.cursor() as curs:
            curs.execute(
                "SELECT id, status, topic, subtopic, operator_id, requested_at, closed_at, "
                "close_reason, closed_by, rating "
                f"FROM {self.table('history_chats')} "
                f"WHERE ((client_id = %s AND {same_channel}) OR id = ANY(%s)) AND id <> %s "
                "ORDER BY requested_at DESC, id DESC LIMIT %s",
                (client_id, *channel_params, list(card_chats), chat_id, limit),
            )
            return curs.fetchall()

    def search_sql(
        self,
        filters: HistoryFilters,
        *,
        held_by: UUID | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[str, list[Any]]:
        """The statement ``search`` runs (one more row than ``limit``, to know of a next page)."""
        where: list[str] = []
        params: list[Any] = []
        for column, operator, value in (
            ("requested_at", ">=", filters.since),
            ("requested_at", "<", filters.until),
            ("topic", "=", filters.topic),
            ("subtopic", "=", filters.subtopic),
            ("group_id", "=", filters.group_id),
            ("rating", "=", filters.rating),
            ("phone", "=", filters.phone),
            ("channel", "=", filters.channel),
            ("status", "=", filters.status),
        ):
            if value is not None:
                where.append(f"{column} {operator} %s")
                params.append(value)
        for condition, condition_params in _held_conditions(filters.operator_id, held_by):
            where.append(condition)
            params.extend(condition_params)
        if filters.q is not None:
            where.append("search @@ websearch_to_tsquery('simple', %s)")
            params.append(filters.q)
        if cursor is not None:
            requested_at, chat_id = decode_time_key(cursor)
            where.append("(requested_at, id) < (%s, %s)")
            params.extend([requested_at, chat_id])
        page = (
            f"SELECT {ROW_COLUMNS} FROM {self.table('history_chats')} "
            f"WHERE {' AND '.join(where) or 'true'} "
            "ORDER BY requested_at DESC, id DESC LIMIT %s"
        )
        params.append(limit + 1)
        headline = "NULL::text"
        if filters.q is not None:
            # Only for the page's rows, from the text that is searched.
            headline = (
                "(SELECT ts_headline('simple', "
                "left(string_agg(m.text, E'\\n' ORDER BY m.version, m.line), %s), "
                f"websearch_to_tsquery('simple', %s), '{HEADLINE_OPTIONS}') "
                f"FROM {self.table('history_messages')} AS m WHERE m.chat_id = page.id)"
            )
            params = [SEARCH_CHARS, filters.q, *params]
        sql = (
            f"SELECT page.*, {headline} AS headline FROM ({page}) AS page "
            "ORDER BY requested_at DESC, id DESC"
        )
        return sql, params
