"""What the directory answers: operators by name, idle operators, an operator's groups, the
groups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from projections.machinery.keyset import decode_key, decode_time_key, encode_key, encode_time_key

OPERATOR_COLUMNS = (
    "id, first_name, last_name, email, role, group_ids, max_chats, status, status_since, "
    "load, last_assigned_at, active, auto_logout_s, registered_at"
)
GROUP_COLUMNS = "id, name, description, sl_first_response_s, sl_next_response_s, routing"


class DirectoryQueries:
    """The directory's queries, over the tables its projection keeps (mixed into
    ``Directory``)."""

    datastore: PostgresDatastore
    table: Callable[[str], str]

    def operators(
        self,
        *,
        group_id: UUID | None = None,
        status: str | None = None,
        include_inactive: bool = False,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Active operators (and deactivated ones too with ``include_inactive``) by name,
        keyset-paginated on (last_name, first_name, id)."""
        where, params = ["true" if include_inactive else "active"], []
        if group_id is not None:
            where.append("%s = ANY(group_ids)")
            params.append(group_id)
        if status is not None:
            where.append("status = %s")
            params.append(status)
        if cursor is not None:
            where.append("(last_name, first_name, id::text) > (%s, %s, %s)")
            params.extend(decode_key(cursor, 3))
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT {OPERATOR_COLUMNS} FROM {self.table('operators')} "
                f"WHERE {' AND '.join(where)} ORDER BY last_name, first_name, id::text LIMIT %s",
                (*params, limit + 1),
            )
            rows = curs.fetchall()
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_key(last["last_name"], last["first_name"], str(last["id"]))

    def idle_operators(
        self, now: datetime, default_minutes: int | None, limit: int = 500
    ) -> list[tuple[UUID, datetime]]:
        """Working operators idle past their own ``auto_logout_s``, else the company's limit.

        Returns (operator id, last activity) pairs for the scheduler to confirm and act on.
        """
        default_s = default_minutes * 60 if default_minutes else 0
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT id, last_active_at FROM {self.table('operators')} "
                "WHERE active AND status = 'working' "
                "AND COALESCE(NULLIF(auto_logout_s, 0), %s) > 0 AND last_active_at "
                "<= %s - make_interval(secs => COALESCE(NULLIF(auto_logout_s, 0), %s)) "
                "ORDER BY last_active_at LIMIT %s",
                (default_s, now, default_s, limit),
            )
            return [(row["id"], row["last_active_at"]) for row in curs.fetchall()]

    def tokens(
        self, *, now: datetime, cursor: str | None = None, limit: int = 50
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Tokens and sessions in force, oldest first; a staff token shows its operator's
        role now. Keyset-paginated on (created_at, id)."""
        where, params = ["(t.expires_at IS NULL OR t.expires_at > %s)"], [now]
        if cursor is not None:
            where.append("(t.created_at, t.id) > (%s, %s)")
            params.extend(decode_time_key(cursor))
        with self.datastore.cursor() as curs:
            curs.execute(
                "SELECT t.id, COALESCE(o.role, t.role) AS role, t.name, t.operator_id, "
                f"t.created_at, t.expires_at FROM {self.table('tokens')} t "
                f"LEFT JOIN {self.table('operators')} o ON o.id = t.operator_id "
                f"WHERE {' AND '.join(where)} ORDER BY t.created_at, t.id LIMIT %s",
                (*params, limit + 1),
            )
            rows = curs.fetchall()
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_time_key(last["created_at"], last["id"])

    def groups_of(self, operator_id: UUID) -> list[UUID]:
        """The groups an operator belongs to (none for an unknown operator)."""
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT group_ids FROM {self.table('operators')} WHERE id = %s", (operator_id,)
            )
            row = curs.fetchone()
        return list(row["group_ids"]) if row is not None else []

    def groups(self) -> list[dict[str, Any]]:
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT {GROUP_COLUMNS} FROM {self.table('groups')} WHERE NOT deleted "
                "ORDER BY name, id"
            )
            return curs.fetchall()
