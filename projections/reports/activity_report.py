"""The operator activity report: seconds each operator spent in each status, per day."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor

from projections.reports.period import DAYS_SQL, Period
from projections.reports.sections import no_seconds, period_section
from projections.reports.upkeep import Tables


def read_operator_activity(
    curs: Cursor, table: Tables, period: Period, *, now: datetime, operator_id: UUID | None
) -> dict[str, Any]:
    """Each operator's status intervals cut at the period's days (an open one ends ``now``)."""
    where = "AND operator_id = %(operator)s" if operator_id is not None else ""
    curs.execute(
        f"WITH days AS ({DAYS_SQL}), spans AS ("
        "SELECT operator_id, status, started_at, COALESCE(ended_at, %(now)s) AS ended_at "
        f"FROM {table('operator_activity')} WHERE started_at < %(to)s "
        f"AND COALESCE(ended_at, %(now)s) > %(from)s {where}) "
        "SELECT s.operator_id, d.day, s.status, sum(EXTRACT(EPOCH FROM "
        "least(s.ended_at, d.ends) - greatest(s.started_at, d.starts)))::float8 AS seconds "
        "FROM spans s JOIN days d ON s.started_at < d.ends AND s.ended_at > d.starts "
        "WHERE s.ended_at > s.started_at "
        "GROUP BY s.operator_id, d.day, s.status ORDER BY s.operator_id, d.day",
        {**period.params(), "now": now, "operator": operator_id},
    )
    operators: dict[UUID, dict[str, Any]] = {}
    for row in curs.fetchall():
        entry = operators.setdefault(
            row["operator_id"],
            {"operator_id": row["operator_id"], "seconds": no_seconds(), "days": {}},
        )
        day = entry["days"].setdefault(row["day"], {"date": row["day"], "seconds": no_seconds()})
        day["seconds"][row["status"]] = row["seconds"]
        entry["seconds"][row["status"]] += row["seconds"]
    return {
        "period": period_section(period, "day"),
        "operators": [{**e, "days": list(e["days"].values())} for e in operators.values()],
    }
