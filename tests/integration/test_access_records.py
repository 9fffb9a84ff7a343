"""Access records in PostgreSQL: the sign-in throttle holds across processes (each with its
own pool), last use and activity only move forward, heartbeats; and the directory's token
list follows issue and revocation."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from uuid import uuid4

import pytest

from domain.throttle import LIMIT, WINDOW, seconds_to_wait
from infrastructure.access_records import PostgresAccessRecords
from infrastructure.database import Database
from tests.clock import FakeClock


@pytest.fixture
def stores(database_url: str) -> Iterator[tuple[PostgresAccessRecords, PostgresAccessRecords]]:
    """Two stores on separate pools, as two processes have them."""
    pools = [Database(database_url).read_store("public", pool_size=4) for _ in range(2)]
    first, second = (PostgresAccessRecords(pool) for pool in pools)
    first.create_tables()
    second.create_tables()  # twice is harmless
    yield first, second
    for pool in pools:
        pool.close()


def test_concurrent_attempts_in_two_processes_are_counted_once_each(stores):
    now = FakeClock().now()

    def attempt(index: int) -> float:
        store = stores[index % 2]
        return store.attempt(
            "anna@example.com",
            at=now,
            since=now - WINDOW,
            wait=lambda failures: seconds_to_wait(failures, now),
        )

    with ThreadPoolExecutor(8) as pool:
        waits = list(pool.map(attempt, range(24)))

    assert waits.count(0) == LIMIT
    assert all(wait > 0 for wait in waits if wait)


def test_failures_are_forgotten_and_leave_the_window(stores):
    first, second = stores
    now = FakeClock().now()

    def attempt(at) -> float:
        return first.attempt("k", at=at, since=at - WINDOW, wait=lambda f: seconds_to_wait(f, at))

    for _ in range(LIMIT):
        assert attempt(now) == 0
    assert attempt(now) == pytest.approx(WINDOW.total_seconds())
    second.forget("k")
    assert attempt(now) == 0
    later = now + WINDOW + timedelta(seconds=1)
    for _ in range(LIMIT):
        assert attempt(later) == 0  # the first ones left the window


def test_use_and_activity_only_move_forward(stores):
    first, second = stores
    token, now = uuid4(), FakeClock().now()
    first.touch(token, now, active=False)
    assert first.last_active(token) is None
    second.touch(token, now + timedelta(seconds=5), active=True)
    first.touch(token, now + timedelta(seconds=1), active=True)  # late, older: kept out
    assert first.last_active(token) == now + timedelta(seconds=5)
    assert second.last_used([token, uuid4()]) == {token: now + timedelta(seconds=5)}
    operator = uuid4()
    assert first.last_heartbeat(operator) is None
    first.heartbeat(operator, now + timedelta(seconds=2))
    second.heartbeat(operator, now)
    assert second.last_heartbeat(operator) == now + timedelta(seconds=2)


def test_the_token_list_follows_issue_and_revocation(container):
    app = container.app
    kept = app.issue_token(role="bot", name="kept", operator_id=None, actor="admin:a")
    gone = app.issue_token(role="analyst", name="gone", operator_id=None, actor="admin:a")
    revoked = app.revoke_token(
        next(row["id"] for row in _tokens(container, gone.position) if row["name"] == "gone"),
        actor="admin:a",
    )

    rows = _tokens(container, revoked.position)

    assert [row["name"] for row in rows] == ["kept"]
    assert rows[0]["role"] == "bot" and kept.value.token not in str(rows)


def _tokens(container, position: int) -> list[dict]:
    assert container.wait_for("directory", position, 10)
    rows, _ = container.directory.tokens(now=container.app.clock.now())
    return rows


def test_a_heartbeat_keeps_a_working_operator_from_being_marked_absent(container, clock):
    app = container.app
    app.change_settings({"absent_after_minutes": 10}, actor="admin:a")
    present, idle = (_working(app, f"{name}@example.com") for name in ("ann", "ben"))
    clock.advance(minutes=9)
    app.heartbeat(present)  # the screen is open, though nothing was done
    assert container.wait_for("directory", app.head(), 10)
    clock.advance(minutes=2)

    assert container.scheduler.tick().operators_absent == 1

    assert app.get_operator(idle.operator_id).status == "absent"
    assert app.get_operator(present.operator_id).status == "working"
    clock.advance(minutes=8)  # ten minutes after the heartbeat
    assert container.scheduler.tick().operators_absent == 1
    assert app.get_operator(present.operator_id).status == "absent"


def _working(app, email: str):
    operator, token = app.register_operator(
        actor="admin:a", first_name="A", last_name="B", email=email
    ).value
    caller = app.authenticate(token)
    app.set_status(operator.id, "working", caller=caller)
    return caller
