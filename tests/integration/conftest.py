from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.clock import FakeClock
from infrastructure.bootstrap import Container, build
from infrastructure.settings import Settings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def container(database_url: str, clock: FakeClock) -> Iterator[Container]:
    """The whole process as ``switchboard serve`` builds it, on this test's own database."""
    built = build(Settings(DATABASE_URL=database_url), clock=clock)
    built.start()
    try:
        yield built
    finally:
        built.stop()
