"""What the clients read model answers: a page of cards by words, tag, phone and blocked.

A query's words are found in one of two ways, chosen per query by counting (``search``): a
rare word through the terms' btree, a common one by walking the cards in last-seen order.
Both give the same page; the tests run every query both ways.
"""

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

    # A word that begins fewer terms than this is looked up in the terms' btree, and only the
    # cards it names are read; a commoner word is checked on each card (its own array of
    # terms) while the cards are walked in last-seen order, until the page is full. The one
    # reads about as many cards as the word has terms, the other about the page's size times
    # the cards per match: with pages of 50 over a million cards they meet near 7,000.
    narrow_terms: int = 5_000

    def search(
        self, filters: ClientFilters, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of matching cards, the most recently seen first; rows and next cursor."""
        conditions: list[str] = []
        params: list[Any] = []
        common, named = self._look_up_rare_words(query_words(filters.q or ""))
        if named is not None:
            if not named:
                return [], None
            conditions.append("id = ANY(%s::uuid[])")
            params.append(sorted(named))
        for ways in common:
            likes = " OR ".join(["t LIKE %s"] * len(ways))
            conditions.append(f"EXISTS (SELECT FROM unnest(terms) AS t WHERE {likes})")
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

    def _look_up_rare_words(
        self, words: list[list[str]]
    ) -> tuple[list[list[str]], set[str] | None]:
        """The common words (to check on each card), and the ids of the cards that every
        rare word begins a term of (None if no word is rare): one statement reads, for each
        word, up to ``narrow_terms`` of its terms from the btree."""
        bound = self.narrow_terms
        if not words or bound <= 0:
            return words, None
        found = []
        params: list[Any] = []
        for n, ways in enumerate(words):
            likes = " OR ".join(["term LIKE %s"] * len(ways))
            found.append(
                f"ARRAY(SELECT client_id::text FROM {self.table('client_terms')} "
                f"WHERE {likes} LIMIT %s) AS w{n}"
            )
            params.extend([*(like_prefix(way) for way in ways), bound])
        with self.datastore.cursor() as curs:
            curs.execute(f"SELECT {', '.join(found)}", params)
            row = curs.fetchone()
        common, named = [], None
        for n, ways in enumerate(words):
            ids = row[f"w{n}"]
            if len(ids) >= bound:
                common.append(ways)
            else:
                named = set(ids) if named is None else named & set(ids)
        return common, named

    def all_cards(self) -> list[dict[str, Any]]:
        """Every card with its array of terms (for tests comparing the model with a rebuild)."""
        with self.datastore.cursor() as curs:
            curs.execute(f"SELECT {CARD_COLUMNS}, terms FROM {self.table('clients')} ORDER BY id")
            return curs.fetchall()
