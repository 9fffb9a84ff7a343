"""The directory projection: operators (status, since when, groups, load), groups and the
tokens in force, kept from their events and from what operators do in chats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from psycopg import Cursor

from domain.access import ApiToken
from domain.chat import Chat
from domain.group import Group
from domain.operator import Operator
from projections.directory.queries import DirectoryQueries
from projections.directory.tables import TABLES
from projections.machinery.readmodel import ReadModel


@dataclass
class _ChatsChange:
    """What one batch's chats did to an operator: a load delta, its last assignment and
    its last activity."""

    load: int = 0
    last_assigned_at: datetime | None = None
    last_active_at: datetime | None = None


class Directory(DirectoryQueries, ReadModel):
    """The directory's projection (events to rows); its queries come from
    ``DirectoryQueries``."""

    name = "directory"
    tables = TABLES

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
            "FROM unnest(%b::uuid[], %b::int[], %b::timestamptz[], %b::timestamptz[]) "
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
            "group_ids, max_chats, auto_logout_s, status, status_since, registered_at, "
            "last_active_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'offline', %s, %s, %s)",
            (
                e.originator_id,
                e.first_name,
                e.last_name,
                e.email,
                e.role,
                list(e.group_ids),
                e.max_chats,
                e.auto_logout_s,  # their own idle limit, from the start (not only once changed)
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
    def _(self, e: Operator.Reactivated, curs: Cursor) -> None:
        self._update_operator(curs, e.originator_id, active=True)

    @apply.register
    def _(self, e: ApiToken.TokenIssued, curs: Cursor) -> None:
        self._add_token(curs, e, None)

    @apply.register
    def _(self, e: ApiToken.SessionStarted, curs: Cursor) -> None:
        self._add_token(curs, e, e.expires_at)

    def _add_token(self, curs: Cursor, e: Any, expires_at: datetime | None) -> None:
        curs.execute(
            f"INSERT INTO {self.table('tokens')} (id, role, name, operator_id, created_at, "
            "expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (e.originator_id, e.role, e.name, e.operator_id, e.timestamp, expires_at),
        )

    @apply.register
    def _(self, e: ApiToken.TokenRevoked, curs: Cursor) -> None:
        curs.execute(f"DELETE FROM {self.table('tokens')} WHERE id = %s", (e.originator_id,))

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
