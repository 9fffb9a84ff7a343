from __future__ import annotations

import pytest

from infrastructure.bootstrap import Services
from tests.clock import FakeClock
from tests.integration.reports.story import tell_story


@pytest.fixture
def story(container: Services, clock: FakeClock) -> dict:
    """The two days of ``story.py``: the ids of its groups and operators."""
    return tell_story(container, clock)
