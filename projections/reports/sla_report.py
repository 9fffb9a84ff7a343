"""The SLA report: the roll-up's whole hours plus the raw rows of the partial hours at the
edges of each day, for all groups, a group, an operator, or an operator within a group.

Each part (a day, or the period without buckets) is summed up from its own whole hours and
edges; the period's total is the sum of its days. Percentiles are exact (from the raw facts)
up to ``exact_up_to`` answered clocks of a kind in the period, else estimated from the
roll-up's histograms.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor

from domain.clocks import KINDS
from projections.reports.period import Day, Period
from projections.reports.rollup import (
    COLUMNS,
    HOUR,
    SCORES,
    ChatTally,
    Histogram,
    ResponseTally,
    report_scope,
    split_hours,
)
from projections.reports.sections import Percentiles, sla_report, sla_sections
from projections.reports.tables import hours_tables
from projections.reports.upkeep import Tables

Part = date | None  # a day of the report, or (``None``) its whole period
Spans = list[tuple[Part, datetime, datetime]]


def read_sla_report(
    curs: Cursor,
    table: Tables,
    period: Period,
    days: list[Day],
    *,
    bucket: str,
    group_id: UUID | None,
    operator_id: UUID | None,
    exact_up_to: int,
) -> dict[str, Any]:
    """The report over ``period`` (and each of ``days``), read on one snapshot by ``curs``."""
    parts = [(d.date, d.start, d.end) for d in days] or [(None, period.start, period.end)]
    hours: Spans = []  # each part's whole hours, as one span
    edges: Spans = []
    for key, start, end in parts:
        whole, outside = split_hours(start, end)
        if whole:
            hours.append((key, whole[0], whole[-1] + HOUR))
        edges += [(key, a, b) for a, b in outside]
    responses = {key: {kind: ResponseTally() for kind in KINDS} for key, _, _ in parts}
    chats = {key: ChatTally() for key, _, _ in parts}
    scope = report_scope(group_id, operator_id)
    tables = {name: table(name) for name in _READS}
    response_hours, chat_hours = hours_tables(scope)
    tables.update(report_response_hours=table(response_hours), report_chat_hours=table(chat_hours))
    chosen = {"scope": scope}
    if hours:
        _read_spans(curs, _HOURS_SQL, tables, chosen, hours, responses, chats)
    if edges:
        tables["filter"] = _filter(group_id, operator_id)
        chosen = {"group": group_id, "operator": operator_id}
        _read_spans(curs, _EDGES_SQL, tables, chosen, edges, responses, chats)
    if days:
        responses[None] = {kind: ResponseTally() for kind in KINDS}
        chats[None] = ChatTally()
        for key, _, _ in parts:
            chats[None].merge(chats[key])
            for kind in KINDS:
                responses[None][kind].merge(responses[key][kind])
    percentiles, estimated = _percentiles(
        curs, table, period, group_id, operator_id, responses, exact_up_to
    )
    sections = {
        key: sla_sections(responses[key], chats[key], percentiles[key]) for key in responses
    }
    return sla_report(period, bucket, estimated=estimated, sections=sections, days=days)


def _filter(group_id: UUID | None, operator_id: UUID | None) -> str:
    """The raw rows of a group, an operator, both or neither."""
    where = "AND group_id = %(group)s " if group_id is not None else ""
    return where + ("AND operator_id = %(operator)s" if operator_id is not None else "")


def _read_spans(
    curs: Cursor,
    sql: dict[str, Any],
    tables: dict[str, str],
    chosen: dict[str, Any],
    spans: Spans,
    responses: dict[Part, dict[str, ResponseTally]],
    chats: dict[Part, ChatTally],
) -> None:
    """Add up, for each part, the roll-up's rows of its whole hours (``_HOURS_SQL``) or the
    raw rows of the partial hours at its edges (``_EDGES_SQL``, summed up the same way)."""
    params = {
        "starts": [start for _, start, _ in spans],
        "ends": [end for _, _, end in spans],
        **chosen,
    }
    curs.execute(sql["facts"].format(**tables), params, binary=True)
    for row in curs.fetchall():
        tally = ResponseTally(
            answered=row["answered"],
            within_sl=row["within_sl"],
            duration_us=row["duration_us"],
            max_s=row["max_s"],
            unanswered=row["unanswered"],
            histogram=(
                Histogram.from_rows(row["buckets"] or [], row["histograms"] or [])
                if "histograms" in row
                else Histogram.from_counts(row["buckets"] or [], row["counts"] or [])
            ),
        )
        responses[spans[row["n"] - 1][0]][row["kind"]].merge(tally)
    for query in sql["chats"]:
        curs.execute(query.format(**tables), params)
        for row in curs.fetchall():
            n = row.pop("n")
            chats[spans[n - 1][0]].merge(ChatTally(**row))


def _percentiles(
    curs: Cursor,
    table: Tables,
    period: Period,
    group_id: UUID | None,
    operator_id: UUID | None,
    responses: dict[Part, dict[str, ResponseTally]],
    exact_up_to: int,
) -> tuple[dict[Part, dict[str, Percentiles]], bool]:
    """p50 and p90 of each part and kind: exact from the raw facts when the period holds up
    to ``exact_up_to`` answered clocks of the kind, else estimated from the histograms (the
    period and all its days alike: the exact pass stays bounded)."""
    percentiles: dict[Part, dict[str, Percentiles]] = {key: {} for key in responses}
    exact: set[tuple[Part, str]] = set()
    estimated = False
    in_period = {
        kind: sum(kinds[kind].answered for key, kinds in responses.items() if key is not None)
        if None not in responses
        else responses[None][kind].answered
        for kind in KINDS
    }
    for key, kinds in responses.items():
        for kind, tally in kinds.items():
            if tally.answered == 0:
                percentiles[key][kind] = (None, None)
            elif in_period[kind] <= exact_up_to:
                exact.add((key, kind))
                percentiles[key][kind] = (None, None)  # until the exact pass gives them
            else:
                p50, p90 = tally.histogram.percentiles((0.5, 0.9), tally.max_s)
                percentiles[key][kind], estimated = (p50, p90), True
    if exact:
        # One pass over the period's facts for every part, overall and by day.
        by_day = any(key is not None for key, _ in exact)
        sets = "(kind), (kind, day)" if by_day else "(kind)"
        day = "CASE WHEN GROUPING(day) = 0 THEN day END" if by_day else "NULL::date"
        curs.execute(
            _PERCENTILES_SQL.format(
                day=day,
                sets=sets,
                sla_facts=table("sla_facts"),
                filter=_filter(group_id, operator_id),
            ),
            {**period.params(), "group": group_id, "operator": operator_id},
        )
        for row in curs.fetchall():
            if (row["day"], row["kind"]) in exact:
                percentiles[row["day"]][row["kind"]] = (row["p50_s"], row["p90_s"])
    return percentiles, estimated


_READS = ("sla_facts", "report_chats")

# Each span (``n``, from 1: a part's whole hours, or a partial hour at its edge), summed up in
# one row per kind; the histograms as their rows' (first bucket, fields) to add up in Python.
# The spans are few: a lateral subquery each reads its range of an index.
_SPANS = (
    "unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) "
    "WITH ORDINALITY AS e(starts, ends, n)"
)
_CHAT_SUMS = ", ".join(
    f"max({name})::float8 AS {name}"
    if name == "queue_wait_max_s"
    else f"COALESCE(sum({name}), 0)::{'bigint' if name == 'queue_wait_us' else 'int'} AS {name}"
    for name in COLUMNS
)
_RESPONSE_SUMS = """sum(answered)::int AS answered, sum(within_sl)::int AS within_sl,
    COALESCE(sum(duration_us), 0)::bigint AS duration_us, max(max_s) AS max_s,
    sum(unanswered)::int AS unanswered,
    array_agg(histogram_from) FILTER (WHERE answered > 0) AS buckets"""

_HOURS_SQL = {
    "facts": f"""SELECT e.n, h.kind, {_RESPONSE_SUMS},
    array_agg(histogram) FILTER (WHERE answered > 0) AS histograms
