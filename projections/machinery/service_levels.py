"""Groups' response service levels, as a read model that times responses keeps them.

The SL of a chat's group at the moment a clock stops applies (DESIGN.md, "SLA, defined
once"), so a read model that shows or counts clocks follows ``GroupCreated`` and
``GroupUpdated`` itself. Each such read model keeps its own table, so that it can be dropped and
rebuilt alone; this module is the one code that declares, fills and reads such a table.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Cursor

from domain.clocks import FIRST_RESPONSE, default_sl
from domain.group import Group
from projections.machinery.readmodel import Table


def service_level_table(name: str) -> Table:
    """The declaration of a read model's table of group service levels."""
    return Table(
        name,
        """
        group_id uuid PRIMARY KEY,
        sl_first_response_s integer NOT NULL,
        sl_next_response_s integer NOT NULL
        """,
    )


class ServiceLevels:
    """One read model's group service levels: its table, read once a batch, whole.

    A read in the middle of a pipelined batch waits for everything before it, so the table
    (a row per group) is read at the first need of a batch; what the batch itself changes
    is kept in memory and wins over the table's rows.
    """

    def __init__(self, table: str) -> None:
        self.table = table  # schema-qualified
        self._levels: dict[UUID, tuple[int, int]] = {}
        self._read = False

    def begin_batch(self) -> None:
        self._levels, self._read = {}, False

    def record(self, curs: Cursor, event: Group.GroupCreated | Group.GroupUpdated) -> None:
        """A group created or changed: stored, and seen by the rest of the batch."""
        levels = (event.sl_first_response_s, event.sl_next_response_s)
        self._levels[event.originator_id] = levels
        curs.execute(
            f"INSERT INTO {self.table} VALUES (%s, %s, %s) ON CONFLICT (group_id) DO UPDATE "
            "SET sl_first_response_s = EXCLUDED.sl_first_response_s, "
            "sl_next_response_s = EXCLUDED.sl_next_response_s",
            (event.originator_id, *levels),
        )

    def seconds(self, curs: Cursor, group_id: UUID | None, kind: str) -> int:
        """The group's service level for a clock of ``kind``, in seconds (the default for no
        group, or one this read model has not seen)."""
        levels = self._levels_of(curs, group_id) if group_id is not None else None
        if levels is None:
            return default_sl(kind)
        return levels[0] if kind == FIRST_RESPONSE else levels[1]

    def _levels_of(self, curs: Cursor, group_id: UUID) -> tuple[int, int] | None:
        if not self._read:
            curs.execute(
                f"SELECT group_id, sl_first_response_s, sl_next_response_s FROM {self.table}"
            )
            for row in curs.fetchall():
                self._levels.setdefault(row["group_id"], _pair(row))
            self._read = True
        return self._levels.get(group_id)


def _pair(row: dict[str, Any]) -> tuple[int, int]:
    return row["sl_first_response_s"], row["sl_next_response_s"]
