"""The directory read model: operators (status, since when, groups, load) and groups.

It also serves routing as its ``RoutingView``: a recent picture of every operator that the
application ranks, then checks candidate by candidate on the aggregates themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor

from domain.chat import Chat
from domain.group import Group
from domain.operator import Operator
from domain.routing import Candidate
from projections.machinery.keyset import decode_key, encode_key
from projections.machinery.readmodel import Index, ReadModel, Table

OPERATOR_COLUMNS = (
    "id, first_name, last_name, email, role, group_ids, max_chats, status, status_since, "
    "load, last_assigned_at, active, auto_logout_s, registered_at"
)
GROUP_COLUMNS = "id, name, description, sl_first_response_s, sl_next_response_s, routing"


@dataclass
class _ChatsChange:
    """What one batch's chats did to an operator: a load delta, its last assignment and
    its last activity."""

    load: int = 0
    last_assigned_at: datetime | None = None
    last_active_at: datetime | None = None


class Directory(ReadModel):
    name = "directory"
    tables = (
        Table(
            "operators",
            """
            id uuid PRIMARY KEY,
            first_name text NOT NULL,
            last_name text NOT NULL,
            email text NOT NULL,
            role text NOT NULL,
            group_ids uuid[] NOT NULL,
            max_chats integer NOT NULL,
            status text NOT NULL,
            status_since timestamptz NOT NULL,
            load integer NOT NULL DEFAULT 0,
            last_assigned_at timestamptz,
            active boolean NOT NULL DEFAULT true,
            auto_logout_s integer NOT NULL DEFAULT 0,
            registered_at timestamptz NOT NULL,
            last_active_at timestamptz NOT NULL
            """,
            (Index("operators_group_ids", "USING gin (group_ids)"),),
        ),
        Table(
            "groups",
            """
            id uuid PRIMARY KEY,
            name text NOT NULL,
            description text NOT NULL,
            sl_first_response_s integer NOT NULL,
            sl_next_response_s integer NOT NULL,
            routing text NOT NULL,
            deleted boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL
            """,
        ),
    )

    # -- projection -----------------------------------------------------------------------------

    def __init__(self, datastore, application_name: str) -> None:
        super().__init__(datastore, application_name)
        # Within one batch, what chats change about each operator (written at its end, or
        # before any other change of that operator): load, last assignment, last activity.
        self._chats: dict[UUID, _ChatsChange] = {}

    def begin_batch(self) -> None:
        super().begin_batch()
        self._chats = {}

    def end_batch(self, curs: Cursor) -> None:
        self._write_chats(curs, list(self._chats))
        self.begin_batch()

    def _write_chats(self, curs: Cursor, operator_ids: list[UUID]) -> None:
        changes = [self._chats.pop(operator_id) for operator_id in operator_ids]
        if not changes:
            return
        curs.execute(
            f"UPDATE {self.table('operators')} AS o SET load = o.load + c.load, "
            "last_assigned_at = COALESCE(c.assigned, o.last_assigned_at), "
            "last_active_at = GREATEST(o.last_active_at, c.active) "
            "FROM unnest(%s::uuid[], %s::int[], %s::timestamptz[], %s::timestamptz[]) "
            "AS c(id, load, assigned, active) WHERE o.id = c.id",
            (
                operator_ids,
                [c.load for c in changes],
                [c.last_assigned_at for c in changes],
                [c.last_active_at for c in changes],
            ),
        )

    def _chats_of(self, operator_id: UUID) -> _ChatsChange:
        return self._chats.setdefault(operator_id, _ChatsChange())

    @singledispatchmethod
    def apply(self, event: Any, curs: Cursor) -> None:
        """Events the directory does not show change nothing here."""

    @apply.register
    def _(self, e: Operator.OperatorRegistered, curs: Cursor) -> None:
        curs.execute(
            f"INSERT INTO {self.table('operators')} (id, first_name, last_name, email, role, "
            "group_ids, max_chats, status, status_since, registered_at, last_active_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'offline', %s, %s, %s)",
            (
                e.originator_id,
                e.first_name,
                e.last_name,
                e.email,
                e.role,
                list(e.group_ids),
                e.max_chats,
                e.timestamp,
                e.timestamp,
                e.timestamp,
            ),
        )

    @apply.register
    def _(self, e: Operator.ProfileUpdated, curs: Cursor) -> None:
        self._update_operator(
            curs,
            e.originator_id,
            first_name=e.first_name,
            last_name=e.last_name,
            email=e.email,
            role=e.role,
            auto_logout_s=e.auto_logout_s,
        )

    @apply.register
    def _(self, e: Operator.StatusChanged, curs: Cursor) -> None:
        self._update_operator(
            curs,
            e.originator_id,
            status=e.status,
            status_since=e.timestamp,
            last_active_at=e.timestamp,
        )

    # What an operator does in chats counts as activity (for marking idle operators absent).
    @apply.register
    def _(self, e: Chat.Intercepted, curs: Cursor) -> None:
        self._touch(curs, e.operator_id, e.timestamp)

    @apply.register
    def _(self, e: Chat.MessagePosted, curs: Cursor) -> None:
        if e.author == "operator" and e.author_id:
            self._touch(curs, UUID(e.author_id), e.timestamp)

    def _touch(self, curs: Cursor, operator_id: UUID, at: datetime) -> None:
        change = self._chats_of(operator_id)
        change.last_active_at = max(change.last_active_at or at, at)

    @apply.register
    def _(self, e: Operator.GroupsChanged, curs: Cursor) -> None:
        self._update_operator(curs, e.originator_id, group_ids=list(e.group_ids))

    @apply.register
    def _(self, e: Operator.CapacityChanged, curs: Cursor) -> None:
        self._update_operator(curs, e.originator_id, max_chats=e.max_chats)

    @apply.register
    def _(self, e: Operator.ChatTaken, curs: Cursor) -> None:
        change = self._chats_of(e.originator_id)
        change.load += 1
        change.last_assigned_at = e.timestamp

    @apply.register
    def _(self, e: Operator.ChatReleased, curs: Cursor) -> None:
        self._chats_of(e.originator_id).load -= 1

    @apply.register
    def _(self, e: Operator.Deactivated, curs: Cursor) -> None:
        self._update_operator(curs, e.originator_id, active=False)

    @apply.register
    def _(self, e: Group.GroupCreated, curs: Cursor) -> None:
        curs.execute(
            f"INSERT INTO {self.table('groups')} (id, name, description, sl_first_response_s, "
            "sl_next_response_s, routing, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                e.originator_id,
                e.name,
                e.description,
                e.sl_first_response_s,
                e.sl_next_response_s,
                e.routing,
                e.timestamp,
            ),
        )

    @apply.register
    def _(self, e: Group.GroupUpdated, curs: Cursor) -> None:
        curs.execute(
            f"UPDATE {self.table('groups')} SET name = %s, description = %s, "
            "sl_first_response_s = %s, sl_next_response_s = %s, routing = %s WHERE id = %s",
            (
                e.name,
                e.description,
                e.sl_first_response_s,
                e.sl_next_response_s,
                e.routing,
                e.originator_id,
            ),
        )

    @apply.register
    def _(self, e: Group.GroupDeleted, curs: Cursor) -> None:
        curs.execute(
            f"UPDATE {self.table('groups')} SET deleted = true WHERE id = %s", (e.originator_id,)
        )

    def _update_operator(self, curs: Cursor, operator_id: UUID, **values: Any) -> None:
        if operator_id in self._chats:  # what came before this change, first
            self._write_chats(curs, [operator_id])
        assignments = ", ".join(f"{column} = %s" for column in values)
        curs.execute(
            f"UPDATE {self.table('operators')} SET {assignments} WHERE id = %s",
            (*values.values(), operator_id),
        )

    # -- queries --------------------------------------------------------------------------------

    def operators(
        self,
        *,
        group_id: UUID | None = None,
        status: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Active operators by name, keyset-paginated on (last_name, first_name, id)."""
        where, params = ["active"], []
        if group_id is not None:
            where.append("%s = ANY(group_ids)")
            params.append(group_id)
        if status is not None:
            where.append("status = %s")
            params.append(status)
        if cursor is not None:
            where.append("(last_name, first_name, id::text) > (%s, %s, %s)")
            params.extend(decode_key(cursor, 3))
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT {OPERATOR_COLUMNS} FROM {self.table('operators')} "
                f"WHERE {' AND '.join(where)} ORDER BY last_name, first_name, id::text LIMIT %s",
                (*params, limit + 1),
            )
            rows = curs.fetchall()
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_key(last["last_name"], last["first_name"], str(last["id"]))

    def idle_operators(
        self, now: datetime, default_minutes: int | None, limit: int = 500
    ) -> list[tuple[UUID, datetime]]:
        """Working operators idle past their own ``auto_logout_s``, else the company's limit.

        Returns (operator id, last activity) pairs for the scheduler to confirm and act on.
        """
        default_s = default_minutes * 60 if default_minutes else 0
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT id, last_active_at FROM {self.table('operators')} "
                "WHERE active AND status = 'working' "
                "AND COALESCE(NULLIF(auto_logout_s, 0), %s) > 0 AND last_active_at "
                "<= %s - make_interval(secs => COALESCE(NULLIF(auto_logout_s, 0), %s)) "
                "ORDER BY last_active_at LIMIT %s",
                (default_s, now, default_s, limit),
            )
            return [(row["id"], row["last_active_at"]) for row in curs.fetchall()]

    def groups_of(self, operator_id: UUID) -> list[UUID]:
        """The groups an operator belongs to (none for an unknown operator)."""
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT group_ids FROM {self.table('operators')} WHERE id = %s", (operator_id,)
            )
            row = curs.fetchone()
        return list(row["group_ids"]) if row is not None else []

    def groups(self) -> list[dict[str, Any]]:
        with self.datastore.transaction() as curs:
            curs.execute(
                f"SELECT {GROUP_COLUMNS} FROM {self.table('groups')} WHERE NOT deleted "
                "ORDER BY name, id"
            )
            return curs.fetchall()


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
        with self.directory.datastore.transaction() as curs:
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
        with self.directory.datastore.transaction() as curs:
            curs.execute(
                f"SELECT id FROM {self.directory.table('operators')} WHERE %s = ANY(group_ids)",
                (group_id,),
            )
            return [row["id"] for row in curs.fetchall()]

    def catch_up(self, timeout: float) -> bool:
        head = self._head()
        return head is None or self._wait(head, timeout)
