"""What the scheduler asks the dashboard: which deadlines are due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore


class DeadlineQueries:
    """The part of the dashboard the scheduler reads."""

    datastore: PostgresDatastore
    table: Callable[[str], str]

    def expired_mutes(self, now: datetime, limit: int = 500) -> list[UUID]:
        """Open chats whose timed mute is over."""
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT id FROM {self.table('dashboard_chats')} WHERE muted "
                "AND status <> 'closed' AND muted_until <= %s ORDER BY muted_until LIMIT %s",
                (now, limit),
            )
            return [row["id"] for row in curs.fetchall()]

    def quiet_chats(self, before: datetime, limit: int = 500) -> list[UUID]:
        """Active chats nobody has written in after ``before``, the client not waiting."""
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT id FROM {self.table('dashboard_chats')} WHERE status = 'active' "
                "AND last_activity_at <= %s AND waiting_since IS NULL "
                "ORDER BY last_activity_at LIMIT %s",
                (before, limit),
            )
            return [row["id"] for row in curs.fetchall()]

    def overdue_chats(self, now: datetime, limit: int = 500) -> list[UUID]:
        """Chats whose response clock ran past its SL before ``now``, not yet marked."""
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT id FROM {self.table('dashboard_chats')} WHERE sl_due_at IS NOT NULL "
                "AND NOT overdue AND sl_due_at < %s ORDER BY sl_due_at LIMIT %s",
                (now, limit),
            )
            return [row["id"] for row in curs.fetchall()]

    def overdue_held_chats(self, before: datetime, limit: int = 500) -> list[UUID]:
        """Chats an operator holds, marked overdue, whose SL passed before ``before``."""
        with self.datastore.cursor() as curs:
            curs.execute(
                f"SELECT id FROM {self.table('dashboard_chats')} WHERE overdue "
                "AND status IN ('assigned', 'active') AND sl_due_at <= %s "
                "ORDER BY sl_due_at LIMIT %s",
                (before, limit),
            )
            return [row["id"] for row in curs.fetchall()]
