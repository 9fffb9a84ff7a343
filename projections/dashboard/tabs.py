"""The dashboard's tabs: one page of a tab, as the visibility rule lets a viewer see it.

A tab is its statuses (``TAB_STATUSES``) and, for the caller's own tabs, clauses of its own
(``tab_clauses``: whose chats, which queue), within what the visibility rule lets the viewer
see. ``in_tab`` is the same rule in Python; the SQL is rendered from the same clauses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED
from domain.visibility import (
    GROUP,
    OPERATOR,
    STATUSES,
    ChatFacts,
    Clause,
    Viewer,
    clauses,
    narrowed,
    sees,
)
from projections.dashboard.tables import CHAT_FACTS, ROW_COLUMNS
from projections.machinery.keyset import decode_time_key, encode_time_key
from projections.machinery.visibility import visible_where

TABS = ("mine", "queue", "closed", "all", "new", "active", "help")
# Each tab's order, newest or oldest first, as (column, direction).
ORDER = {
    "mine": ("requested_at", "ASC"),
    "queue": ("requested_at", "ASC"),
    "closed": ("closed_at", "DESC"),
    "all": ("requested_at", "DESC"),
    "new": ("requested_at", "ASC"),
    "active": ("requested_at", "ASC"),
    "help": ("requested_at", "ASC"),
}
# The statuses each tab shows.
TAB_STATUSES = {
    "mine": frozenset({ASSIGNED, ACTIVE}),
    "queue": frozenset({QUEUED}),
    "closed": frozenset({CLOSED}),
    "all": STATUSES,
    # Assigned to the caller and not yet intercepted, and the caller's groups' queues.
    "new": frozenset({ASSIGNED, QUEUED}),
    "active": frozenset({ACTIVE}),
    # Waiting in no group (a chat waiting in a deleted group is moved there).
    "help": frozenset({QUEUED}),
}


def tab_clauses(tab: str, viewer: Viewer) -> tuple[Clause, ...] | None:
    """What a tab asks of a chat beyond its statuses, any clause admitting it (``None``:
    nothing more; an empty tuple: no chat). The caller's own tabs go by their id and groups,
    whatever else a supervisor sees."""
    me = frozenset() if viewer.operator_id is None else frozenset({viewer.operator_id})
    if tab in ("mine", "active"):
        found = (Clause(OPERATOR, me),)
    elif tab == "new":
        found = (
            Clause(OPERATOR, me, frozenset({ASSIGNED})),
            Clause(GROUP, frozenset(viewer.group_ids), frozenset({QUEUED})),
        )
    elif tab == "help":
        found = (Clause(GROUP, frozenset({None})),)
    else:
        return None
    return tuple(clause for clause in found if clause.values)  # over no values: nothing


def tab_statuses(tab: str, status: str | None = None) -> frozenset[str]:
    """The statuses a tab shows, narrowed to ``status`` when one is asked for."""
    statuses = TAB_STATUSES[tab]
    return statuses if status is None else statuses & {status}


def in_tab(tab: str, viewer: Viewer, chat: ChatFacts, status: str | None = None) -> bool:
    """Whether the viewer's ``tab`` (with the ``status`` filter) shows the chat."""
    if chat.status not in tab_statuses(tab, status) or not sees(viewer, chat):
        return False
    own = tab_clauses(tab, viewer)
    return own is None or any(clause.admits(chat) for clause in own)


def tab_where(
    tab: str, viewer: Viewer, status: str | None = None, columns: dict[str, str] = CHAT_FACTS
) -> tuple[list[str], list[Any]]:
    """``in_tab`` as SQL conditions (all must hold) with their parameters, over ``columns``."""
    statuses = tab_statuses(tab, status)
    conditions = [(Clause(statuses=statuses),)] if statuses != STATUSES else []
    own = tab_clauses(tab, viewer)
    if own is not None:
        conditions.append(narrowed(own, statuses))
    # Only the rule's clauses the tab can show (a filter the indexes can serve).
    conditions.append(narrowed(clauses(viewer), statuses))
    where: list[str] = []
    params: list[Any] = []
    rendered: list[tuple[str, list[Any]]] = []
    for found in conditions:
        condition = visible_where(found, columns)
        if condition[0] != "true" and condition not in rendered:  # "mine": once
            rendered.append(condition)
            where.append(condition[0])
            params.extend(condition[1])
    return where, params


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
        status: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a tab as this viewer may see it (``status``: only chats in that
        status); returns rows and the next cursor."""
        column, direction = ORDER[tab]
        where, params = tab_where(tab, viewer, status)
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
        with self.datastore.cursor() as curs:
            curs.execute(sql, (*params, limit + 1))
            rows = curs.fetchall()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_time_key(rows[-1][column], rows[-1]["id"])
        return rows, next_cursor
