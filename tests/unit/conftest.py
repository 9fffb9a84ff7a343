"""Fixtures of the unit tests: the application over the in-memory store, with a fake clock."""

from __future__ import annotations

import pytest

from application.app import Switchboard
from domain.group import Group
from tests.clock import FakeClock
from tests.unit.fakes import in_memory_switchboard
from tests.unit.helpers import ADMIN


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Switchboard:
    return in_memory_switchboard(clock)


@pytest.fixture
def sales(app: Switchboard) -> Group:
    return app.create_group(actor=ADMIN.actor, name="Sales").value


@pytest.fixture
def support(app: Switchboard) -> Group:
    return app.create_group(actor=ADMIN.actor, name="Support").value
