"""The queue dispatcher, a policy: when room appears, the oldest queued chat is assigned.

Events that can make room or add to a queue (a chat queued, closed or released, an operator
turning working, changing groups or capacity, a group turning automatic or deleted, a chat
moved to the help queue) trigger a drain. A drain first moves the chats left waiting in
deleted groups to the help queue (no group), from where they are assigned like any other.
Before draining it waits until the read models it reads (dashboard and directory) have seen
the triggering events, so it decides on a picture that includes them. Draining is safe to
repeat: assignment re-checks every aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from application.app import Switchboard
from application.ports import ReadModelPositions, WaitingChats
from application.routing import Assignment
from domain.chat import Chat
from domain.group import Group
from domain.operator import WORKING, Operator

DRAIN_LIMIT = 200  # queued chats looked at per page of a drain
READ_MODELS_WAIT_S = 30.0
# What the drain reads: the waiting chats (dashboard) and whom routing may pick (directory).
READ_MODELS = ("dashboard", "directory")


def makes_room(event: Any) -> bool:
    if isinstance(event, Operator.StatusChanged):
        return event.status == WORKING
    if isinstance(event, Group.GroupUpdated):
        return event.routing == "auto"  # a manual group's waiting chats may go now
    return isinstance(
        event,
        Chat.Queued
        | Chat.MovedToHelp
        | Group.GroupDeleted  # its waiting chats move to the help queue
        | Chat.Closed
        | Operator.ChatReleased
        | Operator.GroupsChanged
        | Operator.CapacityChanged,
    )


class Dispatcher:
    def __init__(
        self, app: Switchboard, waiting: WaitingChats, positions: ReadModelPositions
    ) -> None:
        self.app = app
        self.waiting = waiting
        self.positions = positions

    def when_events(self, events: Sequence[Any], position: int) -> int:
        """Events up to log ``position`` happened: drain if any may have made room."""
        if any(makes_room(event) for event in events):
            return self.drain_after(position)
        return 0

    def drain_after(self, position: int) -> int:
        """Drain once the read models it reads have reached ``position``."""
        self._wait_for(READ_MODELS, position)
        return self.drain()

    def drain(self) -> int:
        """Assign waiting chats, oldest first, while operators have room; returns how many."""
        self.move_stranded()
        assigned, seen = 0, set()
        while True:
            waiting = [c for c in self.waiting.waiting(DRAIN_LIMIT) if c not in seen]
            reached = 0
            for chat_id in waiting:
                seen.add(chat_id)
                done = self.app.assign_from_queue(chat_id)
                if done.value is Assignment.NO_ROOM:
                    # The oldest chat nobody can take: with fallback to any group, nor younger.
                    return assigned
                if done.value is Assignment.ASSIGNED:
                    assigned += 1
                    reached = max(reached, done.position or 0)
            if len(waiting) < DRAIN_LIMIT:
                return assigned
            # A full page: more may wait. Read the next page once the dashboard shows this one.
            if reached:
                self._wait_for(("dashboard",), reached)

    def move_stranded(self) -> int:
        """Move chats waiting in deleted groups to the help queue; returns how many moved.

        A page at a time: each move is an event that starts another drain, which reads the
        next page once the dashboard shows the moves."""
        moved = 0
        for chat_id in self.waiting.stranded(DRAIN_LIMIT):
            moved += self.app.move_to_help(chat_id).recorded
        return moved

    def _wait_for(self, names: Sequence[str], position: int) -> None:
        for name in names:
            if not self.positions.wait(name, position, READ_MODELS_WAIT_S):
                raise TimeoutError(f"{name} did not reach {position}; will retry the drain")
