"""The routing policy: which available operator gets a new chat first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import NoCapacity, NotWorking, OperatorDeactivated
from domain.operator import ABSENT, BREAK, LEAVING, OFFLINE, STATUSES, WORKING, Operator
from domain.routing import Candidate, rank_candidates

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SALES = UUID("00000000-0000-0000-0000-00000000000a")
SUPPORT = UUID("00000000-0000-0000-0000-00000000000b")
RETAIL = UUID("00000000-0000-0000-0000-00000000000c")


def candidate(
    *,
    load: int = 0,
    groups: tuple[UUID, ...] = (SALES,),
    status: str = WORKING,
    max_chats: int = 10,
    last_assigned_at: datetime | None = None,
) -> Candidate:
    return Candidate(
        operator_id=uuid4(),
        status=status,
        group_ids=frozenset(groups),
        load=load,
        max_chats=max_chats,
        last_assigned_at=last_assigned_at,
    )


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def test_least_loaded_first():
    busy, idle, middling = candidate(load=5), candidate(load=0), candidate(load=2)

    assert rank_candidates([busy, idle, middling], SALES) == [idle, middling, busy]


def test_on_equal_load_the_oldest_last_assignment_comes_first():
    recent = candidate(load=1, last_assigned_at=minutes(10))
    oldest = candidate(load=1, last_assigned_at=minutes(1))
    between = candidate(load=1, last_assigned_at=minutes(5))

    assert rank_candidates([recent, oldest, between], SALES) == [oldest, between, recent]


def test_never_assigned_counts_as_oldest():
    assigned = candidate(load=0, last_assigned_at=minutes(1))
    never = candidate(load=0, last_assigned_at=None)

    assert rank_candidates([assigned, never], SALES) == [never, assigned]


def test_load_matters_before_the_last_assignment():
    never_but_busy = candidate(load=3, last_assigned_at=None)
    recent_but_idle = candidate(load=1, last_assigned_at=minutes(30))

    assert rank_candidates([never_but_busy, recent_but_idle], SALES) == [
        recent_but_idle,
        never_but_busy,
    ]


def test_the_order_does_not_depend_on_the_order_given():
    candidates = [candidate(load=1) for _ in range(6)]

    assert rank_candidates(candidates, SALES) == rank_candidates(candidates[::-1], SALES)


@pytest.mark.parametrize("status", [BREAK, LEAVING, ABSENT, OFFLINE])
def test_only_working_operators_are_ranked(status):
    away = candidate(status=status, load=0)
    working = candidate(load=9)

    assert rank_candidates([away, working], SALES) == [working]


def test_operators_without_room_are_not_ranked():
    full = candidate(load=3, max_chats=3)
    closed_to_new = candidate(load=0, max_chats=0)
    one_left = candidate(load=2, max_chats=3)

    assert rank_candidates([full, closed_to_new, one_left], SALES) == [one_left]


def test_the_groups_own_operators_come_before_everyone_else():
    member = candidate(load=8, groups=(SALES, SUPPORT))
    outsider = candidate(load=0, groups=(SUPPORT,))
    ungrouped = candidate(load=1, groups=())

    assert rank_candidates([outsider, ungrouped, member], SALES) == [member, outsider, ungrouped]


def test_with_nobody_of_the_group_available_the_others_are_ranked():
    member_on_break = candidate(status=BREAK, groups=(SALES,))
    outsider = candidate(load=4, groups=(SUPPORT,))

    assert rank_candidates([member_on_break, outsider], SALES) == [outsider]


def test_without_a_group_everyone_available_is_ranked_by_load():
    sales, support, ungrouped = (
        candidate(load=2, groups=(SALES,)),
        candidate(load=0, groups=(SUPPORT,)),
        candidate(load=1, groups=()),
    )

    assert rank_candidates([sales, support, ungrouped], None) == [support, ungrouped, sales]


def test_nobody_available_ranks_nobody():
    assert rank_candidates([], SALES) == []
    assert rank_candidates([candidate(status=OFFLINE)], None) == []


def test_last_assignments_in_different_time_zones_compare_as_instants():
    moscow = timezone(timedelta(hours=3))
    at_0700_utc = candidate(load=1, last_assigned_at=datetime(2026, 1, 1, 10, 0, tzinfo=moscow))
    at_0800_utc = candidate(load=1, last_assigned_at=datetime(2026, 1, 1, 8, 0, tzinfo=UTC))

    assert rank_candidates([at_0800_utc, at_0700_utc], SALES)[0] == at_0700_utc


# -- property ---------------------------------------------------------------------------------

GROUPS = (SALES, SUPPORT, RETAIL)

candidates_strategy = st.lists(
    st.builds(
        Candidate,
        operator_id=st.uuids(),
        status=st.sampled_from(STATUSES),
        group_ids=st.frozensets(st.sampled_from(GROUPS)),
        load=st.integers(min_value=0, max_value=6),
        max_chats=st.integers(min_value=0, max_value=6),
        last_assigned_at=st.none()
        | st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1)).map(
            lambda d: d.replace(tzinfo=UTC)
        ),
    ),
    max_size=12,
)


@given(candidates=candidates_strategy, group_id=st.sampled_from(GROUPS))
def test_the_first_ranked_is_a_least_loaded_available_group_member(candidates, group_id):
    ranked = rank_candidates(candidates, group_id)

    available_members = [
        c
        for c in candidates
        if c.status == WORKING and c.load < c.max_chats and group_id in c.group_ids
    ]
    if available_members:
        first = ranked[0]
        assert group_id in first.group_ids
        assert first.status == WORKING and first.load < first.max_chats
        assert first.load == min(c.load for c in available_members)
    else:
        assert all(group_id not in c.group_ids for c in ranked)


@given(
    status=st.sampled_from(sorted(STATUSES)),
    max_chats=st.integers(1, 3),
    load=st.integers(0, 4),
    deactivated=st.booleans(),
)
def test_an_operator_can_take_a_chat_exactly_when_taking_one_is_allowed(
    status: str, max_chats: int, load: int, deactivated: bool
) -> None:
    """One rule: what routing asks (``can_take``) is what ``take_chat`` enforces."""
    operator = Operator.register(
        operator_id=uuid4(),
        at=T0,
        actor="admin:a",
        first_name="Anna",
        last_name="Lee",
        email="anna@example.com",
        group_ids=[SALES],
        max_chats=max_chats,
    )
    for n in range(min(load, max_chats)):
        operator.change_status(WORKING, at=minutes(n), actor="admin:a")
        operator.take_chat(uuid4(), at=minutes(n), actor="admin:a")
    if status != operator.status:
        operator.change_status(status, at=minutes(10), actor="admin:a", by_engine=True)
    if deactivated:
        operator.deactivate(at=minutes(11), actor="admin:a")
    can_take = operator.can_take
    try:
        operator.take_chat(uuid4(), at=minutes(12), actor="admin:a")
    except (OperatorDeactivated, NotWorking, NoCapacity):
        allowed = False
    else:
        allowed = True
    expected = not deactivated and status == WORKING and min(load, max_chats) < max_chats
    assert can_take == allowed == expected
