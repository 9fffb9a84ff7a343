"""A running response clock's deadline, as the dashboard's timers show it (``ChatClocks``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from domain.clocks import FIRST_RESPONSE, NEXT_RESPONSE, ChatClocks

T0 = datetime.fromisoformat("2026-11-21T09:30:00+00:00")
SALES = uuid.uuid4()


def levels(group_id, kind: str) -> int:
    if group_id != SALES:
        return 60
    return 30 if kind == FIRST_RESPONSE else 90


def test_the_deadline_is_the_clocks_start_plus_its_groups_level_for_its_kind() -> None:
    first = ChatClocks(uuid.uuid4(), SALES, clock_kind=FIRST_RESPONSE, clock_started_at=T0)
    assert first.due_at(levels) == T0 + timedelta(seconds=30)
    following = ChatClocks(uuid.uuid4(), SALES, clock_kind=NEXT_RESPONSE, clock_started_at=T0)
    assert following.due_at(levels) == T0 + timedelta(seconds=90)
    elsewhere = ChatClocks(uuid.uuid4(), None, clock_kind=NEXT_RESPONSE, clock_started_at=T0)
    assert elsewhere.due_at(levels) == T0 + timedelta(seconds=60)


def test_no_running_clock_has_no_deadline() -> None:
    assert ChatClocks(uuid.uuid4(), SALES).due_at(levels) is None
