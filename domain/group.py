"""The Group aggregate: a team of operators with its service levels and routing mode."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate

from domain.errors import GroupDeleted, InvalidValue
from domain.texts import MAX_NAME

ROUTING_MODES = ("auto", "manual")
DEFAULT_SL_FIRST_RESPONSE_S = 60
DEFAULT_SL_NEXT_RESPONSE_S = 120
MAX_SL_S = 7 * 86_400  # a service level of a week is already no promise
NAME_RESERVATION = "group-name"  # the Reservation kind that keeps group names unique


def name_key(name: str) -> str:
    """A group's name as it is unique and looked up: blanks folded, case ignored."""
    return " ".join(name.split()).lower()


def _check(name: str, routing: str, sl_first_response_s: int, sl_next_response_s: int) -> None:
    if not name.strip():
        raise InvalidValue("a group needs a name")
    if len(name) > MAX_NAME:
        raise InvalidValue(f"a group's name is at most {MAX_NAME} characters")
    if routing not in ROUTING_MODES:
        raise InvalidValue(f"routing is one of {', '.join(ROUTING_MODES)}")
    for sl in (sl_first_response_s, sl_next_response_s):
        if isinstance(sl, bool) or not isinstance(sl, int) or not 1 <= sl <= MAX_SL_S:
            raise InvalidValue(f"service levels are whole seconds, from 1 to {MAX_SL_S}")


class Group(Aggregate):
    class Event(Aggregate.Event):
        actor: str

    class GroupCreated(Aggregate.Created):
        actor: str
        name: str
        description: str
        sl_first_response_s: int
        sl_next_response_s: int
        routing: str

    class GroupUpdated(Event):
        name: str
        description: str
        sl_first_response_s: int
        sl_next_response_s: int
        routing: str

        def apply(self, group: Group) -> None:
            group.name = self.name
            group.description = self.description
            group.sl_first_response_s = self.sl_first_response_s
            group.sl_next_response_s = self.sl_next_response_s
            group.routing = self.routing

    class GroupDeleted(Event):
        def apply(self, group: Group) -> None:
            group.deleted = True

    @classmethod
    def create(
        cls,
        *,
        group_id,
        at: datetime,
        actor: str,
        name: str,
        description: str = "",
        sl_first_response_s: int = DEFAULT_SL_FIRST_RESPONSE_S,
        sl_next_response_s: int = DEFAULT_SL_NEXT_RESPONSE_S,
        routing: str = "auto",
    ) -> Group:
        _check(name, routing, sl_first_response_s, sl_next_response_s)
        return cls._create(
            cls.GroupCreated,
            id=group_id,
            timestamp=at,
            actor=actor,
            name=name.strip(),
            description=description,
            sl_first_response_s=sl_first_response_s,
            sl_next_response_s=sl_next_response_s,
            routing=routing,
        )

    def __init__(
        self,
        *,
        actor: str,
        name: str,
        description: str,
        sl_first_response_s: int,
        sl_next_response_s: int,
        routing: str,
    ) -> None:
        self.name = name
        self.description = description
        self.sl_first_response_s = sl_first_response_s
        self.sl_next_response_s = sl_next_response_s
        self.routing = routing
        self.deleted = False

    @property
    def is_manual(self) -> bool:
        return self.routing == "manual"

    def check_exists(self) -> None:
        if self.deleted:
            raise GroupDeleted(f"group {self.id} is deleted")

    def update(self, *, at: datetime, actor: str, **changes) -> bool:
        self.check_exists()
        new = {
            key: getattr(self, key) if changes.get(key) is None else changes[key]
            for key in (
                "name",
                "description",
                "sl_first_response_s",
                "sl_next_response_s",
                "routing",
            )
        }
        _check(new["name"], new["routing"], new["sl_first_response_s"], new["sl_next_response_s"])
        new["name"] = new["name"].strip()
        if all(getattr(self, key) == value for key, value in new.items()):
            return False
        self.trigger_event(self.GroupUpdated, timestamp=at, actor=actor, **new)
        return True

    def delete(self, *, at: datetime, actor: str) -> None:
        self.check_exists()
        self.trigger_event(self.GroupDeleted, timestamp=at, actor=actor)
