"""The operator activity report on real PostgreSQL, over the two days of ``story.py``."""

from __future__ import annotations

from datetime import timedelta

from infrastructure.bootstrap import Services
from tests.clock import FakeClock
from tests.integration.reports.story import (
    EKB,
    MONDAY,
    TUESDAY,
)


def test_operator_activity_per_day(container: Services, clock: FakeClock, story) -> None:
    now = clock.now()  # Tuesday 15:00 UTC: both still working
    activity = container.reports.operator_activity(MONDAY, TUESDAY, now=now)
    by_operator = {entry["operator_id"]: entry for entry in activity["operators"]}
    hours = 3600

    ann = by_operator[story["ann"]]
    assert [(d["date"], d["seconds"]) for d in ann["days"]] == [
        (MONDAY, seconds(working=17 * hours)),  # working from 07:00
        (TUESDAY, seconds(working=11 * hours + 170 * 60, **{"break": 70 * 60})),
    ]
    assert ann["seconds"] == seconds(working=28 * hours + 170 * 60, **{"break": 70 * 60})
    bob = by_operator[story["bob"]]
    assert [(d["date"], d["seconds"]) for d in bob["days"]] == [
        (MONDAY, seconds(working=17 * hours)),
        (TUESDAY, seconds(working=12.5 * hours, **{"break": 2.5 * hours})),
    ]

    ekb = container.reports.operator_activity(
        MONDAY, TUESDAY, now=now, operator_id=story["ann"], tz=EKB
    )
    (ann,) = ekb["operators"]
    assert [(d["date"], d["seconds"]) for d in ann["days"]] == [
        (MONDAY, seconds(working=12 * hours)),  # 07:00 to 19:00 UTC
        (TUESDAY, seconds(working=16 * hours + 170 * 60, **{"break": 70 * 60})),
    ]

    # Later, the open intervals count up to the new now.
    later = container.reports.operator_activity(
        TUESDAY, TUESDAY, now=now + timedelta(hours=1), operator_id=story["bob"]
    )
    assert later["operators"][0]["seconds"]["working"] == 13.5 * hours


def seconds(**spent: float) -> dict[str, float]:
    return {
        status: float(spent.get(status, 0))
        for status in ("working", "break", "leaving", "absent", "offline")
    }
