"""The dashboard's queries at scale: no tab, filter, page or deadline reads the whole table.

~100k synthetic rows go straight into ``dashboard_chats`` (and the groups they name into
``dashboard_groups``), then every statement the dashboard really runs is captured on its way to
PostgreSQL and EXPLAINed there with the same parameters.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.sql import SQL, Identifier, Literal

from infrastructure.bootstrap import Services
from projections.dashboard import ORDER, TABS, Dashboard, Viewer
from projections.machinery.keyset import encode_key

SYNTHETIC_ROWS = 100_000
GROUPS = 10
OPERATORS = 50
T0 = datetime.fromisoformat("2026-06-01T12:00:00+00:00")  # "now" for the synthetic data
TABLE = "dashboard_chats"


def seq_scans(plan: dict[str, Any], table: str) -> list[str]:
    """The plan nodes that read ``table`` from end to end."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") == table:
        found.append(json.dumps({k: v for k, v in plan.items() if k != "Plans"}))
    for child in plan.get("Plans", []):
        found.extend(seq_scans(child, table))
    return found


class RecordingCursor:
    """The real cursor, noting each statement it runs."""

    def __init__(self, inner: Any, log: list[tuple[str, tuple[Any, ...]]]) -> None:
        self._inner = inner
        self._log = log

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self._log.append((query, tuple(params or ())))
        return self._inner.execute(query, params, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RecordingDatastore:
    """The dashboard's datastore, its cursors (in a transaction or not) wrapped in
    ``RecordingCursor``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.log: list[tuple[str, tuple[Any, ...]]] = []

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[RecordingCursor]:
        with self._inner.transaction(commit=commit) as curs:
            yield RecordingCursor(curs, self.log)

    @contextmanager
    def cursor(self) -> Iterator[RecordingCursor]:
        with self._inner.cursor() as curs:
            yield RecordingCursor(curs, self.log)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def groups_of(n: int, groups: list[UUID]) -> frozenset[UUID]:
    """Operator number ``n``'s groups: one to three of them."""
    return frozenset(groups[(n + k * 3) % GROUPS] for k in range(1 + n % 3))


def fill(dashboard: Dashboard, groups: list[UUID], operators: list[UUID]) -> None:
    """Chats ~90% closed over 30 days, the rest open; every third group routed by hand."""
    with dashboard.datastore.transaction(commit=True) as curs:
        curs.executemany(
            f"INSERT INTO {dashboard.table('dashboard_groups')} (group_id, routing, deleted) "
            "VALUES (%s, %s, %s)",
            [(g, "manual" if n % 3 == 0 else "auto", n == 4) for n, g in enumerate(groups)],
        )
        # h/g/o: a deterministic hash of the row number picks its status, group and operator.
        curs.execute(
            f"INSERT INTO {dashboard.table(TABLE)} (id, external_id, status, group_id, "
            "operator_id, client, client_label, topic, subtopic, requested_at, closed_at, "
            "waiting_since, sl_due_at, operator_replied, muted, muted_until, last_activity_at, "
            "rating, last_message_text, last_message_author, last_message_at, position) "
            "SELECT gen_random_uuid(), 'ext-' || i, status, (%(groups)s::uuid[])[1 + g], "
            "CASE WHEN status <> 'queued' THEN (%(operators)s::uuid[])[1 + o] END, "
            "jsonb_build_object('id', 'u' || i, 'channel', 'web'), 'Client #' || i, "
            "'topic' || i %% 20, 'sub' || i %% 100, requested_at, "
            "CASE WHEN status = 'closed' THEN requested_at + (5 + h %% 115) * interval '1 minute' "
            "END, "
            "CASE WHEN status IN ('queued', 'assigned') OR (status = 'active' AND h %% 2 = 0) "
            "THEN requested_at END, "
            "CASE WHEN status IN ('queued', 'assigned') OR (status = 'active' AND h %% 2 = 0) "
            "THEN requested_at + interval '2 minutes' END, "
            "status IN ('active', 'closed'), "
            # ~5%% of open chats muted (half with a deadline), and a few closed ones left so.
            "muted, CASE WHEN muted AND (h / 3) %% 2 = 0 THEN %(t0)s + (h %% 240 - 120) * interval "
            "'1 minute' END, "
            "CASE WHEN status = 'closed' THEN requested_at + (5 + h %% 115) * interval '1 minute' "
            "ELSE requested_at + (h %% 90) * interval '1 minute' END, "
            "CASE WHEN status = 'closed' AND h %% 3 = 0 THEN 1 + h %% 5 END, "
            "'hello ' || i, 'client', requested_at, i "
            "FROM ("
            "  SELECT i, h, h %% 10 AS g, (h / 10) %% 50 AS o, "
            "  CASE WHEN i %% 10 = 0 "
            "    THEN (ARRAY['queued', 'assigned', 'active'])[1 + (h / 500) %% 3] "
            "    ELSE 'closed' END AS status, "
            "  CASE WHEN i %% 10 = 0 "
            "    THEN %(t0)s - (i %% 2000) * interval '1 minute' "  # open: the last ~33 hours
            "    ELSE %(t0)s - i * interval '26 seconds' END AS requested_at, "  # ~30 days
            "  (h / 100000) %% CASE WHEN i %% 10 = 0 THEN 20 ELSE 100 END = 0 AS muted "
            "  FROM (SELECT i, hashint4(i) & 2147483647 AS h "
            "        FROM generate_series(1, %(rows)s) AS i) AS n"
            ") AS r",
            {"groups": groups, "operators": operators, "rows": SYNTHETIC_ROWS, "t0": T0},
        )
        curs.execute(f"ANALYZE {dashboard.table(TABLE)}")
        curs.execute(f"ANALYZE {dashboard.table('dashboard_groups')}")


def any_cursor(dashboard: Dashboard, tab: str) -> str:
    """A cursor from a real row in the middle of ``tab``'s order, for pages that have none."""
    column, _ = ORDER[tab]
    with dashboard.datastore.transaction() as curs:
        curs.execute(
            f"SELECT {column} AS value, id FROM {dashboard.table(TABLE)} "
            f"WHERE {column} IS NOT NULL ORDER BY {column}, id OFFSET %s LIMIT 1",
            (SYNTHETIC_ROWS // 50,),
        )
        row = curs.fetchone()
    return encode_key(row["value"].isoformat(), str(row["id"]))


def explain(conn: psycopg.Connection, sql: str, params: tuple[Any, ...]) -> dict[str, Any]:
    """The plan PostgreSQL makes for these very values, as on a statement's first runs."""
    explained = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()[0]
    return explained[0]["Plan"]


def explain_generic(
    conn: psycopg.Connection, name: str, sql: str, params: tuple[Any, ...]
) -> dict[str, Any]:
    """The plan for any values: what a statement psycopg has prepared may settle on.

    psycopg prepares a query after a few runs on a connection, and PostgreSQL may then keep
    one generic plan for it; ``force_generic_plan`` shows that plan now.
    """
    assert "%%" not in sql and sql.count("%s") == len(params), sql
    numbers = iter(range(1, len(params) + 1))
    conn.execute(f"PREPARE {name} AS {re.sub('%s', lambda _: f'${next(numbers)}', sql)}")
    values = SQL(", ").join(Literal(value) for value in params)
    query = SQL("EXPLAIN (FORMAT JSON) EXECUTE {} ({})").format(Identifier(name), values)
    explained = conn.execute(query).fetchone()[0]
    return explained[0]["Plan"]


def test_no_dashboard_query_reads_the_whole_table_at_100k_rows(
    container: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    dashboard = container.dashboard
    groups = [uuid.uuid4() for _ in range(GROUPS)]
    operators = [uuid.uuid4() for _ in range(OPERATORS)]
    fill(dashboard, groups, operators)

    fallback = {tab: any_cursor(dashboard, tab) for tab in TABS}
    recorder = RecordingDatastore(dashboard.datastore)
    monkeypatch.setattr(dashboard, "datastore", recorder)

    viewers = {
        "operator": Viewer(operators[7], supervises=False, group_ids=groups_of(7, groups)),
        "supervisor": Viewer(operators[0], supervises=True),
        "admin": Viewer(None, supervises=True),
    }
    filters: list[dict[str, Any]] = [
        {},
        {"operator_id": operators[7]},
        {"operator_id": operators[12]},
        {"group_id": groups[7 % GROUPS]},  # one of the operator viewer's own groups
        {"group_id": groups[4]},
        {"operator_id": operators[12], "group_id": groups[4]},
    ]
    statements: list[tuple[str, str, tuple[Any, ...]]] = []
    for tab in TABS:
        for who, viewer in viewers.items():
            for options in filters:
                label = f"rows({tab!r}, {who}, {options})"
                recorder.log.clear()
                _, cursor = dashboard.rows(tab, viewer, **options)
                (first,) = recorder.log
                recorder.log.clear()
                dashboard.rows(tab, viewer, cursor=cursor or fallback[tab], **options)
                (second,) = recorder.log
                statements.append((label, *first))
                statements.append((f"{label} cursor={'real' if cursor else 'made'}", *second))
    recorder.log.clear()
    assert dashboard.expired_mutes(T0)
    assert dashboard.quiet_chats(T0 - timedelta(minutes=10))
    assert dashboard.overdue_chats(T0)
    dashboard.overdue_held_chats(T0 - timedelta(minutes=10))
    statements.append(("expired_mutes", *recorder.log[0]))
    statements.append(("quiet_chats", *recorder.log[1]))
    statements.append(("overdue_chats", *recorder.log[2]))
    statements.append(("overdue_held_chats", *recorder.log[3]))
    recorder.log.clear()
    assert dashboard.waiting(200)
    statements.append(("waiting", *recorder.log[0]))
    recorder.log.clear()
    assert dashboard.stranded(200)  # the synthetic queue of a deleted group
    statements.append(("stranded", *recorder.log[0]))
    # The live stream: a client resuming a little behind the log reads what changed since.
    for who, viewer in viewers.items():
        recorder.log.clear()
        if not viewer.supervises:
            viewer = replace(viewer, group_ids=frozenset(groups[:3]))
        dashboard.changes_between(SYNTHETIC_ROWS - 300, SYNTHETIC_ROWS, viewer=viewer)
        statements.append((f"changes_between({who}) rows", *recorder.log[0]))
        statements.append((f"changes_between({who}) departures", *recorder.log[1]))
    monkeypatch.undo()

    failures = []
    # A connection of the test's own: its prepared statements and settings end with it.
    with container.database.connect(autocommit=True) as conn:
        plans = [
            (label, sql, params, explain(conn, sql, params)) for label, sql, params in statements
        ]
        conn.execute("SET plan_cache_mode = force_generic_plan")
        plans += [
            (f"{label} [generic plan]", sql, params, explain_generic(conn, f"q{n}", sql, params))
            for n, (label, sql, params) in enumerate(statements)
        ]
    for label, sql, params, plan in plans:
        if seq_scans(plan, TABLE):
            failures.append(f"{label}\n  {sql}\n  {params}\n{json.dumps(plan, indent=1)}")
    assert not failures, "Seq Scan on dashboard_chats:\n\n" + "\n\n".join(failures)
