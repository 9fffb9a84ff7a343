"""What the clients read model answers: a page of cards by words, tag, phone and blocked.

A query's words are found in one of two ways, chosen per query by counting in the terms'
btree (``ClientQueries``): the few cards that rare words name are read by id, or the cards are
walked in last-seen order and checked until the page is full. Both give the same page; the
tests run every query each way.
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

    # How a word is found (``_named_cards``). A word's terms are read from the btree, up to
    # ``listed_terms``: a word with fewer is "listed", and the cards that every listed word
    # names are intersected in the server, in the same statement. When they are at most
    # ``fetched_cards``, only they are read, by id; when they are more (or no word is listed),
    # the matches are common, and the cards are walked in last-seen order, each checked
    # against its own array of terms, until the page is full. Over the bench's 704k cards a
    # whole name (two words of 34,906 and 17,564 terms, 435 cards) is listed and fetched; a
    # surname's beginning (17,488 terms, one card in 40) is walked.
    listed_terms: int = 50_000
    fetched_cards: int = 5_000

    def search(
        self, filters: ClientFilters, *, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of matching cards, the most recently seen first; rows and next cursor."""
        conditions: list[str] = []
        params: list[Any] = []
        checked, named = self._named_cards(query_words(filters.q or ""))
        if named is not None:
            if not named:
                return [], None
            conditions.append("id = ANY(%s::uuid[])")
            params.append(sorted(named))
        for ways in checked:
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

    def _named_cards(self, words: list[list[str]]) -> tuple[list[list[str]], set[str] | None]:
        """The words to check on each card, and the ids of the only cards that may match
        (None: walk them all)."""
        if not words or self.listed_terms <= 0:
            return words, None
        counts, ids = self._read_terms(words)
        listed = [
            ways for ways, count in zip(words, counts, strict=True) if count < self.listed_terms
        ]
        if not listed:
            return words, None
        if len(listed) < len(words):  # a common word's terms were cut short: not intersected
            _, ids = self._read_terms(listed)
        if len(ids) > self.fetched_cards:
            return words, None
        return [ways for ways in words if ways not in listed], set(ids)

    def _read_terms(self, words: list[list[str]]) -> tuple[list[int], list[str]]:
        """In one statement, each word's terms read once from the btree (up to
        ``listed_terms``): how many each word has (to that bound), and the ids of the cards
        that all of them name (up to ``fetched_cards`` + 1 rows; a lone word's rows may name
        a card twice)."""
        terms = self.table("client_terms")
        found, counts, params = [], [], []
        for n, ways in enumerate(words):
            likes = " OR ".join(["term LIKE %s"] * len(ways))
            found.append(
                f"w{n} AS MATERIALIZED (SELECT client_id FROM {terms} WHERE {likes} LIMIT %s)"
            )
            counts.append(f"(SELECT count(*) FROM w{n}) AS c{n}")
            params += [*(like_prefix(way) for way in ways), self.listed_terms]
        named = " INTERSECT ".join(f"TABLE w{n}" for n in range(len(words)))
        sql = (
            f"WITH {', '.join(found)} SELECT {', '.join(counts)}, "
            f"ARRAY(SELECT client_id::text FROM ({named}) AS named LIMIT %s) AS ids"
        )
        with self.datastore.cursor() as curs:
            row = curs.execute(sql, [*params, self.fetched_cards + 1]).fetchone()
        return [row[f"c{n}"] for n in range(len(words))], row["ids"]

    def all_cards(self) -> list[dict[str, Any]]:
        """Every card with its array of terms (for tests comparing the model with a rebuild)."""
        with self.datastore.cursor() as curs:
            curs.execute(f"SELECT {CARD_COLUMNS}, terms FROM {self.table('clients')} ORDER BY id")
            return curs.fetchall()
