"""Shared plumbing of the Switchboard application: loading, positions, unique names."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

from application.clock import Clock
from application.errors import NotFound, UnknownReference
from application.picks import Picks
from application.ports import RoutingView
from domain.chat import Chat
from domain.group import Group
from domain.operator import Operator
from domain.reservation import Reservation
from domain.settings import DEFAULTS, CompanySettings

A = TypeVar("A", bound=Aggregate)


class SwitchboardBase(Application[UUID]):
    name = "Switchboard"
    # Operators gather two events per chat; snapshots keep loading them fast.
    snapshotting_intervals: ClassVar[dict[type, int]] = {Operator: 50, Chat: 200}

    def __init__(self, env: dict[str, str] | None, *, clock: Clock, routing: RoutingView) -> None:
        super().__init__(env)
        self.clock = clock
        self.routing = routing
        # token id -> (expires at, principal): authentication runs on every request.
        self._principals: dict[UUID, tuple[float, Any]] = {}
        self._picks = Picks()

    def after_conflict(self) -> None:
        """Another writer won: bring the routing picture up to date before deciding again."""
        self.routing.catch_up(timeout=0.5)

    # -- loading ------------------------------------------------------------------------------

    def _find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def _get(self, kind: type[A], aggregate_id: UUID) -> A:
        aggregate = self._find(kind, aggregate_id)
        if aggregate is None:
            raise NotFound(f"no {kind.__name__.lower()} {aggregate_id}")
        return aggregate

    def _group_for_reference(self, group_id: UUID | None) -> Group | None:
        """A group named in a request body: it must exist and not be deleted."""
        if group_id is None:
            return None
        group = self._find(Group, group_id)
        if group is None or group.deleted:
            raise UnknownReference(f"no group {group_id}")
        return group

    def _check_groups(self, group_ids: list[UUID]) -> None:
        for group_id in group_ids:
            self._group_for_reference(group_id)

    def company_settings(self) -> dict[str, Any]:
        """The admin's settings, with defaults for what was never set."""
        settings = self._find(CompanySettings, CompanySettings.fixed_id())
        return dict(settings.values) if settings is not None else dict(DEFAULTS)

    # -- unique names -------------------------------------------------------------------------

    def _claim(self, kind: str, key: str, owner_id: UUID, *, actor: str) -> Reservation:
        """Claim a unique ``key`` for ``owner_id``; raises ``ReservationTaken`` if held."""
        reservation = self._find(Reservation, Reservation.id_for(kind, key))
        at = self.clock.now()
        if reservation is None:
            return Reservation.reserve(kind=kind, key=key, owner_id=owner_id, at=at, actor=actor)
        reservation.claim(owner_id, at=at, actor=actor)
        return reservation

    def _release(self, kind: str, key: str, owner_id: UUID, *, actor: str) -> Reservation | None:
        reservation = self._find(Reservation, Reservation.id_for(kind, key))
        if reservation is None or reservation.owner_id != owner_id:
            return None
        reservation.release(at=self.clock.now(), actor=actor)
        return reservation

    # -- positions ----------------------------------------------------------------------------

    def _saved(self, *aggregates: Aggregate | None) -> int | None:
        """Save in one transaction; return the log position reached."""
        recordings = self.save(*aggregates)
        if recordings:
            return recordings[-1].notification.id
        return self.head()

    def head(self) -> int | None:
        """The position of the last event in the log."""
        return self.recorder.max_notification_id()
