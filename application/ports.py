"""What the application needs from the outside, as protocols (adapters live elsewhere)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
