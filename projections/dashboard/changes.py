"""The live stream's wire format: what a committed batch changed, and who lost sight of a chat.

A batch's changes are announced once it commits (``publish``) and read again by position when
a listener missed them (``changes_between``), filtered by the visibility rule for one viewer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from domain.visibility import ChatFacts, Viewer, clauses, departure_clauses
from projections.dashboard.tables import CHAT_FACTS, DEPARTURE_FACTS, ROW_COLUMNS
from projections.machinery.visibility import visible_where

ANNOUNCED_ROWS = 1_000  # a batch that changed more rows is announced without them: read them
_ROW_IDS = ("id", "operator_id", "group_id")
_DEPARTURE_IDS = ("chat_id", "operator_id", "group_id")


def row_facts(row: dict[str, Any]) -> ChatFacts:
    """A dashboard row as the visibility rule sees it."""
    return ChatFacts(row["status"], row["operator_id"], row["group_id"])


def departure_facts(departure: dict[str, Any]) -> ChatFacts:
    """A departure: the holder (``operator_id``) or group queue (``group_id``) a chat left,
    or (``status`` set) the help queue."""
    return ChatFacts(departure.get("status"), departure["operator_id"], departure["group_id"])


@dataclass
class DashboardChanges:
    """What one committed batch changed: rows as they now are, and who lost sight of a chat.

    ``rows`` is ``None`` when there were too many to carry: the listener reads them itself.
    A departure is a chat leaving an operator (``operator_id``), a group's queue
    (``group_id``) or the help queue (``status``) at ``position``.
    """

    after: int
    upto: int
    rows: list[dict[str, Any]] | None = field(default_factory=list)
    departures: list[dict[str, Any]] = field(default_factory=list)

    @cached_property
    def facts(self) -> dict[tuple[int, UUID], ChatFacts]:
        """Each row's facts for the rule, by position and chat (made once for every listener;
        one event may change several rows: a client card's phone relabels its chats)."""
        return {(row["position"], row["id"]): row_facts(row) for row in self.rows or ()}

    def to_json(self) -> bytes:
        body = {"after": self.after, "upto": self.upto, "rows": self.rows}
        body["departures"] = self.departures
        return json.dumps(body, default=_plain, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> DashboardChanges:
        body = json.loads(data)
        rows = body["rows"]
        return cls(
            after=int(body["after"]),
            upto=int(body["upto"]),
            rows=None if rows is None else [_with_ids(row, _ROW_IDS) for row in rows],
            departures=[_with_ids(d, _DEPARTURE_IDS) for d in body["departures"]],
        )


def _with_ids(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Ids arrive as text; the rule compares them as the read model holds them."""
    for key in keys:
        if item.get(key) is not None:
            item[key] = UUID(item[key])
    return item


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot announce {type(value).__name__}")


class LiveChanges:
    """The part of the dashboard the live stream reads: changes by position, per viewer."""

    datastore: PostgresDatastore
    publish: Callable[[DashboardChanges], None] | None
    table: Callable[[str], str]

    def changes(self, curs: Cursor, after: int, upto: int) -> DashboardChanges | None:
        if self.publish is None:
            return None
        return self._changes(curs, after, upto, limit=ANNOUNCED_ROWS)

    def announce(self, news: DashboardChanges) -> None:
        if self.publish is not None:
            self.publish(news)

    def changes_between(
        self,
        after: int,
        upto: int,
        *,
        viewer: Viewer | None = None,
        limit: int = ANNOUNCED_ROWS,
    ) -> DashboardChanges:
        """What changed in (after, upto], as this viewer sees it (``rows`` is ``None`` when
        more than ``limit`` rows changed: too far behind to catch up row by row)."""
        with self.datastore.transaction() as curs:
            return self._changes(curs, after, upto, limit=limit, viewer=viewer)

    def _changes(
        self, curs: Cursor, after: int, upto: int, *, limit: int, viewer: Viewer | None = None
    ) -> DashboardChanges:
        rows_where, rows_params = "true", []
        departures_where, departures_params = "true", []
        if viewer is not None:
            rows_where, rows_params = visible_where(clauses(viewer), CHAT_FACTS)
            departures_where, departures_params = visible_where(
                departure_clauses(viewer), DEPARTURE_FACTS
            )
        curs.execute(
            f"SELECT {ROW_COLUMNS} FROM {self.table('dashboard_chats')} "
            f"WHERE position > %s AND position <= %s AND {rows_where} ORDER BY position LIMIT %s",
            (after, upto, *rows_params, limit + 1),
        )
        rows: list[dict[str, Any]] | None = curs.fetchall()
        if len(rows) > limit:
            rows = None
        curs.execute(
            f"SELECT position, chat_id, operator_id, group_id, status "
            f"FROM {self.table('dashboard_departures')} "
            f"WHERE position > %s AND position <= %s AND {departures_where} ORDER BY position",
            (after, upto, *departures_params),
        )
        return DashboardChanges(after, upto, rows, curs.fetchall())
