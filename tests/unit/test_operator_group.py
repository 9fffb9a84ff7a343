"""The staff-side aggregates on their own: Operator, Group, Reservation and ApiToken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.access import ApiToken
from domain.errors import (
    GroupDeleted,
    InvalidValue,
    NoCapacity,
    NotWorking,
    OperatorDeactivated,
    ReservationTaken,
)
from domain.group import MAX_SL_S, Group
from domain.operator import (
    ABSENT,
    BREAK,
    DEFAULT_MAX_CHATS,
    LEAVING,
    MAX_MAX_CHATS,
    OFFLINE,
    WORKING,
    Operator,
)
from domain.reservation import FREE, Reservation
from domain.texts import MAX_NAME

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
ADMIN = "admin:root"
ENGINE = "system"
SALES = UUID("00000000-0000-0000-0000-00000000000a")
SUPPORT = UUID("00000000-0000-0000-0000-00000000000b")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def names(aggregate) -> list[str]:
    return [type(event).__name__ for event in aggregate.collect_events()]


# -- Operator ---------------------------------------------------------------------------------


def new_operator(*, status: str = OFFLINE, max_chats: int = DEFAULT_MAX_CHATS) -> Operator:
    operator = Operator.register(
        operator_id=uuid4(),
        at=T0,
        actor=ADMIN,
        first_name="Anna",
        last_name="Petrova",
        email="anna@example.com",
        group_ids=[SALES],
        max_chats=max_chats,
    )
    if status != OFFLINE:
        operator.change_status(status, at=T0, actor=ADMIN, by_engine=True)
    operator.collect_events()
    return operator


def test_a_registered_operator_is_offline_with_no_chats():
    operator = Operator.register(
        operator_id=uuid4(),
        at=minutes(1),
        actor=ADMIN,
        first_name="Anna",
        last_name="P",
        email="anna@example.com",
        group_ids=[SALES, SUPPORT, SALES],
    )

    events = list(operator.collect_events())

    assert [type(e).__name__ for e in events] == ["OperatorRegistered"]
    assert events[0].timestamp == minutes(1)
    assert operator.status == OFFLINE
    assert operator.status_since == minutes(1)
    assert operator.group_ids == [SALES, SUPPORT], "duplicate groups are dropped, order kept"
    assert (operator.load, operator.max_chats) == (0, DEFAULT_MAX_CHATS)
    assert operator.last_assigned_at is None
    assert operator.active


@pytest.mark.parametrize("fields", [{"role": "bot"}, {"max_chats": -1}, {"max_chats": True}])
def test_register_refuses_a_bad_role_or_capacity(fields):
    with pytest.raises(InvalidValue):
        Operator.register(
            operator_id=uuid4(),
            at=T0,
            actor=ADMIN,
            first_name="A",
            last_name="B",
            email="a@example.com",
            **fields,
        )


def test_a_working_operator_with_room_takes_a_chat():
    operator = new_operator(status=WORKING)
    chat_id = uuid4()

    operator.take_chat(chat_id, at=minutes(3), actor=ENGINE)

    events = list(operator.collect_events())
    assert [type(e).__name__ for e in events] == ["ChatTaken"]
    assert events[0].timestamp == minutes(3)
    assert operator.chat_ids == [chat_id]
    assert operator.load == 1
    assert operator.last_assigned_at == minutes(3)


def test_taking_the_same_chat_twice_counts_it_once():
    operator = new_operator(status=WORKING)
    chat_id = uuid4()
    operator.take_chat(chat_id, at=T0, actor=ENGINE)
    operator.collect_events()

    operator.take_chat(chat_id, at=minutes(1), actor=ENGINE)

    assert names(operator) == []
    assert operator.load == 1


@pytest.mark.parametrize("status", [BREAK, LEAVING, ABSENT, OFFLINE])
def test_only_a_working_operator_takes_a_chat(status):
    operator = new_operator(status=status)

    with pytest.raises(NotWorking):
        operator.take_chat(uuid4(), at=T0, actor=ENGINE)
    assert names(operator) == []
    assert operator.load == 0


def test_an_operator_at_capacity_takes_no_more_chats():
    operator = new_operator(status=WORKING, max_chats=2)
    operator.take_chat(uuid4(), at=T0, actor=ENGINE)
    operator.take_chat(uuid4(), at=T0, actor=ENGINE)
    operator.collect_events()

    assert not operator.has_room
    with pytest.raises(NoCapacity):
        operator.take_chat(uuid4(), at=T0, actor=ENGINE)
    assert names(operator) == []
    assert operator.load == 2


def test_a_deactivated_operator_takes_no_chats():
    operator = new_operator(status=WORKING)
    assert operator.deactivate(at=minutes(1), actor=ADMIN)
    # Deactivated operators are offline, too.
    assert names(operator) == ["StatusChanged", "Deactivated"]
    assert operator.status == "offline"
    assert operator.deactivated_at == minutes(1)

    with pytest.raises(OperatorDeactivated):
        operator.take_chat(uuid4(), at=T0, actor=ENGINE)
    with pytest.raises(OperatorDeactivated):
        operator.change_status(BREAK, at=T0, actor=ADMIN)
    assert not operator.deactivate(at=T0, actor=ADMIN)  # once is enough


def test_a_reactivated_operator_works_again_and_remembers_the_deactivation():
    operator = new_operator(status=WORKING)
    operator.deactivate(at=minutes(1), actor=ADMIN)
    operator.collect_events()
    assert operator.reactivate(at=minutes(2), actor=ADMIN)
    assert names(operator) == ["Reactivated"]
    assert operator.active and operator.status == "offline"
    assert operator.deactivated_at == minutes(1)
    assert not operator.reactivate(at=minutes(3), actor=ADMIN)
    operator.change_status(WORKING, at=minutes(4), actor=ADMIN)


def test_releasing_a_chat_lowers_the_load_but_keeps_the_last_assignment_time():
    operator = new_operator(status=WORKING)
    first, second = uuid4(), uuid4()
    operator.take_chat(first, at=minutes(1), actor=ENGINE)
    operator.take_chat(second, at=minutes(2), actor=ENGINE)
    operator.collect_events()

    operator.release_chat(first, at=minutes(3), actor=ENGINE)

    events = list(operator.collect_events())
    assert [type(e).__name__ for e in events] == ["ChatReleased"]
    assert events[0].timestamp == minutes(3)
    assert operator.chat_ids == [second]
    assert operator.last_assigned_at == minutes(2)


def test_releasing_a_chat_the_operator_does_not_hold_records_nothing():
    operator = new_operator(status=WORKING)

    operator.release_chat(uuid4(), at=T0, actor=ENGINE)

    assert names(operator) == []


def test_a_non_working_operator_keeps_the_chats_they_hold():
    operator = new_operator(status=WORKING)
    chat_id = uuid4()
    operator.take_chat(chat_id, at=T0, actor=ENGINE)

    operator.change_status(BREAK, at=minutes(1), actor=ADMIN)

    assert operator.chat_ids == [chat_id]
    with pytest.raises(NotWorking):
        operator.take_chat(uuid4(), at=minutes(2), actor=ENGINE)


def test_change_status_records_status_changed_since_the_time_given():
    operator = new_operator()

    changed = operator.change_status(WORKING, at=minutes(4), actor=ADMIN)

    events = list(operator.collect_events())
    assert changed is True
    assert [type(e).__name__ for e in events] == ["StatusChanged"]
    assert events[0].timestamp == minutes(4)
    assert (operator.status, operator.status_since) == (WORKING, minutes(4))


def test_an_unchanged_status_records_nothing():
    operator = new_operator(status=WORKING)

    assert operator.change_status(WORKING, at=minutes(1), actor=ADMIN) is False
    assert names(operator) == []
    assert operator.status_since == T0


def test_only_the_engine_marks_an_operator_absent():
    operator = new_operator(status=WORKING)

    with pytest.raises(InvalidValue):
        operator.change_status(ABSENT, at=T0, actor=ADMIN)
    assert operator.status == WORKING

    assert operator.change_status(ABSENT, at=T0, actor=ENGINE, by_engine=True) is True
    assert operator.status == ABSENT


@pytest.mark.parametrize("by_engine", [False, True])
@pytest.mark.parametrize("status", ["asleep", "Working", ""])
def test_unknown_statuses_are_refused(status, by_engine):
    operator = new_operator()

    with pytest.raises(InvalidValue):
        operator.change_status(status, at=T0, actor=ENGINE, by_engine=by_engine)
    assert names(operator) == []


@pytest.mark.parametrize("max_chats", [0, 1, MAX_MAX_CHATS])
def test_capacity_within_bounds_is_accepted(max_chats):
    operator = new_operator()

    assert operator.change_capacity(max_chats, at=minutes(1), actor=ADMIN) is True

    events = list(operator.collect_events())
    assert [type(e).__name__ for e in events] == ["CapacityChanged"]
    assert events[0].timestamp == minutes(1)
    assert operator.max_chats == max_chats


@pytest.mark.parametrize("max_chats", [-1, MAX_MAX_CHATS + 1, True, 2.5, "3", None])
def test_capacity_out_of_bounds_is_refused(max_chats):
    operator = new_operator()

    with pytest.raises(InvalidValue):
        operator.change_capacity(max_chats, at=T0, actor=ADMIN)
    assert operator.max_chats == DEFAULT_MAX_CHATS


def test_an_unchanged_capacity_records_nothing():
    operator = new_operator(max_chats=5)

    assert operator.change_capacity(5, at=T0, actor=ADMIN) is False
    assert names(operator) == []


def test_lowering_capacity_below_the_load_keeps_the_chats_and_takes_no_more():
    operator = new_operator(status=WORKING)
    operator.take_chat(uuid4(), at=T0, actor=ENGINE)
    operator.take_chat(uuid4(), at=T0, actor=ENGINE)

    operator.change_capacity(1, at=T0, actor=ADMIN)

    assert operator.load == 2
    with pytest.raises(NoCapacity):
        operator.take_chat(uuid4(), at=T0, actor=ENGINE)


def test_change_groups_drops_duplicates_and_skips_no_change():
    operator = new_operator()

    assert operator.change_groups([SUPPORT, SALES, SUPPORT], at=T0, actor=ADMIN) is True
    assert operator.group_ids == [SUPPORT, SALES]
    assert operator.change_groups([SUPPORT, SALES], at=T0, actor=ADMIN) is False
    assert names(operator) == ["GroupsChanged"]


# -- Group ------------------------------------------------------------------------------------


def new_group(**fields) -> Group:
    group = Group.create(group_id=uuid4(), at=T0, actor=ADMIN, **({"name": "Sales"} | fields))
    group.collect_events()
    return group


def test_create_records_group_created_with_defaults():
    group = Group.create(group_id=SALES, at=minutes(2), actor=ADMIN, name="  Sales  ")

    events = list(group.collect_events())

    assert [type(e).__name__ for e in events] == ["GroupCreated"]
    assert events[0].timestamp == minutes(2)
    assert group.id == SALES
    assert group.name == "Sales"
    assert (group.sl_first_response_s, group.sl_next_response_s) == (60, 120)
    assert group.routing == "auto"
    assert not group.is_manual
    assert not group.deleted


def test_a_manual_group_is_manual():
    assert new_group(routing="manual").is_manual


INVALID_GROUP_FIELDS = [
    {"name": ""},
    {"name": "   "},
    {"routing": "round-robin"},
    {"routing": "Auto"},
    {"sl_first_response_s": 0},
    {"sl_next_response_s": -5},
    {"sl_first_response_s": True},
    {"sl_next_response_s": 1.5},
    {"sl_first_response_s": "60"},
    {"sl_next_response_s": MAX_SL_S + 1},
    {"name": "x" * (MAX_NAME + 1)},
]


def test_the_longest_name_and_service_level_are_accepted():
    group = new_group(name="x" * MAX_NAME, sl_first_response_s=MAX_SL_S)
    assert (len(group.name), group.sl_first_response_s) == (MAX_NAME, MAX_SL_S)


@pytest.mark.parametrize("fields", INVALID_GROUP_FIELDS)
def test_create_refuses_invalid_fields(fields):
    with pytest.raises(InvalidValue):
        Group.create(group_id=uuid4(), at=T0, actor=ADMIN, **({"name": "Sales"} | fields))


@pytest.mark.parametrize("fields", INVALID_GROUP_FIELDS)
def test_update_refuses_invalid_fields_and_records_nothing(fields):
    group = new_group()

    with pytest.raises(InvalidValue):
        group.update(at=T0, actor=ADMIN, **fields)
    assert names(group) == []
    assert group.name == "Sales"


def test_update_records_the_whole_new_state():
    group = new_group(description="old")

    changed = group.update(
        at=minutes(1), actor=ADMIN, name=" Retail ", sl_first_response_s=30, routing="manual"
    )

    events = list(group.collect_events())
    assert changed is True
    assert [type(e).__name__ for e in events] == ["GroupUpdated"]
    assert events[0].timestamp == minutes(1)
    assert (group.name, group.description, group.routing) == ("Retail", "old", "manual")
    assert (group.sl_first_response_s, group.sl_next_response_s) == (30, 120)


@pytest.mark.parametrize(
    "changes", [{}, {"name": "Sales"}, {"name": "  Sales "}, {"routing": "auto", "name": None}]
)
def test_an_update_that_changes_nothing_returns_false_and_records_nothing(changes):
    group = new_group()

    assert group.update(at=T0, actor=ADMIN, **changes) is False
    assert names(group) == []


def test_a_deleted_group_is_neither_updated_nor_deleted_again():
    group = new_group()

    group.delete(at=minutes(1), actor=ADMIN)

    assert names(group) == ["GroupDeleted"]
    assert group.deleted
    with pytest.raises(GroupDeleted):
        group.update(at=T0, actor=ADMIN, name="Retail")
    with pytest.raises(GroupDeleted):
        group.delete(at=T0, actor=ADMIN)
    assert names(group) == []


# -- Reservation ------------------------------------------------------------------------------


def reserve_email(owner_id: UUID) -> Reservation:
    return Reservation.reserve(kind="email", key="a@x.io", owner_id=owner_id, at=T0, actor=ADMIN)


def test_a_reservation_id_is_derived_from_its_kind_and_key():
    assert Reservation.id_for("email", "a@x.io") == Reservation.id_for("email", "a@x.io")
    assert Reservation.id_for("email", "a@x.io") != Reservation.id_for("handoff", "a@x.io")
    assert Reservation.id_for("email", "a@x.io") != Reservation.id_for("email", "b@x.io")


def test_reserve_points_the_name_at_its_owner():
    owner = uuid4()

    reservation = reserve_email(owner)

    assert reservation.id == Reservation.id_for("email", "a@x.io")
    assert reservation.owner_id == owner
    assert not reservation.is_free
    assert names(reservation) == ["Reserved"]


def test_a_name_held_by_another_owner_cannot_be_claimed():
    owner, other = uuid4(), uuid4()
    reservation = reserve_email(owner)
    reservation.collect_events()

    with pytest.raises(ReservationTaken):
        reservation.claim(other, at=T0, actor=ADMIN)
    reservation.claim(owner, at=T0, actor=ADMIN)  # the holder claiming again changes nothing

    assert reservation.owner_id == owner
    assert names(reservation) == []


def test_a_released_name_can_be_claimed_by_someone_else():
    owner, other = uuid4(), uuid4()
    reservation = reserve_email(owner)
    reservation.collect_events()

    reservation.release(at=minutes(1), actor=ADMIN)
    assert reservation.is_free
    assert reservation.owner_id == FREE
    reservation.claim(other, at=minutes(2), actor=ADMIN)

    events = list(reservation.collect_events())
    assert [type(e).__name__ for e in events] == ["Transferred", "Transferred"]
    assert [e.timestamp for e in events] == [minutes(1), minutes(2)]
    assert reservation.owner_id == other


# -- ApiToken ---------------------------------------------------------------------------------


def test_a_token_is_found_by_its_hash():
    token = ApiToken.issue(
        token_hash="abc", role="bot", name=" webbot ", operator_id=None, at=T0, actor=ADMIN
    )

    assert token.id == ApiToken.id_for_hash("abc")
    assert (token.role, token.name, token.revoked) == ("bot", "webbot", False)


@pytest.mark.parametrize("role", ["root", "", "Admin", "client"])
def test_a_token_with_an_unknown_role_is_refused(role):
    with pytest.raises(InvalidValue):
        ApiToken.issue(token_hash="abc", role=role, name="x", operator_id=None, at=T0, actor=ADMIN)


def test_a_token_needs_a_name():
    with pytest.raises(InvalidValue):
        ApiToken.issue(
            token_hash="abc", role="bot", name="  ", operator_id=None, at=T0, actor=ADMIN
        )


def test_a_token_is_revoked_once():
    token = ApiToken.issue(
        token_hash="abc", role="bot", name="webbot", operator_id=None, at=T0, actor=ADMIN
    )
    token.collect_events()

    token.revoke(at=minutes(1), actor=ADMIN)
    token.revoke(at=minutes(2), actor=ADMIN)

    assert token.revoked
    assert names(token) == ["TokenRevoked"]
