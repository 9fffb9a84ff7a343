"""The routing policy, as pure functions over a snapshot of the operators.

Target group: the handoff's group, else the default. Candidates: operators of that group in
status ``working`` with room under ``max_chats``; least loaded first, ties to whoever's last
assignment is oldest. None in the group: any working operator with room, in any group.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _order(candidate: Candidate) -> tuple:
    return (candidate.load, candidate.last_assigned_at or _NEVER, str(candidate.operator_id))


def rank_candidates(candidates: Iterable[Candidate], group_id: UUID | None) -> list[Candidate]:
    """Every operator who may take the chat, best first: the group's own, then the rest."""
    available = [c for c in candidates if c.available]
    in_group = sorted((c for c in available if group_id in c.group_ids), key=_order)
    elsewhere = sorted((c for c in available if group_id not in c.group_ids), key=_order)
    return in_group + elsewhere
