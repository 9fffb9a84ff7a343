from __future__ import annotations

import pytest

from application.clock import FakeClock
from infrastructure.bootstrap import Container
from tests.integration.reports.story import tell_story


@pytest.fixture
def story(container: Container, clock: FakeClock) -> dict:
    """The two days of ``story.py``: the ids of its groups and operators."""
    return tell_story(container, clock)
