"""The visibility rule, one definition: for any chats and any viewer, the SQL filter the read
models run selects exactly the chats the Python predicate accepts (real PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from domain.chat import QUEUED
from domain.visibility import (
    RECORD,
    STATUSES,
    ChatFacts,
    Viewer,
    audience,
    clauses,
    departure_clauses,
    lost_sight,
    narrowed,
    saw,
    sees,
)
from projections.dashboard.tables import CHAT_FACTS, DEPARTURE_FACTS
from projections.dashboard.tabs import TAB_STATUSES, TABS, in_tab, tab_where
from projections.machinery.visibility import visible_where

# Few ids, so that random chats and viewers often meet.
OPERATORS = [uuid.UUID(int=n) for n in range(1, 5)]
GROUPS = [uuid.UUID(int=n) for n in range(101, 105)]
COLUMNS = {**CHAT_FACTS, "holders": "holders"}

maybe_operator = st.none() | st.sampled_from(OPERATORS)
maybe_group = st.none() | st.sampled_from(GROUPS)
chats = st.builds(
    ChatFacts,
    status=st.sampled_from(sorted(STATUSES)),
    operator_id=maybe_operator,
    group_id=maybe_group,
    holders=st.frozensets(st.sampled_from(OPERATORS)),
)
viewers = st.builds(
    Viewer,
    operator_id=maybe_operator,
    supervises=st.booleans(),
    group_ids=st.frozensets(st.sampled_from(GROUPS)),
)


@pytest.fixture(scope="module")
def conn(pg_server_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(pg_server_url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute(
            "CREATE TEMP TABLE chats (n int PRIMARY KEY, status text, operator_id uuid, "
            "group_id uuid, holders uuid[] NOT NULL)"
        )
        yield conn


def fill(conn: psycopg.Connection, rows: list[ChatFacts]) -> None:
    conn.execute("TRUNCATE chats")
    with conn.cursor() as curs:
        curs.executemany(
            "INSERT INTO chats VALUES (%s, %s, %s, %s, %s)",
            [
                (n, c.status, c.operator_id, c.group_id, sorted(c.holders))
                for n, c in enumerate(rows)
            ],
        )


def selected(conn: psycopg.Connection, rows: list[ChatFacts], found, columns) -> set[int]:
    """Which of ``rows`` the clauses' SQL selects."""
    fill(conn, rows)
    sql, params = visible_where(found, columns)
    return {row["n"] for row in conn.execute(f"SELECT n FROM chats WHERE {sql}", params)}


SLOW_DB = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SLOW_DB
@given(rows=st.lists(chats, max_size=25), viewer=viewers)
def test_the_sql_filter_selects_exactly_what_the_rule_accepts(
    conn: psycopg.Connection, rows: list[ChatFacts], viewer: Viewer
) -> None:
    # The live view: the dashboard's changes, the stream, the read check.
    expected = {n for n, chat in enumerate(rows) if sees(viewer, chat)}
    assert selected(conn, rows, clauses(viewer), COLUMNS) == expected
    # History: the chats an operator held.
    held = {n for n, chat in enumerate(rows) if sees(viewer, chat, RECORD)}
    assert selected(conn, rows, clauses(viewer, RECORD), COLUMNS) == held


@SLOW_DB
@given(rows=st.lists(chats, max_size=25), viewer=viewers, tab=st.sampled_from(sorted(TAB_STATUSES)))
def test_a_tab_narrows_the_rule_without_changing_what_it_shows(
    conn: psycopg.Connection, rows: list[ChatFacts], viewer: Viewer, tab: str
) -> None:
    statuses = TAB_STATUSES[tab]
    expected = {n for n, c in enumerate(rows) if c.status in statuses and sees(viewer, c)}
    tab_rows = selected(conn, rows, narrowed(clauses(viewer), statuses), COLUMNS)
    assert {n for n in tab_rows if rows[n].status in statuses} == expected


@SLOW_DB
@given(before=chats, after=chats, viewer=viewers)
def test_a_departure_reaches_exactly_who_lost_sight_of_the_chat(
    conn: psycopg.Connection, before: ChatFacts, after: ChatFacts, viewer: Viewer
) -> None:
    departure = lost_sight(before, after)
    if departure is None:
        assert audience(before) <= audience(after)
        return
    # Who saw the chat through what it left, in Python and in SQL over the departures' columns.
    sql_saw = selected(conn, [departure], departure_clauses(viewer), DEPARTURE_FACTS) == {0}
    assert saw(viewer, departure) is sql_saw
    # A viewer who saw it before and not after was told by the departure; nobody else was.
    if sees(viewer, before) and not sees(viewer, after):
        assert saw(viewer, departure)
    if saw(viewer, departure):
        assert sees(viewer, before)


@SLOW_DB
@given(
    rows=st.lists(chats, max_size=25),
    viewer=viewers,
    tab=st.sampled_from(TABS),
    status=st.none() | st.sampled_from(sorted(STATUSES)),
)
def test_a_tabs_sql_selects_exactly_the_chats_in_the_tab(
    conn: psycopg.Connection, rows: list[ChatFacts], viewer: Viewer, tab: str, status: str | None
) -> None:
    # The dashboard's query for a tab, over a table of these chats.
    fill(conn, rows)
    where, params = tab_where(tab, viewer, status, COLUMNS)
    sql = f"SELECT n FROM chats WHERE {' AND '.join(where) or 'true'}"
    found = {row["n"] for row in conn.execute(sql, params)}
    assert found == {n for n, chat in enumerate(rows) if in_tab(tab, viewer, chat, status)}


def test_the_help_queue_is_everyones() -> None:
    unrouted = ChatFacts(QUEUED, None, None)
    operator = Viewer(OPERATORS[0], group_ids=frozenset(GROUPS[:1]))
    stranger = Viewer(OPERATORS[1])  # in no group at all
    assert sees(operator, unrouted) and sees(stranger, unrouted)
    assert sees(Viewer(None, supervises=True), unrouted)
    assert sees(operator, ChatFacts(QUEUED, None, GROUPS[0]))
    assert not sees(stranger, ChatFacts(QUEUED, None, GROUPS[0]))
    assert not sees(operator, ChatFacts("assigned", OPERATORS[1], GROUPS[0]))
    assert not sees(stranger, ChatFacts("assigned", OPERATORS[2], None))
    # Taken from the help queue: everyone who saw it there is told, with the status it had.
    taken = lost_sight(unrouted, ChatFacts("active", OPERATORS[0], None))
    assert taken == ChatFacts(QUEUED, None, None)
    assert saw(stranger, taken) and saw(operator, taken)
    # Leaving an operator, a chat in no group tells nobody else.
    left = lost_sight(ChatFacts("active", OPERATORS[2], None), ChatFacts("active", None, None))
    assert left == ChatFacts(None, OPERATORS[2], None)
    assert not saw(stranger, left)