FROM {_SPANS} CROSS JOIN LATERAL (SELECT * FROM {{report_response_hours}}
    WHERE scope = %(scope)s AND hour >= e.starts AND hour < e.ends) AS h
GROUP BY e.n, h.kind""",
    "chats": (
        f"""SELECT e.n, {_CHAT_SUMS}
FROM {_SPANS} CROSS JOIN LATERAL (SELECT * FROM {{report_chat_hours}}
    WHERE scope = %(scope)s AND hour >= e.starts AND hour < e.ends) AS h
GROUP BY e.n""",
    ),
}

# The partial hours, from the raw rows: the same sums over one "row" per duration bucket.
_MICROS = "(EXTRACT(EPOCH FROM stopped_at - started_at) * 1000000)::bigint"
_LEFT_QUEUE = "FILTER (WHERE queued AND queued_since IS NULL)"
_EDGES_SQL = {
    "facts": f"""SELECT e.n, b.kind, {_RESPONSE_SUMS},
    array_agg(answered) FILTER (WHERE answered > 0) AS counts
FROM {_SPANS} CROSS JOIN LATERAL (SELECT kind, duration_bucket AS histogram_from,
        count(*) FILTER (WHERE answered)::int AS answered,
        count(*) FILTER (WHERE answered AND within_sl)::int AS within_sl,
        sum({_MICROS}) FILTER (WHERE answered) AS duration_us,
        max(duration_s) FILTER (WHERE answered) AS max_s,
        count(*) FILTER (WHERE NOT answered)::int AS unanswered
    FROM {{sla_facts}} WHERE stopped_at >= e.starts AND stopped_at < e.ends {{filter}}
    GROUP BY kind, duration_bucket) AS b
