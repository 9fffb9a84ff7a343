"""What the application needs from the outside, as protocols (adapters live elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from domain.routing import Candidate

T = TypeVar("T")


class RoutingView(Protocol):
    """A recent picture of every operator, to choose whom to try first.

    It may lag the event store by a few events: the application checks each candidate on the
    aggregate itself before assigning, so a stale picture costs a retry, never an invariant.
    """

    def candidates(self, group_id: UUID | None = None) -> Sequence[Candidate]:
        """Operators who may take a chat now; with ``group_id``, only that group's."""
        ...

    def group_members(self, group_id: UUID) -> Sequence[UUID]: ...

    def catch_up(self, timeout: float) -> bool:
        """Wait until the picture includes every event recorded so far."""
        ...


@dataclass(frozen=True)
class Done(Generic[T]):
    """A command's outcome: what it produced, the log position it reached, and whether it
    recorded anything (False: the state already was so, or there was nothing to do)."""

    value: T
    position: int | None
    recorded: bool = True


class WaitingChats(Protocol):
    def waiting(self, limit: int) -> list[UUID]:
        """Queued chats the engine may assign (no group, or a group that exists and routes
        automatically), oldest first (requested_at, id)."""
        ...

    def stranded(self, limit: int) -> list[UUID]:
        """Queued chats still in a deleted group (to move to the help queue), oldest first."""
        ...


class ChatDeadlines(Protocol):
    """Chats whose deadline has passed, as a read model sees them (the aggregate decides)."""

    def expired_mutes(self, now: datetime) -> list[UUID]:
        """Open chats whose timed mute is over."""
        ...

    def quiet_chats(self, before: datetime) -> list[UUID]:
        """Active chats nobody has written in after ``before``, the client not waiting."""
        ...

    def overdue_chats(self, now: datetime) -> list[UUID]:
        """Chats whose response clock ran past its SL before ``now``, not yet marked."""
        ...

    def overdue_held_chats(self, before: datetime) -> list[UUID]:
        """Chats an operator holds, marked overdue, whose SL passed before ``before``."""
        ...


class OperatorDeadlines(Protocol):
    def idle_operators(
        self, now: datetime, default_minutes: int | None
    ) -> list[tuple[UUID, datetime]]:
        """Working operators idle past their own limit, else ``default_minutes``, with
        when they were last active."""
        ...


class ReadModelPositions(Protocol):
    def wait(self, name: str, position: int, timeout: float) -> bool:
        """True once read model ``name`` has reached ``position``; False after ``timeout``."""
        ...


class AccessRecords(Protocol):
    """Hot facts about access, written on many requests and so kept outside the event log:
    failed sign-ins (the throttle), when each token was last used and last active, heartbeats.
    Shared by every process (PostgreSQL in production)."""

    def attempt(
        self, key: str, *, at: datetime, since: datetime, wait: Callable[[list[datetime]], float]
    ) -> float:
        """Atomically for ``key``: given its failures after ``since``, ``wait`` says how many
        seconds to wait; when 0, this attempt is recorded as a failure (``forget`` clears it)."""
        ...

    def forget(self, key: str) -> None:
        """A successful sign-in: the key's failures no longer count."""
        ...

    def touch(self, token_id: UUID, at: datetime, *, active: bool) -> None:
        """The token was used at ``at``; ``active``: by an action or a heartbeat."""
        ...

    def last_active(self, token_id: UUID) -> datetime | None: ...

    def last_used(self, token_ids: Sequence[UUID]) -> dict[UUID, datetime]: ...

    def heartbeat(self, operator_id: UUID, at: datetime) -> None: ...

    def last_heartbeat(self, operator_id: UUID) -> datetime | None: ...
