"""The clients projection: a row per client card, from the Client aggregate's events alone,
and the card's search terms (``terms.py``: as rows of their own and as an array on the card),
kept in step with its profile and tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.client import Client
from projections.clients.queries import ClientQueries
from projections.clients.tables import TABLES
from projections.clients.terms import terms_of
from projections.machinery.readmodel import ReadModel


class Clients(ClientQueries, ReadModel):
    name = "clients"
    tables = TABLES

    @singledispatchmethod
    def apply(self, event: Any, curs: Cursor) -> None:
        """Other events change nothing here (their position is still tracked)."""

    @apply.register
    def _(self, e: Client.Seen, curs: Cursor) -> None:
        terms = sorted(terms_of(e.profile, ()))
        curs.execute(
            f"INSERT INTO {self.table('clients')} (id, channel, external_id, profile, chats, "
            "first_seen_at, last_seen_at, terms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO NOTHING",
            (
                e.originator_id,
                e.channel,
                e.external_id,
                Jsonb(e.profile),
                [e.chat_id],
                e.timestamp,
                e.timestamp,
                terms,
            ),
        )
        self._add_terms(curs, e.originator_id, terms)

    @apply.register
    def _(self, e: Client.Returned, curs: Cursor) -> None:
        self._set_searched(
            curs,
            e,
            "profile = profile || %s, chats = array_append(chats, %s), last_seen_at = %s",
            Jsonb(e.profile),
            e.chat_id,
            e.timestamp,
        )

    @apply.register
    def _(self, e: Client.Edited, curs: Cursor) -> None:
        given = {k: v for k, v in e.changes.items() if v is not None}
        cleared = [k for k, v in e.changes.items() if v is None]
        self._set_searched(curs, e, "profile = (profile || %s) - %s::text[]", Jsonb(given), cleared)

    @apply.register
    def _(self, e: Client.NoteAdded, curs: Cursor) -> None:
        note = {
            "id": str(e.note_id),
            "text": e.text,
            "author_id": None if e.author_id is None else str(e.author_id),
            "at": e.timestamp.isoformat(),
        }
        self._set(curs, e, "notes = notes || jsonb_build_array(%s::jsonb)", Jsonb(note))

    @apply.register
    def _(self, e: Client.NoteDeleted, curs: Cursor) -> None:
        self._set(
            curs,
            e,
            "notes = COALESCE((SELECT jsonb_agg(n ORDER BY i) FROM jsonb_array_elements(notes) "
            "WITH ORDINALITY AS x(n, i) WHERE n->>'id' <> %s), '[]'::jsonb)",
            str(e.note_id),
        )

    @apply.register
    def _(self, e: Client.TagsSet, curs: Cursor) -> None:
        self._set_searched(curs, e, "tags = %s", list(e.tags))

    @apply.register
    def _(self, e: Client.Blocked, curs: Cursor) -> None:
        self._set(curs, e, "blocked = true, blocked_reason = %s", e.reason)

    @apply.register
    def _(self, e: Client.Unblocked, curs: Cursor) -> None:
        self._set(curs, e, "blocked = false, blocked_reason = NULL")

    def _set(self, curs: Cursor, event: Any, assignments: str, *values: Any) -> None:
        curs.execute(
            f"UPDATE {self.table('clients')} SET {assignments} WHERE id = %s",
            (*values, event.originator_id),
        )

    def _set_searched(self, curs: Cursor, event: Any, assignments: str, *values: Any) -> None:
        """``_set`` for a change of the profile or the tags: the card's terms follow."""
        clients = self.table("clients")
        curs.execute(
            f"UPDATE {clients} c SET {assignments} FROM (SELECT profile AS was_profile, "
            f"tags AS was_tags FROM {clients} WHERE id = %s) was WHERE c.id = %s "
            "RETURNING was.was_profile, was.was_tags, c.profile, c.tags",
            (*values, event.originator_id, event.originator_id),
        )
        row = curs.fetchone()
        if row is None:
            return
        was = terms_of(row["was_profile"], row["was_tags"])
        now = terms_of(row["profile"], row["tags"])
        if was == now:
            return
        curs.execute(
            f"UPDATE {clients} SET terms = %s WHERE id = %s", (sorted(now), event.originator_id)
        )
        if was - now:
            curs.execute(
                f"DELETE FROM {self.table('client_terms')} WHERE term = ANY(%s) AND client_id = %s",
                (sorted(was - now), event.originator_id),
            )
        self._add_terms(curs, event.originator_id, now - was)

    def _add_terms(self, curs: Cursor, client_id: Any, terms: Iterable[str]) -> None:
        terms = sorted(terms)
        if terms:
            curs.execute(
                f"INSERT INTO {self.table('client_terms')} (term, client_id) "
                "SELECT unnest(%s::text[]), %s ON CONFLICT DO NOTHING",
                (terms, client_id),
            )