GROUP BY e.n, b.kind""",
    "chats": (
        f"""SELECT e.n, c.* FROM {_SPANS} CROSS JOIN LATERAL (SELECT
    count(*)::int AS requested,
    count(*) {_LEFT_QUEUE}::int AS queue_left,
    COALESCE(sum(round(queue_wait_s * 1000000)::bigint) {_LEFT_QUEUE}, 0)::bigint
        AS queue_wait_us,
    max(queue_wait_s) {_LEFT_QUEUE} AS queue_wait_max_s,
    count(*) FILTER (WHERE queued_since IS NOT NULL)::int AS waiting
    FROM {{report_chats}} WHERE requested_at >= e.starts AND requested_at < e.ends {{filter}}
) AS c""",
        f"""SELECT e.n, c.* FROM {_SPANS} CROSS JOIN LATERAL (SELECT
    count(*)::int AS closed,
    count(*) FILTER (WHERE NOT operator_replied)::int AS abandoned,
    count(rating)::int AS rated,
    COALESCE(sum(rating), 0)::int AS rating_sum,
    {", ".join(f"count(*) FILTER (WHERE rating = {s})::int AS score_{s}" for s in SCORES)}
    FROM {{report_chats}} WHERE closed_at >= e.starts AND closed_at < e.ends {{filter}}
) AS c""",
    ),
}

_PERCENTILES_SQL = """SELECT kind, {day} AS day,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s) FILTER (WHERE answered) AS p50_s,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_s) FILTER (WHERE answered) AS p90_s
FROM (SELECT *, (stopped_at AT TIME ZONE %(tz)s)::date AS day FROM {sla_facts}
    WHERE stopped_at >= %(from)s AND stopped_at < %(to)s {filter}) AS facts
GROUP BY GROUPING SETS ({sets})"""
