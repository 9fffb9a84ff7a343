"""One reading of the log for every read model a process leads (``LogFeed``), while each model
keeps its own lock, its own transactions and its own position.

Two "processes" here are two containers on one database, each with its own feed and its own
lock connections: an advisory lock held by one is as foreign to the other as another
process's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import Cursor

from infrastructure.bootstrap import Services
from projections.dashboard import Dashboard, Viewer
from projections.machinery.feed import LogFeed
from projections.machinery.readmodel import SCHEMA
from projections.machinery.runner import ReadModelRunner
from tests.clock import FakeClock
from tests.integration.test_exactly_once import ADMIN, running, snapshot, some_traffic, staff

WAIT_S = 15.0


def eventually(check: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@contextmanager
def runners(container: Services, models: Sequence[Any]) -> Iterator[tuple[LogFeed, list]]:
    """Runners for ``models`` on one feed of the container's, as a worker would run them."""
    feed = LogFeed(container.event_log)
    started = [ReadModelRunner(model, feed, container.database.connect) for model in models]
    for runner in started:
        runner.start()
    try:
        yield feed, started
    finally:
        for runner in started:
            runner.stop()


def leading(found: list[ReadModelRunner]) -> set[str]:
    return {runner.name for runner in found if not runner.standby}


def at_head(container: Services, names: Sequence[str]) -> bool:
    head = container.app.head()
    return all(container.read_model(name).position() == head for name in names)


def equal_to_a_rebuild(database_url: str, clock: FakeClock) -> None:
    """Every read-model row is what a rebuild from the log makes of it."""
    kept = snapshot(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    # The read models alone: a dispatcher would assign what waits in a queue (new events).
    with (
        running(database_url, clock, projections=False) as rebuilt,
        runners(rebuilt, rebuilt.read_models),
    ):
        eventually(lambda: at_head(rebuilt, ALL))
    rebuilt_rows = snapshot(database_url)
    assert set(rebuilt_rows) == set(kept)
    for table in kept:
        assert rebuilt_rows[table] == kept[table], table


ALL = ("directory", "dashboard", "history", "reports")


def test_models_led_by_different_processes_are_each_fed_by_their_leader(
    database_url: str, clock: FakeClock
) -> None:
    with (
        running(database_url, clock, projections=False) as one,
        running(database_url, clock, projections=False) as two,
    ):
        app = one.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        staff(app, "bob@example.com", [sales])
        with runners(one, [one.directory, one.dashboard]) as (feed_one, first):
            eventually(lambda: leading(first) == {"directory", "dashboard"})
            with runners(two, two.read_models) as (feed_two, second):
                # The second process leads what was free and stands by for the rest.
                eventually(lambda: leading(second) == {"history", "reports"})
                chats = some_traffic(app, clock, "a", [sales], 10)
                eventually(lambda: at_head(two, ALL))
                assert sorted(feed_one.following()) == ["dashboard", "directory"]
                assert sorted(feed_two.following()) == ["history", "reports"]
                assert leading(second) == {"history", "reports"}

                # The first process goes away: the second takes its models over, from their
                # positions, on its one reading of the log.
                for runner in first:
                    runner.stop()
                eventually(lambda: leading(second) == set(ALL))
                chats += some_traffic(two.app, clock, "b", [sales], 6)
                eventually(lambda: at_head(two, ALL))
                assert sorted(feed_two.following()) == sorted(ALL)
                assert all(runner.errors == 0 for runner in second)
        rows, _ = two.dashboard.rows("all", Viewer(None, True), limit=100)
        assert sorted(row["id"] for row in rows) == sorted(chats)
    equal_to_a_rebuild(database_url, clock)


def test_a_model_whose_lock_is_held_elsewhere_is_not_fed_here(
    database_url: str, clock: FakeClock
) -> None:
    with running(database_url, clock, projections=False) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        elsewhere = psycopg.connect(database_url, autocommit=True)
        elsewhere.execute("SELECT pg_advisory_lock(%s)", (ReadModelRunner.lock_key_for("history"),))
        with runners(container, container.read_models) as (feed, found):
            some_traffic(app, clock, "a", [sales], 8)
            others = ("directory", "dashboard", "reports")
            eventually(lambda: at_head(container, others))
            assert sorted(feed.following()) == sorted(others)
            assert container.history.position() == 0
            assert leading(found) == set(others)
            subscriptions = feed.subscriptions

            elsewhere.close()  # that process goes away: this one takes history over
            eventually(lambda: at_head(container, ALL))
            assert leading(found) == set(ALL)
            # It needed the log from its own position: the one reading started again there.
            assert feed.subscriptions > subscriptions
            assert all(runner.errors == 0 for runner in found)
    equal_to_a_rebuild(database_url, clock)


class DashboardFailingMidBatch(Dashboard):
    """The dashboard, failing once in the middle of a batch (its third event): the batch's
    transaction was under way, its rows partly written."""

    failures = 1

    def begin_batch(self) -> None:
        super().begin_batch()
        self.applied = 0

    def apply_at(self, event: Any, position: int, curs: Cursor) -> None:
        super().apply_at(event, position, curs)
        self.applied += 1
        if self.applied == 3 and DashboardFailingMidBatch.failures:
            DashboardFailingMidBatch.failures -= 1
            raise RuntimeError("the worker died in the middle of a batch")


def test_a_batch_failing_midway_leaves_every_model_equal_to_a_rebuild(
    database_url: str, clock: FakeClock
) -> None:
    with running(database_url, clock, projections=False) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        some_traffic(app, clock, "a", [sales], 12)
        failing = DashboardFailingMidBatch(
            container.read_store, application_name=container.dashboard.application_name
        )
        models = [container.directory, failing, container.history, container.reports]
        with runners(container, models) as (feed, found):
            eventually(lambda: at_head(container, ALL))
            some_traffic(app, clock, "b", [sales], 4)
            eventually(lambda: at_head(container, ALL))
            assert DashboardFailingMidBatch.failures == 0
            assert [runner.errors for runner in found] == [0, 1, 0, 0]
            assert feed.errors == 0
    equal_to_a_rebuild(database_url, clock)
