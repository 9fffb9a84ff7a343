"""Fakes for unit tests: real implementations of the ports, built on the in-memory store."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.app import Switchboard
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


def in_memory_switchboard(clock: FakeClock | None = None) -> Switchboard:
    view = LogScanRoutingView()
    app = Switchboard(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock or FakeClock(), routing=view
    )
    view.app = app
    return app
