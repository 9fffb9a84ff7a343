"""What the queue dispatcher asks the dashboard: the chats the engine may assign, oldest first.

The dashboard follows each group's routing itself (``dashboard_groups``), so the answer needs
no other read model's tables, and ``min_position`` on the dashboard alone covers it.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from domain.group import Group


class WaitingQueries:
    """The part of the dashboard the dispatcher reads, and the group routing it follows."""

    datastore: PostgresDatastore
    table: Callable[[str], str]

    def waiting(self, limit: int) -> list[UUID]:
        """Queued chats the engine may assign (no group, or a group that is not deleted and
        routes automatically), oldest first (requested_at, id)."""
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT c.id FROM {self.table('dashboard_chats')} c WHERE c.status = 'queued' "
                f"AND NOT EXISTS (SELECT FROM {self.table('dashboard_groups')} g "
                "WHERE g.group_id = c.group_id AND (g.routing <> 'auto' OR g.deleted)) "
                "ORDER BY c.requested_at, c.id LIMIT %s",
                (limit,),
            )
            return [row["id"] for row in curs.fetchall()]

    def stranded(self, limit: int) -> list[UUID]:
        """Queued chats still in a deleted group, oldest first: the engine moves them to the
        help queue (no group)."""
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT c.id FROM {self.table('dashboard_groups')} g "
                f"JOIN {self.table('dashboard_chats')} c ON c.group_id = g.group_id "
                "AND c.status = 'queued' WHERE g.deleted "
                "ORDER BY c.requested_at, c.id LIMIT %s",
                (limit,),
            )
            return [row["id"] for row in curs.fetchall()]

    def record_routing(
        self, curs: Cursor, event: Group.GroupCreated | Group.GroupUpdated | Group.GroupDeleted
    ) -> None:
        """A group created, changed or deleted: its routing as the dispatcher needs it."""
        groups = self.table("dashboard_groups")
        if isinstance(event, Group.GroupDeleted):
            curs.execute(
                f"UPDATE {groups} SET deleted = true WHERE group_id = %s", (event.originator_id,)
            )
            return
        curs.execute(
            f"INSERT INTO {groups} (group_id, routing) VALUES (%s, %s) "
            "ON CONFLICT (group_id) DO UPDATE SET routing = EXCLUDED.routing",
            (event.originator_id, event.routing),
        )
