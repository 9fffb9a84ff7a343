"""The dispatcher's place in a worker: the chats it reads, and the log it follows.

``QueuedChats`` serves the ``WaitingChats`` port from the dashboard's and the directory's
tables. ``DispatcherFeed`` lets the read models' runner (its advisory lock: one process
dispatches at a time; its restarts) feed the dispatcher the log. It keeps no table: each time
it starts following, it drains everything first (which covers whatever it missed) and follows
from the head; its position is announced in this process only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from application.dispatcher import Dispatcher
from projections.dashboard.projection import Dashboard
from projections.directory import Directory

DISPATCHER = "dispatcher"


class QueuedChats:
    def __init__(self, dashboard: Dashboard, directory: Directory) -> None:
        self.dashboard = dashboard
        self.directory = directory

    def waiting(self, limit: int) -> list[UUID]:
        with self.dashboard.datastore.transaction() as curs:
            curs.execute(
                f"SELECT c.id FROM {self.dashboard.table('dashboard_chats')} c "
                f"LEFT JOIN {self.directory.table('groups')} g ON g.id = c.group_id "
                "WHERE c.status = 'queued' AND (g.id IS NULL OR (g.routing = 'auto' "
                "AND NOT g.deleted)) ORDER BY c.requested_at, c.id LIMIT %s",
                (limit,),
            )
            return [row["id"] for row in curs.fetchall()]


class DispatcherFeed:
    """What the runner follows the log for (``name``, ``position``, ``process_batch``)."""

    name = DISPATCHER

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        head: Callable[[], int | None],
        reached: Callable[[int], None],
    ) -> None:
        self.dispatcher = dispatcher
        self._head = head
        self._reached = reached

    def position(self) -> int:
        """Where to follow from: the head, once everything waiting so far is drained."""
        head = self._head() or 0
        self.dispatcher.drain_after(head)
        self._reached(head)
        return head

    def process_batch(self, batch: Sequence[tuple[Any, Tracking]]) -> int:
        position = batch[-1][1].notification_id
        self.dispatcher.when_events([event for event, _ in batch], position)
        self._reached(position)
        return position
