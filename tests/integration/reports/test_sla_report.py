"""The SLA report on real PostgreSQL, over the two days of ``story.py``: by day in UTC and
in other zones, clipped by times, by group, by operator, and periods that cannot be meant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.clocks import FIRST_RESPONSE, NEXT_RESPONSE, ResponseFact
from infrastructure.bootstrap import Services
from projections.reports import BadPeriod, Reports
from tests.integration.reports.story import (
    EKB,
    MONDAY,
    TUESDAY,
    chats,
    csat,
    queue,
    sections,
    stats,
)

# -- the report, by day in UTC and in Yekaterinburg -------------------------------------------


def test_the_report_by_day_in_utc(container: Services, story) -> None:
    report = container.reports.sla_report(MONDAY, TUESDAY, bucket="day", tz="UTC")

    assert report["period"] == {
        "from": datetime(2026, 3, 2, tzinfo=UTC),
        "to": datetime(2026, 3, 4, tzinfo=UTC),
        "tz": "UTC",
        "bucket": "day",
        "percentiles": "exact",
    }
    assert sections(report) == {
        "first_response": stats([40, 45, 20, 720, 60, 30], within=4, unanswered=1),
        "next_response": stats([150, 30, 60, 180], within=3),
        "csat": csat(5, 3, 4, 1),
        "chats": chats(requested=7, closed=5, abandoned=1),
        "queue": queue(600),
    }
    # The same, worked out by hand.
    first = report["first_response"]
    assert (first["avg_s"], first["p50_s"], first["p90_s"], first["max_s"]) == (
        152.5,
        42.5,
        390.0,
        720.0,
    )
    assert first["pct_within_sl"] == pytest.approx(66.6667, abs=1e-4)
    assert report["next_response"]["p90_s"] == pytest.approx(171.0)
    assert report["csat"]["avg"] == 3.25

    monday, tuesday = report["buckets"]
    assert (monday["date"], monday["from"], monday["to"]) == (
        MONDAY,
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 3, tzinfo=UTC),
    )
    assert sections(monday) == {
        "first_response": stats([40, 45, 20], within=2),
        "next_response": stats([150, 30], within=1),
        "csat": csat(5, 3),
        "chats": chats(requested=3, closed=3, abandoned=0),
        "queue": queue(),
    }
    assert monday["first_response"]["p90_s"] == pytest.approx(44.0)
    assert tuesday["date"] == TUESDAY
    assert sections(tuesday) == {
        "first_response": stats([720, 60, 30], within=2, unanswered=1),
        "next_response": stats([60, 180], within=2),
        "csat": csat(4, 1),
        "chats": chats(requested=4, closed=2, abandoned=1),
        "queue": queue(600),
    }
    assert tuesday["first_response"]["p90_s"] == pytest.approx(588.0)


def test_the_report_by_day_in_yekaterinburg(container: Services, story) -> None:
    """UTC+5: chat C, requested at 20:30 UTC on Monday, counts on Tuesday."""
    report = container.reports.sla_report(MONDAY, TUESDAY, bucket="day", tz=EKB)

    assert (report["period"]["from"], report["period"]["to"]) == (
        datetime(2026, 3, 1, 19, tzinfo=UTC),
        datetime(2026, 3, 3, 19, tzinfo=UTC),
    )
    # The whole period holds every chat, as in UTC.
    assert report["first_response"] == stats([40, 45, 20, 720, 60, 30], within=4, unanswered=1)
    assert report["chats"] == chats(requested=7, closed=5, abandoned=1)

    monday, tuesday = report["buckets"]
    assert (monday["date"], monday["from"], monday["to"]) == (
        MONDAY,
        datetime(2026, 3, 1, 19, tzinfo=UTC),
        datetime(2026, 3, 2, 19, tzinfo=UTC),
    )
    assert sections(monday) == {
        "first_response": stats([40, 45], within=1),
        "next_response": stats([150, 30], within=1),
        "csat": csat(5, 3),
        "chats": chats(requested=2, closed=2, abandoned=0),
        "queue": queue(),
    }
    assert sections(tuesday) == {
        "first_response": stats([20, 720, 60, 30], within=3, unanswered=1),
        "next_response": stats([60, 180], within=2),
        "csat": csat(4, 1),
        "chats": chats(requested=5, closed=3, abandoned=1),
        "queue": queue(600),
    }
    assert tuesday["first_response"]["p50_s"] == 45.0
    assert tuesday["first_response"]["p90_s"] == pytest.approx(522.0)


def test_times_clip_the_period_and_its_days(container: Services, story) -> None:
    """From Monday 10:00 to Tuesday 12:15 UTC: B, C and D's first response; a partial day each."""
    report = container.reports.sla_report(
        datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 3, 12, 15, tzinfo=UTC)
    )
    assert report["first_response"] == stats([45, 20, 720], within=1)
    assert report["next_response"] == stats([30], within=1)
    assert report["chats"] == chats(requested=3, closed=2, abandoned=0)  # B, C, D; B and C
    assert [(b["from"], b["to"]) for b in report["buckets"]] == [
        (datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)),
        (datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 3, 12, 15, tzinfo=UTC)),
    ]


