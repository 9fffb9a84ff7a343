"""ChatTally.merge, written out field by field, adds and takes back every counted field."""

from __future__ import annotations

from dataclasses import asdict

from hypothesis import given
from hypothesis import strategies as st

from projections.reports.rollup import COUNTED, ChatTally

counts = st.integers(min_value=0, max_value=10**6)
tallies = st.builds(
    ChatTally,
    **{name: counts for name in COUNTED},
    queue_wait_max_s=st.none() | st.floats(min_value=0, max_value=1e6),
)


@given(tallies, tallies)
def test_merge_adds_every_counted_field_and_keeps_the_larger_maximum(
    a: ChatTally, b: ChatTally
) -> None:
    total = ChatTally(**asdict(a))
    total.merge(b)
    for name in COUNTED:
        assert getattr(total, name) == getattr(a, name) + getattr(b, name), name
    maxima = [m for m in (a.queue_wait_max_s, b.queue_wait_max_s) if m is not None]
    assert total.queue_wait_max_s == (max(maxima) if maxima else None)


@given(tallies, tallies)
def test_taking_back_what_was_added_leaves_the_counts_as_they_were(
    a: ChatTally, b: ChatTally
) -> None:
    total = ChatTally(**asdict(a))
    total.merge(b)
    total.merge(b, sign=-1)
    assert [getattr(total, n) for n in COUNTED] == [getattr(a, n) for n in COUNTED]
