"""What the Events read model answers: the feed, the webhooks, their delivery logs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from projections.events.tables import DELIVERIES
from projections.machinery.keyset import BadCursor, decode_key, encode_key

WEBHOOK_COLUMNS = "id, url, events, bot, description, active, created_at"  # never the secret
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class EventQueries:
    datastore: PostgresDatastore
    table: Callable[[str], str]

    def feed(self, *, after: int, upto: int, bot: str | None, limit: int) -> list[dict[str, Any]]:
        """Rows of Events after ``after`` up to ``upto``, in log order; only ``bot``'s chats if
        given (``api.event_views.event_json`` renders them)."""
        where, params = "position > %s AND position <= %s", [after, upto]
        if bot is not None:
            where += " AND bot = %s"
            params.append(bot)
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT * FROM {self.table('events')} WHERE {where} ORDER BY position LIMIT %s",
                (*params, limit),
            )
            return curs.fetchall()

    def webhooks(self, *, cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
        where, params = "", []
        if cursor is not None:
            (after,) = decode_key(cursor, 1)
            try:
                params.append(UUID(after))
            except ValueError as error:
                raise BadCursor("cursor is not one this API gave out") from error
            where = "WHERE id > %s"
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT {WEBHOOK_COLUMNS} FROM {self.table('webhooks')} {where} "
                "ORDER BY id LIMIT %s",
                (*params, limit + 1),
            )
            rows = curs.fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, encode_key(str(rows[-1]["id"])) if more else None

    def deliveries(
        self, webhook_id: UUID, *, status: str | None, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A webhook's delivery log, oldest Event first."""
        where, params = "webhook_id = %s", [webhook_id]
        if status is not None:
            where += " AND status = %s"
            params.append(status)
        if cursor is not None:
            (after,) = decode_key(cursor, 1)
            if not after.isdigit():
                raise BadCursor("cursor is not one this API gave out")
            where += " AND position > %s"
            params.append(int(after))
        with self.datastore.cursor() as curs:
            curs.execute(
                "SELECT event_id, type, position, status, attempts, last_status_code, "
                f"last_error, next_attempt_at, delivered_at FROM {DELIVERIES} WHERE {where} "
                "ORDER BY position LIMIT %s",
                (*params, limit + 1),
            )
            rows = curs.fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        for row in rows:
            if row["status"] != "pending":
                row["next_attempt_at"] = None
        return rows, encode_key(str(rows[-1]["position"])) if more else None
