"""What the clients read model answers: a page of cards by words, tag, phone and blocked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresDatastore

from projections.clients.terms import like_prefix, query_words
from projections.machinery.keyset import decode_time_key, encode_time_key

CARD_COLUMNS = (
    "id, channel, external_id, profile, tags, blocked, blocked_reason, notes, chats, "
    "first_seen_at, last_seen_at"
)


@dataclass(frozen=True)
class ClientFilters:
    """Every filter given must hold (AND)."""

    q: str | None = None  # words, each the beginning of a term of the card (``terms.py``)
    tag: str | None = None
    phone: str | None = None  # the phone exactly
    blocked: bool | None = None


class ClientQueries:
    """Queries over the table the projection keeps (mixed into ``Clients``)."""

    datastore: PostgresDatastore
    table: Callable[[str], str]

    def search(
        self, filters: ClientFilters, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of matching cards, the most recently seen first; rows and next cursor."""
        conditions: list[str] = []
        params: list[Any] = []
        terms = self.table("client_terms")
        for ways in query_words(filters.q or ""):
            likes = " OR ".join(["term LIKE %s"] * len(ways))
            conditions.append(f"id IN (SELECT client_id FROM {terms} WHERE {likes})")
            params.extend(like_prefix(way) for way in ways)
        if filters.tag is not None:
            conditions.append("tags @> ARRAY[%s]::text[]")
            params.append(filters.tag)
        if filters.phone is not None:
            conditions.append("phone = %s")
            params.append(filters.phone)
        if filters.blocked is not None:
            conditions.append("blocked = %s")
            params.append(filters.blocked)
        if cursor is not None:
            at, row_id = decode_time_key(cursor)
            conditions.append("(last_seen_at, id) < (%s, %s)")
            params.extend([at, row_id])
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        sql = (
            f"SELECT {CARD_COLUMNS} FROM {self.table('clients')} {where}"
            "ORDER BY last_seen_at DESC, id DESC LIMIT %s"
        )
        with self.datastore.cursor() as curs:
            curs.execute(sql, (*params, limit + 1))
            rows = curs.fetchall()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_time_key(rows[-1]["last_seen_at"], rows[-1]["id"])
        return rows, next_cursor

    def all_cards(self) -> list[dict[str, Any]]:
        """Every card (for tests comparing the model with a rebuild)."""
        with self.datastore.cursor() as curs:
            curs.execute(f"SELECT {CARD_COLUMNS} FROM {self.table('clients')} ORDER BY id")
            return curs.fetchall()
