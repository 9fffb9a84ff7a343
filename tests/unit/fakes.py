"""Fakes for unit tests: real implementations of the ports, built on the in-memory store."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from argon2 import PasswordHasher

from application.app import Switchboard
from application.errors import NotFound
from application.passwords import Passwords
from application.ports import ReadModelPositions, WaitingChats
from domain.chat import QUEUED
from domain.group import Group
from domain.operator import Operator
from domain.routing import Candidate
from tests.clock import FakeClock


class LogScanRoutingView:
    """The routing view computed by reading every operator from the event store.

    Always exact (no lag), which also makes it the reference the projection is checked against.
    """

    def __init__(self) -> None:
        self.app: Switchboard | None = None

    def _operators(self) -> list[Operator]:
        assert self.app is not None
        ids: dict[UUID, None] = {}
        for notification in self.app.recorder.select_notifications(start=None, limit=10**9):
            if notification.topic.startswith("domain.operator:Operator."):
                ids[notification.originator_id] = None
        return [self.app.repository.get(operator_id) for operator_id in ids]

    def candidates(self, group_id: UUID | None = None) -> Sequence[Candidate]:
        return [
            Candidate(
                operator_id=o.id,
                status=o.status,
                group_ids=frozenset(o.group_ids),
                load=o.load,
                max_chats=o.max_chats,
                last_assigned_at=o.last_assigned_at,
            )
            for o in self._operators()
            if o.active and (group_id is None or group_id in o.group_ids)
        ]

    def group_members(self, group_id: UUID) -> Sequence[UUID]:
        return [o.id for o in self._operators() if group_id in o.group_ids]

    def catch_up(self, timeout: float) -> bool:
        return True


def cheap_passwords() -> Passwords:
    """argon2 at its lightest: the same code paths, without its deliberate cost."""
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def in_memory_switchboard(clock: FakeClock | None = None) -> Switchboard:
    view = LogScanRoutingView()
    app = Switchboard(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock=clock or FakeClock(),
        routing=view,
        passwords=cheap_passwords(),
    )
    view.app = app
    return app


class LogScanWaitingChats(WaitingChats):
    """The waiting chats found by reading every chat from the event store (no lag)."""

    def __init__(self, app: Switchboard) -> None:
        self.app = app

    def waiting(self, limit: int) -> list[UUID]:
        chats = self._chats()
        queued = [c for c in chats if c.status == QUEUED and self._routes_itself(c.group_id)]
        queued.sort(key=lambda chat: (chat.requested_at, chat.id))
        return [chat.id for chat in queued[:limit]]

    def stranded(self, limit: int) -> list[UUID]:
        queued = [c for c in self._chats() if c.status == QUEUED and c.group_id is not None]
        gone = [c for c in queued if self.app._find(Group, c.group_id).deleted]
        gone.sort(key=lambda chat: (chat.requested_at, chat.id))
        return [chat.id for chat in gone[:limit]]

    def _chats(self) -> list:
        ids: dict[UUID, None] = {}
        for notification in self.app.recorder.select_notifications(start=None, limit=10**9):
            if notification.topic.startswith("domain.chat:Chat."):
                ids[notification.originator_id] = None
        return [self.app.get_chat(chat_id) for chat_id in ids]

    def _routes_itself(self, group_id: UUID | None) -> bool:
        if group_id is None:
            return True
        try:
            group = self.app.get_group(group_id)  # a deleted group is not found
        except NotFound:
            return False
        return not group.is_manual


class ReachedPositions(ReadModelPositions):
    """Read models over the in-memory store: every position is reached at once."""

    def wait(self, name: str, position: int, timeout: float) -> bool:
        return True
