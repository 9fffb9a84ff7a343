"""The reports' one parser of a query's ``from`` and ``to``, and the roll-up's scopes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.reports import BadPeriod, asked_period
from projections.reports.rollup import report_scope, scopes_of

NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)


def test_no_period_is_the_seven_days_up_to_now() -> None:
    assert asked_period(None, None, now=NOW) == (NOW - timedelta(days=7), NOW)
    assert asked_period(" ", "", now=NOW) == (NOW - timedelta(days=7), NOW)


def test_a_date_to_alone_is_the_week_of_days_that_ends_with_it() -> None:
    assert asked_period(None, "2026-03-04", now=NOW) == (date(2026, 2, 26), date(2026, 3, 4))


def test_times_keep_their_offset_and_dates_stay_dates() -> None:
    start, end = asked_period("2026-03-02T10:00:00+05:00", "2026-03-03", now=NOW)
    assert start == datetime(2026, 3, 2, 5, tzinfo=UTC)
    assert start.utcoffset() == timedelta(hours=5)
    assert end == date(2026, 3, 3)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", None, "from: 'yesterday' is not an ISO 8601 time or date"),
        ("2026-13-01", None, "from: '2026-13-01' is not"),
        (None, "2026-03-02T10:00:00 05:00", "to: '2026-03-02T10:00:00 05:00' is not"),
        (None, "2026-03-02T10:00:00", "to: give the time with its UTC offset"),
        (None, "0001-01-02", "to: too early for a report"),
    ],
)
def test_what_cannot_be_meant_is_a_bad_period(
    since: str | None, until: str | None, message: str
) -> None:
    with pytest.raises(BadPeriod, match=message):
        asked_period(since, until, now=NOW)


ids = st.one_of(st.none(), st.sampled_from([UUID(int=1), UUID(int=2)]))


@given(group=ids, operator=ids, chosen_group=ids, chosen_operator=ids)
def test_a_report_reads_exactly_the_scope_of_what_its_filter_keeps(
    group: UUID | None,
    operator: UUID | None,
    chosen_group: UUID | None,
    chosen_operator: UUID | None,
) -> None:
    """A fact or chat of ``group`` and ``operator`` counts in the scope a report reads iff the
    report's filters (``None``: any) keep it, as they keep raw rows."""
    kept = chosen_group in (None, group) and chosen_operator in (None, operator)
    scope = report_scope(chosen_group, chosen_operator)
    assert (scope in scopes_of(group, operator)) == kept
