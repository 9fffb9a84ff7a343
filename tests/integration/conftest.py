from __future__ import annotations

from collections.abc import Iterator

import pytest

from infrastructure.bootstrap import Services, build
from infrastructure.config import Config
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def container(database_url: str, clock: FakeClock) -> Iterator[Services]:
    """The whole process as ``switchboard serve`` builds it, on this test's own database."""
    # The scheduler thread ticks once at start, then waits: tests call ``tick()`` themselves.
    settings = Config(
        DATABASE_URL=database_url,
        SWITCHBOARD_SCHEDULER_INTERVAL_S=3600,
        SWITCHBOARD_DB_POOL_SIZE=4,  # the server's connections are shared by every test
        # A sender process costs each test its start-up; the e2e tests run the worker's own.
        SWITCHBOARD_WEBHOOK_SENDER="thread",
    )
    built = build(settings, clock=clock)
    built.start()
    try:
        yield built
    finally:
        built.stop()
