"""The dispatcher's place in a worker: the log it follows (the dashboard serves its
``WaitingChats`` port).

``DispatcherFeed`` lets the read models' runner (its advisory lock: one process
dispatches at a time; its restarts) feed the dispatcher the log. It keeps no table: each time
it starts following, it drains everything first (which covers whatever it missed) and follows
from the head; its position is announced in this process only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking

from application.dispatcher import Dispatcher

DISPATCHER = "dispatcher"


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
