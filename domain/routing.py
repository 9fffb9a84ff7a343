"""The routing policy, as pure functions over a snapshot of the operators.

Target group: the handoff's group, else the default. Candidates: operators of that group in
status ``working`` with room under ``max_chats``; least loaded first, ties to whoever's last
assignment is oldest (operators another command is giving a chat to right now go last), then a
per-process order (``salt``), so that processes ranking the same picture choose apart. None in
the group: any working operator with room, in any group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from domain.operator import WORKING

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    operator_id: UUID
    status: str
    group_ids: frozenset[UUID]
    load: int
    max_chats: int
    last_assigned_at: datetime | None = None

    @property
    def available(self) -> bool:
        return self.status == WORKING and self.load < self.max_chats


def rank_candidates(
    candidates: Iterable[Candidate],
    group_id: UUID | None,
    pending: Mapping[UUID, int] | None = None,
    salt: int = 0,
) -> list[Candidate]:
    """Every operator who may take the chat, best first: the group's own, then the rest.

    ``pending``: chats being given to an operator at this moment, not yet in the picture.
    Operators nobody is giving a chat to come first (two commands giving one operator a chat
    at once would collide on its version, and one would run again), then the rest; in each
    part, pending chats count as load, as they will once saved. Equally good operators are
    ordered by their id mixed with ``salt``: each process ranks with its own, so that two
    processes seeing the same picture do not keep racing for the same operator.
    """
    pending = pending or {}

    def order(candidate: Candidate) -> tuple:
        busy = pending.get(candidate.operator_id, 0)
        load = candidate.load + busy
        last = candidate.last_assigned_at or _NEVER
        return (busy > 0, load, last, candidate.operator_id.int ^ salt)

    available = [c for c in candidates if c.available]
    in_group = sorted((c for c in available if group_id in c.group_ids), key=order)
    elsewhere = sorted((c for c in available if group_id not in c.group_ids), key=order)
    return in_group + elsewhere
