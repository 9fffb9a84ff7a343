"""The queue dispatcher: when room appears, queued chats go to operators, oldest first.

It follows the event log like a read model (its own tracking, its own advisory lock, so one
process dispatches at a time). Events that can make room or add to a queue (a chat queued,
closed or released, an operator turning working, changing groups or capacity) trigger a
drain. Before draining it waits until the dashboard and directory have seen the triggering
events, so it decides on a picture that includes them; its tracking is recorded only after
the drain, so a crash repeats the drain (harmless: assignment re-checks every aggregate)
rather than losing it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from domain.chat import Chat
from domain.group import Group
from domain.operator import WORKING, Operator
from projections.machinery.readmodel import ReadModel

log = logging.getLogger(__name__)

DRAIN_LIMIT = 200  # queued chats looked at per drain


def makes_room(event: Any) -> bool:
    if isinstance(event, Operator.StatusChanged):
        return event.status == WORKING
    if isinstance(event, Group.GroupUpdated):
        return event.routing == "auto"  # a manual group's waiting chats may go now
    return isinstance(
        event,
        Chat.Queued
        | Chat.Closed
        | Operator.ChatReleased
        | Operator.GroupsChanged
        | Operator.CapacityChanged,
    )


class Dispatcher(ReadModel):
    name = "dispatcher"

    def __init__(
        self,
        datastore,
        application_name: str,
        *,
        assign: Callable[[UUID], tuple[str, int | None]],
        wait_for: Callable[[str, int, float], bool],
    ) -> None:
        super().__init__(datastore, application_name)
        self._assign = assign
        self._wait_for = wait_for

    def process_batch(self, batch: Sequence[tuple[Any, Tracking]]) -> int:
        last = batch[-1][1]
        if any(makes_room(event) for event, _ in batch):
            position = last.notification_id
            for model in ("dashboard", "directory"):
                if not self._wait_for(model, position, 30.0):
                    raise TimeoutError(f"{model} did not reach {position}; will retry the drain")
            self.drain()
        with self.datastore.transaction(commit=True) as curs:
            committed = self.lock_position(curs)
            if last.notification_id > committed:
                self.record_position(curs, last)
        return max(last.notification_id, committed)

    def drain(self) -> int:
        """Assign queued chats of automatic groups, oldest first, while operators have room.

        ``assign`` answers ``("assigned", position)``, ``("skipped", None)`` for a chat that
        is no longer waiting, or ``("no_room", None)``.
        """
        assigned, seen = 0, set()
        while True:
            queued = [chat_id for chat_id in self.queued() if chat_id not in seen]
            reached = 0
            for chat_id in queued:
                seen.add(chat_id)
                outcome, position = self._assign(chat_id)
                if outcome == "no_room":
                    # The oldest chat nobody can take: with fallback to any group, nor younger.
                    return assigned
                if outcome == "assigned":
                    assigned += 1
                    reached = max(reached, position or 0)
            if len(queued) < DRAIN_LIMIT:
                return assigned
            # A full page: more may wait. Read the next page once the dashboard shows this one.
            if reached and not self._wait_for("dashboard", reached, 30.0):
                raise TimeoutError(f"dashboard did not reach {reached}; will retry the drain")

    def queued(self) -> list[UUID]:
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT c.id FROM {self.table('dashboard_chats')} c "
                f"LEFT JOIN {self.table('groups')} g ON g.id = c.group_id "
                "WHERE c.status = 'queued' AND (g.id IS NULL OR (g.routing = 'auto' "
                "AND NOT g.deleted)) ORDER BY c.requested_at, c.id LIMIT %s",
                (DRAIN_LIMIT,),
            )
            return [row["id"] for row in curs.fetchall()]
