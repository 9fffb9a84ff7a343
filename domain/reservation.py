"""Reservation: an index aggregate that makes a name unique across the whole store.

Its id is derived from the name, so two commands claiming the same name at once write the same
aggregate's first version and the event store lets exactly one of them win. Used for operator
e-mails and for bots' handoff keys (an external conversation id points at its open chat).
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import ReservationTaken

_NAMESPACE = uuid5(NAMESPACE_URL, "switchboard:reservation")
FREE = UUID(int=0)  # the owner of a released name


class Reservation(Aggregate):
    class Event(Aggregate.Event):
        actor: str

    class Reserved(Aggregate.Created):
        actor: str
        kind: str
        key: str
        owner_id: UUID

    class Transferred(Event):
        owner_id: UUID

        def apply(self, reservation: Reservation) -> None:
            reservation.owner_id = self.owner_id

    @staticmethod
    def id_for(kind: str, key: str) -> UUID:
        return uuid5(_NAMESPACE, f"{kind}\x00{key}")

    @classmethod
    def reserve(
        cls, *, kind: str, key: str, owner_id: UUID, at: datetime, actor: str
    ) -> Reservation:
        return cls._create(
            cls.Reserved,
            id=cls.id_for(kind, key),
            timestamp=at,
            actor=actor,
            kind=kind,
            key=key,
            owner_id=owner_id,
        )

    def __init__(self, *, actor: str, kind: str, key: str, owner_id: UUID) -> None:
        self.kind = kind
        self.key = key
        self.owner_id = owner_id

    @property
    def is_free(self) -> bool:
        return self.owner_id == FREE

    def transfer(self, owner_id: UUID, *, at: datetime, actor: str) -> None:
        """Point the name at a new owner (a bot's key at its new chat, a freed e-mail)."""
        if owner_id != self.owner_id:
            self.trigger_event(self.Transferred, timestamp=at, actor=actor, owner_id=owner_id)

    def claim(self, owner_id: UUID, *, at: datetime, actor: str) -> None:
        if not self.is_free and self.owner_id != owner_id:
            raise ReservationTaken(f"{self.kind} {self.key!r} is taken")
        self.transfer(owner_id, at=at, actor=actor)

    def release(self, *, at: datetime, actor: str) -> None:
        self.transfer(FREE, at=at, actor=actor)
