"""The Operator aggregate: a person who answers chats, their status, groups and load."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue, NoCapacity, NotWorking, OperatorDeactivated

WORKING, BREAK, LEAVING, ABSENT, OFFLINE = "working", "break", "leaving", "absent", "offline"
STATUSES = (WORKING, BREAK, LEAVING, ABSENT, OFFLINE)
SETTABLE_STATUSES = (WORKING, BREAK, LEAVING, OFFLINE)  # ``absent`` is the engine's only
OPERATOR_ROLES = ("operator", "supervisor", "admin")
DEFAULT_MAX_CHATS = 300
MAX_MAX_CHATS = 10_000
MAX_GROUPS = 100  # groups one operator belongs to
MAX_AUTO_LOGOUT_S = 7 * 86_400


def check_max_chats(max_chats: int) -> None:
    if isinstance(max_chats, bool) or not isinstance(max_chats, int):
        raise InvalidValue("max_chats is a whole number")
    if not 0 <= max_chats <= MAX_MAX_CHATS:
        raise InvalidValue(f"max_chats is between 0 and {MAX_MAX_CHATS}")


class Operator(Aggregate):
    class Event(Aggregate.Event):
        actor: str

    class OperatorRegistered(Aggregate.Created):
        actor: str
        first_name: str
        last_name: str
        email: str
        role: str
        group_ids: list[UUID]
        max_chats: int
        auto_logout_s: int

    class ProfileUpdated(Event):
        first_name: str
        last_name: str
        email: str
        role: str
        auto_logout_s: int

        def apply(self, operator: Operator) -> None:
            operator.first_name = self.first_name
            operator.last_name = self.last_name
            operator.email = self.email
            operator.role = self.role
            operator.auto_logout_s = self.auto_logout_s

    class StatusChanged(Event):
        status: str

        def apply(self, operator: Operator) -> None:
            operator.status = self.status
            operator.status_since = self.timestamp

    class GroupsChanged(Event):
        group_ids: list[UUID]

        def apply(self, operator: Operator) -> None:
            operator.group_ids = list(self.group_ids)

    class CapacityChanged(Event):
        max_chats: int

        def apply(self, operator: Operator) -> None:
            operator.max_chats = self.max_chats

    class ChatTaken(Event):
        chat_id: UUID

        def apply(self, operator: Operator) -> None:
            operator.chat_ids.append(self.chat_id)
            operator.last_assigned_at = self.timestamp

    class ChatReleased(Event):
        chat_id: UUID

        def apply(self, operator: Operator) -> None:
            operator.chat_ids.remove(self.chat_id)

    class Deactivated(Event):
        def apply(self, operator: Operator) -> None:
            operator.active = False
            operator.deactivated_at = self.timestamp

    class Reactivated(Event):
        def apply(self, operator: Operator) -> None:
            operator.active = True

    # When last deactivated: tokens made before it never work again (a class default, so
    # snapshots taken before this attribute existed still load).
    deactivated_at: datetime | None = None

    @classmethod
    def register(
        cls,
        *,
        operator_id: UUID,
        at: datetime,
        actor: str,
        first_name: str,
        last_name: str,
        email: str,
        role: str = "operator",
        group_ids: list[UUID] | None = None,
        max_chats: int = DEFAULT_MAX_CHATS,
        auto_logout_s: int = 0,
    ) -> Operator:
        if role not in OPERATOR_ROLES:
            raise InvalidValue(f"role is one of {', '.join(OPERATOR_ROLES)}")
        check_max_chats(max_chats)
        return cls._create(
            cls.OperatorRegistered,
            id=operator_id,
            timestamp=at,
            actor=actor,
            first_name=first_name,
            last_name=last_name,
            email=email,
            role=role,
            group_ids=list(dict.fromkeys(group_ids or [])),
            max_chats=max_chats,
            auto_logout_s=auto_logout_s,
        )

    def __init__(
        self,
        *,
        actor: str,
        first_name: str,
        last_name: str,
        email: str,
        role: str,
        group_ids: list[UUID],
        max_chats: int,
        auto_logout_s: int,
    ) -> None:
        self.first_name = first_name
        self.last_name = last_name
        self.email = email
        self.role = role
        self.group_ids = list(group_ids)
        self.max_chats = max_chats
        self.auto_logout_s = auto_logout_s
        self.status = OFFLINE
        self.status_since = self.created_on
        self.chat_ids: list[UUID] = []
        self.last_assigned_at: datetime | None = None
        self.active = True

    @property
    def load(self) -> int:
        return len(self.chat_ids)

    @property
    def has_room(self) -> bool:
        return self.load < self.max_chats

    def check_active(self) -> None:
        if not self.active:
            raise OperatorDeactivated(f"operator {self.id} is deactivated")

    @property
    def can_take(self) -> bool:
        """Invariants 2 and 3: only an active, working operator with room takes a new chat."""
        return self.active and self.status == WORKING and self.has_room

    def check_can_take(self) -> None:
        if self.can_take:
            return
        self.check_active()
        if self.status != WORKING:
            raise NotWorking(f"operator {self.id} is {self.status}, not working")
        if not self.has_room:
            raise NoCapacity(f"operator {self.id} holds {self.load} of {self.max_chats} chats")

    def take_chat(self, chat_id: UUID, *, at: datetime, actor: str) -> None:
        self.check_can_take()
        if chat_id in self.chat_ids:
            return
        self.trigger_event(self.ChatTaken, timestamp=at, actor=actor, chat_id=chat_id)

    def release_chat(self, chat_id: UUID, *, at: datetime, actor: str) -> None:
        if chat_id in self.chat_ids:
            self.trigger_event(self.ChatReleased, timestamp=at, actor=actor, chat_id=chat_id)

    def change_status(
        self, status: str, *, at: datetime, actor: str, by_engine: bool = False
    ) -> bool:
        self.check_active()
        allowed = STATUSES if by_engine else SETTABLE_STATUSES
        if status not in allowed:
            raise InvalidValue(f"status is one of {', '.join(allowed)}")
        if status == self.status:
            return False
        self.trigger_event(self.StatusChanged, timestamp=at, actor=actor, status=status)
        return True

    def change_groups(self, group_ids: list[UUID], *, at: datetime, actor: str) -> bool:
        self.check_active()
        group_ids = list(dict.fromkeys(group_ids))
        if group_ids == self.group_ids:
            return False
        self.trigger_event(self.GroupsChanged, timestamp=at, actor=actor, group_ids=group_ids)
        return True

    def change_capacity(self, max_chats: int, *, at: datetime, actor: str) -> bool:
        self.check_active()
        check_max_chats(max_chats)
        if max_chats == self.max_chats:
            return False
        self.trigger_event(self.CapacityChanged, timestamp=at, actor=actor, max_chats=max_chats)
        return True

    def update_profile(
        self,
        *,
        at: datetime,
        actor: str,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        role: str | None = None,
        auto_logout_s: int | None = None,
    ) -> bool:
        self.check_active()
        if role is not None and role not in OPERATOR_ROLES:
            raise InvalidValue(f"role is one of {', '.join(OPERATOR_ROLES)}")
        new = {
            "first_name": self.first_name if first_name is None else first_name,
            "last_name": self.last_name if last_name is None else last_name,
            "email": self.email if email is None else email,
            "role": self.role if role is None else role,
            "auto_logout_s": self.auto_logout_s if auto_logout_s is None else auto_logout_s,
        }
        if all(getattr(self, key) == value for key, value in new.items()):
            return False
        self.trigger_event(self.ProfileUpdated, timestamp=at, actor=actor, **new)
        return True

    def deactivate(self, *, at: datetime, actor: str) -> bool:
        """Offline and locked out; the chats held are for the caller to send elsewhere."""
        if not self.active:
            return False
        if self.status != OFFLINE:
            self.trigger_event(self.StatusChanged, timestamp=at, actor=actor, status=OFFLINE)
        self.trigger_event(self.Deactivated, timestamp=at, actor=actor)
        return True

    def reactivate(self, *, at: datetime, actor: str) -> bool:
        if self.active:
            return False
        self.trigger_event(self.Reactivated, timestamp=at, actor=actor)
        return True
