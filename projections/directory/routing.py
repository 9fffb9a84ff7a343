"""Routing's picture of the operators, from the directory: a recent one, that the application
ranks, then checks candidate by candidate on the aggregates themselves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from domain.routing import Candidate
from projections.directory.projection import Directory


class DirectoryRoutingView:
    """The application's ``RoutingView`` port, served by the directory read model."""

    def __init__(
        self,
        directory: Directory,
        *,
        head: Callable[[], int | None],
        wait: Callable[[int, float], bool],
    ) -> None:
        self.directory = directory
        self._head = head
        self._wait = wait

    def candidates(self, group_id: UUID | None = None) -> Sequence[Candidate]:
        in_group = "AND group_ids @> ARRAY[%s]::uuid[]" if group_id is not None else ""
        # One statement in autocommit: a transaction would add a BEGIN and a ROLLBACK, each a
        # round trip waited for, on every handoff.
        with self.directory.datastore.cursor() as curs:
            curs.execute(
                "SELECT id, status, group_ids, load, max_chats, last_assigned_at "
                f"FROM {self.directory.table('operators')} "
                f"WHERE active AND status = 'working' AND load < max_chats {in_group}",
                (group_id,) if group_id is not None else (),
            )
            return [
                Candidate(
                    operator_id=row["id"],
                    status=row["status"],
                    group_ids=frozenset(row["group_ids"]),
                    load=row["load"],
                    max_chats=row["max_chats"],
                    last_assigned_at=row["last_assigned_at"],
                )
                for row in curs.fetchall()
            ]

    def group_members(self, group_id: UUID) -> Sequence[UUID]:
        with self.directory.datastore.cursor() as curs:
            curs.execute(
                f"SELECT id FROM {self.directory.table('operators')} WHERE %s = ANY(group_ids)",
                (group_id,),
            )
            return [row["id"] for row in curs.fetchall()]

    def catch_up(self, timeout: float) -> bool:
        head = self._head()
        return head is None or self._wait(head, timeout)
