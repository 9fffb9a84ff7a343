"""The dashboard's tabs: one page of a tab, as the visibility rule lets a viewer see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED
from domain.visibility import STATUSES, Viewer, clauses, narrowed
from projections.dashboard.tables import CHAT_FACTS, ROW_COLUMNS
from projections.machinery.keyset import decode_time_key, encode_time_key
from projections.machinery.visibility import visible_where

TABS = ("mine", "queue", "closed", "all")
# Each tab's order, newest or oldest first, as (column, direction).
ORDER = {
    "mine": ("requested_at", "ASC"),
    "queue": ("requested_at", "ASC"),
    "closed": ("closed_at", "DESC"),
    "all": ("requested_at", "DESC"),
}
# The statuses each tab shows.
TAB_STATUSES = {
    "mine": frozenset({ASSIGNED, ACTIVE}),
    "queue": frozenset({QUEUED}),
    "closed": frozenset({CLOSED}),
    "all": STATUSES,
}


class TabQueries:
    """The part of the dashboard that serves its tabs."""

    datastore: PostgresDatastore
    table: Callable[[str], str]

    def rows(
        self,
        tab: str,
        viewer: Viewer,
        *,
        operator_id: UUID | None = None,
        group_id: UUID | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a tab as this viewer may see it; returns rows and the next cursor."""
        column, direction = ORDER[tab]
        where: list[str] = []
        params: list[Any] = []
        if tab == "mine":
            where.append("operator_id = %s AND status IN ('assigned', 'active')")
            params.append(viewer.operator_id)
        elif tab == "queue":
            where.append("status = 'queued'")
        elif tab == "closed":
            where.append("status = 'closed'")
        # Only the rule's clauses the tab can show (a filter the indexes can serve).
        sight, sight_params = visible_where(
            narrowed(clauses(viewer), TAB_STATUSES[tab]), CHAT_FACTS
        )
        if sight != "true":
            where.append(sight)
            params.extend(sight_params)
        if operator_id is not None:
            where.append("operator_id = %s")
            params.append(operator_id)
        if group_id is not None:
            where.append("group_id = %s")
            params.append(group_id)
        if cursor is not None:
            value, row_id = decode_time_key(cursor)
            where.append(f"({column}, id) {'>' if direction == 'ASC' else '<'} (%s, %s)")
            params.extend([value, row_id])
        sql = (
            f"SELECT {ROW_COLUMNS} FROM {self.table('dashboard_chats')} "
            f"WHERE {' AND '.join(where) or 'true'} "
            f"ORDER BY {column} {direction}, id {direction} LIMIT %s"
        )
        with self.datastore.transaction() as curs:
            curs.execute(sql, (*params, limit + 1))
            rows = curs.fetchall()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_time_key(rows[-1][column], rows[-1]["id"])
        return rows, next_cursor