def test_bucket_none_gives_the_totals_only(container: Services, story) -> None:
    report = container.reports.sla_report(MONDAY, TUESDAY, bucket="none")
    assert report["buckets"] == []
    assert report["period"]["bucket"] == "none"
    assert report["next_response"] == stats([150, 30, 60, 180], within=3)


def test_empty_days_are_in_the_buckets_with_empty_sections(container: Services, story) -> None:
    report = container.reports.sla_report(date(2026, 2, 27), date(2026, 3, 1))
    assert [b["date"] for b in report["buckets"]] == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    for part in (report, *report["buckets"]):
        assert sections(part) == {
            "first_response": stats([], within=0),
            "next_response": stats([], within=0),
            "csat": csat(),
            "chats": chats(0, 0, 0),
            "queue": queue(),
        }


def test_days_follow_daylight_saving_time(container: Services) -> None:
    """Berlin moves its clocks forward on 29 March 2026: that day has 23 hours."""
    report = container.reports.sla_report(date(2026, 3, 28), date(2026, 3, 30), tz="europe/berlin")
    assert report["period"]["tz"] == "Europe/Berlin"
    assert [(b["date"], b["from"], b["to"] - b["from"]) for b in report["buckets"]] == [
        (date(2026, 3, 28), datetime(2026, 3, 27, 23, tzinfo=UTC), timedelta(hours=24)),
        (date(2026, 3, 29), datetime(2026, 3, 28, 23, tzinfo=UTC), timedelta(hours=23)),
        (date(2026, 3, 30), datetime(2026, 3, 29, 22, tzinfo=UTC), timedelta(hours=24)),
    ]


# -- by group and by operator -----------------------------------------------------------------


def test_by_group(container: Services, story) -> None:
    sales = container.reports.sla_report(MONDAY, TUESDAY, group_id=story["sales"])
    assert sales["first_response"] == stats([40, 20, 720, 60, 30], within=4)
    assert sales["next_response"] == stats([150, 60], within=1)
    # Chats count in the group they were in last: G moved to Support.
    assert sales["chats"] == chats(requested=4, closed=3, abandoned=0)  # A, C, D, F
    assert sales["csat"] == csat(5, 4)
    assert sales["queue"] == queue(600)

    support = container.reports.sla_report(MONDAY, TUESDAY, group_id=story["support"])
    assert support["first_response"] == stats([45], within=0, unanswered=1)
    assert support["next_response"] == stats([30, 180], within=2)  # G's SL became 200 s
    assert support["chats"] == chats(requested=3, closed=2, abandoned=1)  # B, E, G
    assert support["csat"] == csat(3, 1)


