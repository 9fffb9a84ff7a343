"""What a batch writes at its end, one statement or so per table: its stopped clocks, the
running ones, the chats it changed, and the roll-up's upkeep.

In the roll-up, chats that changed move their counts from where their stored row put them to
where they are now; stopped clocks add to their hours' tallies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from domain.clocks import ChatClocks, ResponseFact
from projections.reports.rollup import (
    ALL_GROUPS,
    COLUMNS,
    COUNTED,
    NO_GROUP,
    OPERATOR,
    ChatTally,
    ReportChat,
    ResponseTally,
    duration_bucket,
)
from projections.reports.tables import hours_tables

Tables = Callable[[str], str]  # a table's name as the read model's schema qualifies it
CHAT_COLUMNS = tuple(f.name for f in fields(ReportChat))
# A row's values, shallow: ``dataclasses.astuple`` deep-copies every field, a third of a rebuild.
_chat_row, _tally_row = attrgetter(*CHAT_COLUMNS), attrgetter(*COLUMNS)
# The roll-up's rows go in one statement per table, as arrays of their columns' types.
_CHAT_HOUR_ARRAYS = ", ".join(
    "%b::float8[]"
    if name == "queue_wait_max_s"
    else "%b::bigint[]"
    if name == "queue_wait_us"
    else "%b::int[]"
    for name in COLUMNS
)
# The chats' rows likewise: each column an array of its type.
_CHAT_TYPES = {
    "id": "uuid",
    "group_id": "uuid",
    "requested_at": "timestamptz",
    "operator_id": "uuid",
    "closed_at": "timestamptz",
    "operator_replied": "bool",
    "rating": "smallint",
    "queued": "bool",
    "queued_since": "timestamptz",
    "queue_wait_s": "float8",
}
_CHAT_ARRAYS = ", ".join(f"%b::{_CHAT_TYPES[name]}[]" for name in CHAT_COLUMNS)
_RESPONSE_COLUMNS = (
    "hour, scope, kind, answered, within_sl, duration_us, max_s, unanswered, "
    "histogram_from, histogram"
)


def read_apart(curs: Cursor, sql: str, params: Any) -> list[dict[str, Any]]:
    """Rows read within a batch, on a cursor of their own: in pipeline mode the batch's cursor
    may still be handed the results of the writes sent before the read."""
    with curs.connection.cursor(row_factory=dict_row) as reader:
        reader.execute(sql, params)
        return reader.fetchall()


def write_facts(curs: Cursor, table: Tables, facts: list[ResponseFact]) -> None:
    rows = [
        (
            fact.chat_id,
            fact.number,
            fact.kind,
            fact.group_id,
            fact.operator_id,
            fact.started_at,
            fact.stopped_at,
            fact.duration_s,
            duration_bucket(fact.duration_s),
            fact.sl_s,
            fact.within_sl,
            fact.answered,
        )
        for fact in facts
    ]
    curs.execute(
        f"INSERT INTO {table('sla_facts')} (chat_id, number, kind, group_id, "
        "operator_id, started_at, stopped_at, duration_s, duration_bucket, sl_s, "
        "within_sl, answered) SELECT * FROM unnest(%b::uuid[], %b::int[], %b::text[], "
        "%b::uuid[], %b::uuid[], %b::timestamptz[], %b::timestamptz[], %b::float8[], "
        "%b::smallint[], %b::int[], %b::bool[], %b::bool[])",
        [list(column) for column in zip(*rows, strict=True)],
    )


def write_clocks(
    curs: Cursor, table: Tables, *, done: list[UUID], running: list[ChatClocks]
) -> None:
    """Forget the clocks of chats whose clocks are over; keep the running ones', in one
    statement (a statement per chat cost the server more than its rows)."""
    if done:
        curs.execute(f"DELETE FROM {table('sla_chat_state')} WHERE chat_id = ANY(%b)", (done,))
    if running:
        curs.execute(
            f"INSERT INTO {table('sla_chat_state')} (chat_id, state) SELECT chat_id, "
            "state::jsonb FROM unnest(%b::uuid[], %b::text[]) AS s (chat_id, state) "
            "ON CONFLICT (chat_id) DO UPDATE SET state = EXCLUDED.state",
            ([c.chat_id for c in running], [json.dumps(c.to_json()) for c in running]),
        )


def write_chats(curs: Cursor, table: Tables, chats: list[ReportChat]) -> None:
    """The chats' rows, in one statement (a statement per chat cost the server more than its
    rows)."""
    columns = ", ".join(CHAT_COLUMNS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in CHAT_COLUMNS[1:])
    rows = [_chat_row(chat) for chat in chats]
    curs.execute(
        f"INSERT INTO {table('report_chats')} ({columns}) "
        f"SELECT * FROM unnest({_CHAT_ARRAYS}) ON CONFLICT (id) DO UPDATE SET {updates}",
        [list(column) for column in zip(*rows, strict=True)],
    )


def write_chat_hours(
    curs: Cursor, table: Tables, changed: list[tuple[ReportChat | None, ReportChat]]
) -> None:
    """Move each changed chat's counts (given as its stored row and its row now) from where
    the stored row put them to where they are now. A maximum wait taken back is recounted
    from the chats' rows (rare: a chat that left the queue went back to one, or moved).

    A chat adds the same to each of its scopes: its change is worked out once per hour for the
    scopes it stays in, leaves and joins, added up per such set of scopes, and spread over
    the scopes once per batch."""
    deltas: dict[tuple[datetime, tuple[str, ...]], ChatTally] = {}
    recount: set[tuple[datetime, tuple[str, ...]]] = set()
    for stored, chat in changed:
        old_scopes, old_hours = stored.counts() if stored is not None else ((), {})
        new_scopes, new_hours = chat.counts()
        for hour in old_hours.keys() | new_hours.keys():
            old_hour, new_hour = old_hours.get(hour), new_hours.get(hour)
            for scopes, old, new in _moves(old_scopes, old_hour, new_scopes, new_hour):
                if old == new:
                    continue
                delta = deltas.get((hour, scopes))
                if delta is None:
                    deltas[hour, scopes] = delta = ChatTally()
                if new is not None:
                    delta.merge(new)
                if old is not None:
                    delta.merge(old, sign=-1)
                    kept = new.queue_wait_max_s if new is not None else None
                    if old.queue_left and (kept is None or kept < old.queue_wait_max_s):
                        recount.add((hour, scopes))
    apart: dict[str, dict[tuple[datetime, str], ChatTally]] = {}
    for (hour, scopes), delta in deltas.items():
        for scope in scopes:
            part = apart.setdefault(hours_tables(scope)[1], {})
            total = part.get((hour, scope))
            if total is None:
                part[hour, scope] = total = ChatTally()
            total.merge(delta)
    recounted = {(hour, scope) for hour, scopes in recount for scope in scopes}
    for name, part in apart.items():
        _write_chat_deltas(curs, table, table(name), part, recounted & part.keys())


def _moves(
    old_scopes: tuple[str, ...],
    old: ChatTally | None,
    new_scopes: tuple[str, ...],
    new: ChatTally | None,
) -> tuple[tuple[tuple[str, ...], ChatTally | None, ChatTally | None], ...]:
    """A chat's tally in one hour, as it was and as it is, in the scopes it stays in, leaves
    and joins: (scopes, tally before, tally now), ``None`` where it counts nothing."""
    if old_scopes == new_scopes:
        return ((new_scopes, old, new),)
    stays = tuple(scope for scope in new_scopes if scope in old_scopes)
    leaves = tuple(scope for scope in old_scopes if scope not in stays)
    joins = tuple(scope for scope in new_scopes if scope not in stays)
    moves = ((stays, old, new), (leaves, old, None), (joins, None, new))
    return tuple(move for move in moves if move[0])


def _write_chat_deltas(
    curs: Cursor,
    table: Tables,
    hours_table: str,
    deltas: dict[tuple[datetime, str], ChatTally],
    recount: set[tuple[datetime, str]],
) -> None:
    columns = ", ".join(COLUMNS)
    sums = ", ".join(f"{name} = t.{name} + EXCLUDED.{name}" for name in COUNTED)
    rows = [(hour, scope, *_tally_row(delta)) for (hour, scope), delta in deltas.items()]
    curs.execute(
        f"INSERT INTO {hours_table} AS t (hour, scope, {columns}) "
        f"SELECT * FROM unnest(%b::timestamptz[], %b::text[], {_CHAT_HOUR_ARRAYS}) "
        f"ON CONFLICT (scope, hour) DO UPDATE SET {sums}, "
        "queue_wait_max_s = GREATEST(t.queue_wait_max_s, EXCLUDED.queue_wait_max_s)",
        [list(column) for column in zip(*rows, strict=True)],
    )
    if recount:
        hours, scopes = zip(*recount, strict=True)
        # A chat's scopes as ``rollup.scopes_of`` names them (no operator: NULL, no match).
        curs.execute(
            f"UPDATE {hours_table} AS t SET queue_wait_max_s = ("
            f"SELECT max(c.queue_wait_s) FROM {table('report_chats')} AS c "
            "WHERE c.requested_at >= t.hour AND c.requested_at < t.hour + interval '1 hour' "
            "AND c.queued AND c.queued_since IS NULL AND t.scope IN (%(all)s, "
            "COALESCE(c.group_id::text, %(none)s), %(operator)s || c.operator_id::text, "
            "%(operator)s || c.operator_id::text || ':' || COALESCE(c.group_id::text, %(none)s)"
            ")) WHERE (t.hour, t.scope) IN "
            "(SELECT * FROM unnest(%(hours)b::timestamptz[], %(scopes)b::text[]))",
            {
                "all": ALL_GROUPS,
                "none": NO_GROUP,
                "operator": OPERATOR,
                "hours": list(hours),
                "scopes": list(scopes),
            },
        )
    # A chat that moved away leaves nothing behind: the same rows as if it never was there.
    hours, scopes = zip(*deltas, strict=True)
    curs.execute(
        f"DELETE FROM {hours_table} WHERE (hour, scope) IN "
        "(SELECT * FROM unnest(%b::timestamptz[], %b::text[])) "
        "AND requested = 0 AND closed = 0",
        (list(hours), list(scopes)),
    )


def write_response_hours(
    curs: Cursor, table: Tables, tallies: dict[tuple[datetime, str, str], ResponseTally]
) -> None:
    """Add a batch's stopped clocks, per (UTC hour, scope, kind), to their hours' rows: read
    once, written once."""
    apart: dict[str, dict[tuple[datetime, str, str], ResponseTally]] = {}
    for key, tally in tallies.items():
        apart.setdefault(hours_tables(key[1])[0], {})[key] = tally
    for name, part in apart.items():
        _write_response_tallies(curs, table(name), part)


def _write_response_tallies(
    curs: Cursor, hours_table: str, tallies: dict[tuple[datetime, str, str], ResponseTally]
) -> None:
    hours, scopes, kinds = zip(*tallies, strict=True)
    stored = read_apart(
        curs,
        f"SELECT {_RESPONSE_COLUMNS} FROM {hours_table} WHERE (hour, scope, kind) IN "
        "(SELECT * FROM unnest(%b::timestamptz[], %b::text[], %b::text[]))",
        (list(hours), list(scopes), list(kinds)),
    )
    for row in stored:
        tallies[row["hour"], row["scope"], row["kind"]].merge(ResponseTally.from_row(row))
    rows = [
        (
            hour,
            scope,
            kind,
            t.answered,
            t.within_sl,
            t.duration_us,
            t.max_s,
            t.unanswered,
            *t.histogram.to_row(),
        )
        for (hour, scope, kind), t in tallies.items()
    ]
    curs.execute(
        f"INSERT INTO {hours_table} ({_RESPONSE_COLUMNS}) SELECT * FROM unnest("
        "%b::timestamptz[], %b::text[], %b::text[], %b::int[], %b::int[], %b::bigint[], "
        "%b::float8[], %b::int[], %b::smallint[], %b::bytea[]) "
        "ON CONFLICT (scope, hour, kind) DO UPDATE SET answered = EXCLUDED.answered, "
        "within_sl = EXCLUDED.within_sl, duration_us = EXCLUDED.duration_us, "
        "max_s = EXCLUDED.max_s, unanswered = EXCLUDED.unanswered, "
        "histogram_from = EXCLUDED.histogram_from, histogram = EXCLUDED.histogram",
        [list(column) for column in zip(*rows, strict=True)],
    )
