"""A read model's runner reaches the log's head even when no notification announces an event.

The library's subscription selects on one thread and starts to LISTEN on another: an event
committed between the two is announced to nobody. Here every event after the first select
falls into that gap, because the runner's reader listens on a channel nobody notifies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic

from application.auth import Principal
from infrastructure.bootstrap import EventLogReader, Services, build
from infrastructure.config import Config
from projections.machinery.runner import STALL_S, ReadModelRunner
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")


class UnannouncedRecorder(PostgresApplicationRecorder):
    """The real recorder, its subscriptions listening where no append notifies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_name = "switchboard_test_nobody_notifies"


@contextmanager
def commands_only(database_url: str) -> Iterator[Services]:
    settings = Config(DATABASE_URL=database_url, SWITCHBOARD_DB_POOL_SIZE=2)
    container = build(settings, clock=FakeClock(), run_projections=False)
    container.start()
    try:
        yield container
    finally:
        container.stop()


@contextmanager
def unannounced_runner(container: Services) -> Iterator[ReadModelRunner]:
    env = container.database.eventsourcing_env(pool_size=2)
    reader = EventLogReader({**env, "APPLICATION_RECORDER_TOPIC": get_topic(UnannouncedRecorder)})
    runner = ReadModelRunner(container.directory, reader, container.database.connect)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()
        reader.close()


def test_a_runner_reaches_an_event_nobody_announced_within_two_seconds(database_url: str) -> None:
    with commands_only(database_url) as container, unannounced_runner(container) as runner:
        first = container.app.create_group(actor=ADMIN.actor, name="Sales").position
        assert first is not None
        assert container.wait_for("directory", first, 10.0)
        # The runner's subscription has made its select: from here on it hears of nothing.
        second = container.app.create_group(actor=ADMIN.actor, name="Support").position
        assert second is not None
        committed = time.monotonic()
        assert container.wait_for("directory", second, STALL_S + 1.5)
        assert time.monotonic() - committed < 2.5
        assert container.directory.position() == second
        assert runner.errors == 0, "a stall is no failure"
        assert not runner.standby