def test_by_operator(container: Services, story) -> None:
    bob = container.reports.sla_report(MONDAY, TUESDAY, operator_id=story["bob"])
    assert bob["first_response"] == stats([45], within=0)
    assert bob["next_response"] == stats([30, 180], within=2)
    assert bob["chats"] == chats(requested=2, closed=1, abandoned=0)  # B, G (held last)
    assert bob["csat"] == csat(3)

    ann = container.reports.sla_report(MONDAY, TUESDAY, operator_id=story["ann"], tz=EKB)
    assert ann["first_response"] == stats([40, 20, 720, 60, 30], within=4, unanswered=1)
    assert ann["next_response"] == stats([150, 60], within=1)
    assert [b["first_response"]["count"] for b in ann["buckets"]] == [1, 4]

    both = container.reports.sla_report(
        MONDAY, TUESDAY, operator_id=story["ann"], group_id=story["support"]
    )
    assert both["first_response"] == stats([], within=0, unanswered=1)  # E


def test_unknown_ids_give_empty_reports(container: Services, story) -> None:
    report = container.reports.sla_report(MONDAY, TUESDAY, group_id=uuid4(), operator_id=uuid4())
    assert report["first_response"]["count"] == 0
    assert report["chats"] == chats(0, 0, 0)


def test_bad_periods(container: Services, story) -> None:
    reports = container.reports
    with pytest.raises(BadPeriod, match="after"):
        reports.sla_report(TUESDAY, MONDAY)
    with pytest.raises(BadPeriod, match="time zone"):
        reports.sla_report(MONDAY, TUESDAY, tz="Mars/Olympus_Mons")
    with pytest.raises(BadPeriod, match="time zone"):
        reports.sla_report(MONDAY, TUESDAY, tz="UTC+3")
    with pytest.raises(BadPeriod, match="offset"):
        reports.sla_report(datetime(2026, 3, 2), TUESDAY)
    with pytest.raises(BadPeriod, match="at most"):
        reports.sla_report(date(2020, 1, 1), date(2026, 1, 1), bucket="day")
    with pytest.raises(BadPeriod, match="1970"):
        reports.sla_report(date(1, 1, 1), TUESDAY, bucket="none")
    with pytest.raises(BadPeriod, match="bucket"):
        reports.sla_report(MONDAY, TUESDAY, bucket="week")
    # A long period is fine without day buckets.
    report = reports.sla_report(date(2020, 1, 1), date(2030, 1, 1), bucket="none")
    assert report["chats"]["requested"] == 7


# -- the SQL's percentiles against the reference ----------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    durations=st.lists(st.integers(0, 10**10), min_size=0, max_size=60),
    sl_s=st.integers(1, 3_000),
)
def test_sql_aggregates_equal_the_reference(
    container: Services, durations: list[int], sl_s: int
) -> None:
    """Facts recorded by the read model (a group of their own each time) are summed up by the
    report exactly as the reference computes them."""
    group_id = uuid4()
    start = datetime(2026, 5, 1, tzinfo=UTC)
    facts = [
        ResponseFact(
            kind=FIRST_RESPONSE if n % 3 else NEXT_RESPONSE,
            chat_id=uuid4(),
            number=1,
            group_id=group_id,
            operator_id=None,
            started_at=start + timedelta(minutes=n),
            stopped_at=start + timedelta(minutes=n, microseconds=micros),
            sl_s=sl_s,
        )
        for n, micros in enumerate(durations)
    ]
    # Recorded as the read model records them (its rows and its roll-up), in one batch.
    recorder = Reports(container.reports.datastore, container.reports.application_name)
    with recorder.datastore.transaction(commit=True) as curs:
        recorder.begin_batch()
        for fact in facts:
            recorder.record(fact)
        recorder.end_batch(curs)
    report = container.reports.sla_report(
        date(2026, 4, 1), date(2026, 12, 31), group_id=group_id, bucket="none"
    )
    for kind in (FIRST_RESPONSE, NEXT_RESPONSE):
        values = [f.duration_s for f in facts if f.kind == kind]
        expected = stats(values, within=sum(f.within_sl for f in facts if f.kind == kind))
        got = report[kind]
        assert got["p50_s"] == expected["p50_s"]
        assert got["p90_s"] == expected["p90_s"]
        # Sums of floats depend on the order of the terms: the mean to the last bits only.
        assert got["avg_s"] == (None if not values else pytest.approx(expected["avg_s"], rel=1e-12))
        assert {k: v for k, v in got.items() if k != "avg_s"} == {
            k: v for k, v in expected.items() if k != "avg_s"
        }
