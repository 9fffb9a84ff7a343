"""The sender's claim against real PostgreSQL, over any state of the outbox (hypothesis): it
leases, per webhook, the chats that can go, oldest first, up to the webhook's free requests;
for each, a run that begins at the chat's earliest pending delivery and takes the ones that
follow in order, each due and free, at most ``RUN``; and nothing else."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from infrastructure.config import Config
from infrastructure.webhook_sender import RUN, WebhookSender
from projections.events.tables import DELIVERIES, EVENTS, OUTBOX_DDL, WEBHOOKS

SCHEMA = "claims"
CAP = 2
WEBHOOKS_IDS = [uuid.UUID(int=k + 1) for k in range(2)]
CHATS = [uuid.UUID(int=100 + k) for k in range(4)]

# One delivery: its webhook, its chat, and its state.
delivery = st.tuples(
    st.sampled_from(WEBHOOKS_IDS),
    st.sampled_from(CHATS),
    st.sampled_from(["pending", "pending", "pending", "delivered", "failed"]),
    st.sampled_from([True, True, False]),  # due (next_attempt_at passed)
    st.sampled_from([False, False, True]),  # leased by someone else, the lease not over
)
# Every chat of one webhook ready, more of them than its free requests; a run longer than RUN.
CROWDED = [(WEBHOOKS_IDS[0], chat, "pending", True, False) for chat in CHATS] + [
    (WEBHOOKS_IDS[0], CHATS[0], "pending", True, False)
] * RUN


@pytest.fixture(scope="module")
def conninfo(pg_server_url: str) -> Iterator[str]:
    from tests.conftest import scratch_database

    with scratch_database(pg_server_url) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
            for table in (EVENTS, WEBHOOKS):
                conn.execute(table.table_ddl(SCHEMA))
            for ddl in OUTBOX_DDL:
                conn.execute(ddl)
        yield url


def load(conn: psycopg.Connection, rows: list[tuple[Any, ...]], inactive: set[uuid.UUID]) -> None:
    conn.execute(f"TRUNCATE {SCHEMA}.events, {SCHEMA}.webhooks, {DELIVERIES}")
    for webhook_id in WEBHOOKS_IDS:
        conn.execute(
            f"INSERT INTO {SCHEMA}.webhooks (id, url, events, secret, active, created_at) "
            "VALUES (%s, 'http://receiver.test/hook', '{}', 'whsec_x', %s, now())",
            (webhook_id, webhook_id not in inactive),
        )
    for position, (webhook_id, chat_id, status, due, leased) in enumerate(rows, start=1):
        conn.execute(
            f"INSERT INTO {SCHEMA}.events (position, id, type, chat_id, external_id, "
            "occurred_at, data) VALUES (%s, %s, 'message.created', %s, 'x', now(), '{}')",
            (position, f"evt_{position}", chat_id),
        )
        conn.execute(
            f"INSERT INTO {DELIVERIES} (webhook_id, position, event_id, chat_id, type, status, "
            "next_attempt_at, leased_until, scheduled_by) VALUES (%s, %s, %s, %s, "
            "'message.created', %s, now() + %s * interval '1 hour', "
            "CASE WHEN %s THEN now() + interval '1 hour' END, 0)",
            (webhook_id, position, f"evt_{position}", chat_id, status, 0 if due else 1, leased),
        )


def expected(
    rows: list[tuple[Any, ...]], inactive: set[uuid.UUID], in_flight: dict[uuid.UUID, int]
) -> set[tuple[uuid.UUID, int]]:
    """What the claim must lease, computed the slow way."""
    chats: dict[tuple[uuid.UUID, uuid.UUID], list[tuple[int, bool]]] = defaultdict(list)
    for position, (webhook_id, chat_id, status, due, leased) in enumerate(rows, start=1):
        if status == "pending" and webhook_id not in inactive:
            chats[webhook_id, chat_id].append((position, due and not leased))
    claimed = set()
    for webhook_id in WEBHOOKS_IDS:
        free = CAP - in_flight.get(webhook_id, 0)
        ready = sorted(
            (deliveries[0][0], chat_id)
            for (hook, chat_id), deliveries in chats.items()
            if hook == webhook_id and deliveries[0][1]
        )
        for _, chat_id in ready[: max(free, 0)]:
            for position, ok in chats[webhook_id, chat_id][:RUN]:
                if not ok:
                    break
                claimed.add((webhook_id, position))
    return claimed


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(rows=CROWDED, inactive=set(), in_flight={})
@example(rows=CROWDED, inactive=set(), in_flight={WEBHOOKS_IDS[0]: 1})
@given(
    rows=st.lists(delivery, max_size=40),
    inactive=st.sets(st.sampled_from(WEBHOOKS_IDS), max_size=1),
    in_flight=st.dictionaries(st.sampled_from(WEBHOOKS_IDS), st.integers(1, CAP)),
)
def test_a_claim_leases_exactly_the_runs_that_may_go(
    conninfo: str,
    rows: list[tuple[Any, ...]],
    inactive: set[uuid.UUID],
    in_flight: dict[uuid.UUID, int],
) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        load(conn, rows, inactive)
    config = Config(SWITCHBOARD_WEBHOOK_CONCURRENCY=CAP)
    sender = WebhookSender(config, conninfo, SCHEMA, None, lambda *_: None)  # type: ignore[arg-type]
    sender._in_flight.update(in_flight)

    async def claim() -> list[list[dict[str, Any]]]:
        async with await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, row_factory=dict_row
        ) as conn:
            return await sender._claim(conn)

    runs = asyncio.run(claim())

    assert {(row["webhook_id"], row["position"]) for run in runs for row in run} == expected(
        rows, inactive, in_flight
    )
    for run in runs:  # each run: one webhook's one chat, in log order
        assert len({(row["webhook_id"], row["chat_id"]) for row in run}) == 1
        assert [row["position"] for row in run] == sorted(row["position"] for row in run)
