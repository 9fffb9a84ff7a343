"""Handoffs as bot platforms configure them: a group by name, the company's default group, a
preferred operator with its fallback (the operator, else the group, else anyone, else the
queue), the client's profile, and who closed a chat."""

from __future__ import annotations

from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.errors import UnknownReference
from domain.chat import ASSIGNED, QUEUED
from domain.errors import InvalidValue
from tests.clock import FakeClock
from tests.unit.conftest import ADMIN
from tests.unit.fakes import in_memory_switchboard
from tests.unit.helpers import BOT, configure, event_names, handoff, load, operator

# -- a group by name, and the default group ---------------------------------------------------


def test_a_handoff_names_its_group_by_name(app, sales, support):
    carl = operator(app, "carl@example.com", support)

    chat = handoff(app, group_name="  support ")

    assert (chat.group_id, chat.requested_group_id) == (support.id, support.id)
    assert chat.operator_id == carl.operator_id


def test_an_unknown_group_name_is_an_unknown_reference_and_records_nothing(app, sales):
    head = app.head()

    with pytest.raises(UnknownReference):
        handoff(app, group_name="Billing")

    assert app.head() == head


def test_a_deleted_groups_name_is_unknown(app, sales):
    app.delete_group(sales.id, actor=ADMIN.actor)

    with pytest.raises(UnknownReference):
        handoff(app, group_name="Sales")


def test_a_renamed_group_is_found_by_its_new_name_only(app, sales):
    app.update_group(sales.id, actor=ADMIN.actor, name="Presales")

    assert handoff(app, "conv-1", group_name="presales").group_id == sales.id
    with pytest.raises(UnknownReference):
        handoff(app, "conv-2", group_name="Sales")


def test_group_id_and_group_name_must_agree(app, sales, support):
    assert handoff(app, "conv-1", sales, group_name="Sales").group_id == sales.id
    head = app.head()

    with pytest.raises(InvalidValue):
        handoff(app, "conv-2", sales, group_name="Support")

    assert app.head() == head


def test_a_handoff_naming_no_group_goes_to_the_default_group(app, sales, support):
    operator(app, "anna@example.com", sales)
    carl = operator(app, "carl@example.com", support)
    configure(app, default_group_id=support.id)

    chat = handoff(app)

    assert (chat.group_id, chat.operator_id) == (support.id, carl.operator_id)
    assert app.company_settings()["default_group_id"] == support.id


def test_a_named_group_wins_over_the_default(app, sales, support):
    configure(app, default_group_id=support.id)

    assert handoff(app, group_name="Sales").group_id == sales.id


def test_the_default_group_must_exist(app, sales):
    head = app.head()

    with pytest.raises(UnknownReference):
        configure(app, default_group_id=uuid4())
    app.delete_group(sales.id, actor=ADMIN.actor)
    with pytest.raises(UnknownReference):
        configure(app, default_group_id=sales.id)

    assert app.company_settings()["default_group_id"] is None
    assert app.head() == head + 2  # the group's deletion and its name's release only


def test_a_deleted_default_group_means_no_default(app, sales):
    configure(app, default_group_id=sales.id)
    app.delete_group(sales.id, actor=ADMIN.actor)

    chat = handoff(app)

    assert (chat.status, chat.group_id) == (QUEUED, None)


# -- a preferred operator ---------------------------------------------------------------------


def test_the_preferred_operator_gets_the_chat_when_working_with_room(app, sales, support):
    operator(app, "anna@example.com", sales)
    carl = operator(app, "carl@example.com", support)
    handoff(app, "conv-0", support)  # Carl is busier than Anna

    chat = handoff(app, "conv-1", sales, operator_id=carl.operator_id)

    assert (chat.status, chat.operator_id, chat.group_id) == (ASSIGNED, carl.operator_id, sales.id)
    assert load(app, carl) == 2
    assert event_names(app, chat.id) == ["ChatRequested", "Assigned"]


def test_a_preferred_operator_on_break_leaves_the_chat_to_the_group(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    carl = operator(app, "carl@example.com", support, working=False)

    chat = handoff(app, group=sales, operator_id=carl.operator_id)

    assert chat.operator_id == anna.operator_id


def test_a_full_preferred_operator_leaves_the_chat_to_the_group(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    carl = operator(app, "carl@example.com", support, max_chats=1)
    handoff(app, "conv-0", support)

    chat = handoff(app, "conv-1", sales, operator_id=carl.operator_id)

    assert chat.operator_id == anna.operator_id
    assert load(app, carl) == 1


def test_with_the_group_empty_anyone_working_gets_it(app, sales, support):
    operator(app, "anna@example.com", sales, working=False)
    carl = operator(app, "carl@example.com", support)
    dora = operator(app, "dora@example.com", sales, working=False)

    chat = handoff(app, group=sales, operator_id=dora.operator_id)

    assert chat.operator_id == carl.operator_id


def test_with_nobody_working_the_chat_is_queued_in_its_group(app, sales):
    anna = operator(app, "anna@example.com", sales, working=False)

    chat = handoff(app, group=sales, operator_id=anna.operator_id)

    assert (chat.status, chat.operator_id, chat.group_id) == (QUEUED, None, sales.id)


def test_an_unknown_preferred_operator_is_an_unknown_reference(app, sales):
    head = app.head()

    with pytest.raises(UnknownReference):
        handoff(app, group=sales, operator_id=uuid4())

    assert app.head() == head


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    working=st.booleans(),
    capacity=st.integers(min_value=1, max_value=3),
    held=st.integers(min_value=0, max_value=3),
    group_has_someone=st.booleans(),
    anyone_else=st.booleans(),
)
def test_the_fallback_order_holds_for_any_situation(
    working, capacity, held, group_has_someone, anyone_else
):
    """The preferred operator when working with room; else the group's; else anyone; else
    the queue. Nobody ever holds more than their max_chats."""
    app = in_memory_switchboard(FakeClock())
    sales = app.create_group(actor=ADMIN.actor, name="Sales").value
    other = app.create_group(actor=ADMIN.actor, name="Other").value
    pia = operator(app, "pia@example.com", other, max_chats=capacity)
    for n in range(held):
        app.handoff(
            bot=BOT, external_id=f"held-{n}", client={"id": "c"}, operator_id=pia.operator_id
        )
    if not working:
        app.set_status(pia.operator_id, "break", caller=pia)
    member = operator(app, "sam@example.com", sales, working=group_has_someone)
    outsider = operator(app, "olga@example.com", working=anyone_else)
    room = working and min(held, capacity) < capacity

    chat = handoff(app, "conv-x", sales, operator_id=pia.operator_id)

    if room:
        expected = pia.operator_id
    elif group_has_someone:
        expected = member.operator_id
    elif anyone_else:
        expected = outsider.operator_id
    else:
        expected = None
    assert chat.operator_id == expected
    assert chat.group_id == sales.id
    assert load(app, pia) <= capacity


# -- the client's profile ---------------------------------------------------------------------


def test_the_client_profile_is_kept_as_the_bot_sent_it(app):
    client = {
        "id": "tg-42",
        "name": "Ann",
        "username": "ann_k",
        "email": "ann@example.com",
        "photo_url": "https://cdn.example.com/ann.png",
        "custom": {"plan": "gold", "city": ""},
    }

    chat = app.handoff(bot=BOT, external_id="conv-1", client=client).value

    assert app.get_chat(chat.id).client == client


def test_a_bad_client_profile_records_nothing(app):
    head = app.head()

    with pytest.raises(InvalidValue):
        app.handoff(bot=BOT, external_id="c", client={"id": "x", "photo_url": "ftp://x/y"})

    assert app.head() == head


# -- who closed a chat ------------------------------------------------------------------------


def test_closed_by_tells_the_operator_the_supervisor_and_the_system(app, sales):
    anna = operator(app, "anna@example.com", sales)
    sid = app.register_operator(
        actor=ADMIN.actor,
        first_name="Sid",
        last_name="Boss",
        email="sid@example.com",
        role="supervisor",
        group_ids=[],
    ).value
    sid = app.authenticate(sid[1])
    own, other = handoff(app, "conv-1", sales), handoff(app, "conv-2", sales)
    quiet = handoff(app, "conv-3", sales)

    app.close_chat(own.id, caller=anna, reason="solved")
    app.close_chat(other.id, caller=sid, reason="spam")
    app.close_chat(quiet.id, caller=None, reason="inactivity")

    assert app.get_chat(own.id).closed_by == {"kind": "operator", "id": str(anna.operator_id)}
    assert app.get_chat(other.id).closed_by == {"kind": "supervisor", "id": str(sid.operator_id)}
    assert app.get_chat(quiet.id).closed_by == {"kind": "system"}
    assert app.get_chat(other.id).close_reason == "spam"


def test_a_default_group_deleted_since_may_be_put_back_unchanged(app, sales):
    configure(app, default_group_id=sales.id)
    app.delete_group(sales.id, actor=ADMIN.actor)

    configure(app, default_group_id=sales.id)  # a settings form saved again as it was

    assert app.company_settings()["default_group_id"] == sales.id
    assert handoff(app).group_id is None


def test_the_preferred_operator_gets_a_chat_of_a_manual_group_too(app):
    desk = app.create_group(actor=ADMIN.actor, name="Desk", routing="manual").value
    anna = operator(app, "anna@example.com", desk)

    preferred = handoff(app, "conv-1", desk, operator_id=anna.operator_id)
    unnamed = handoff(app, "conv-2", desk)

    assert (preferred.status, preferred.operator_id) == (ASSIGNED, anna.operator_id)
    assert (unnamed.status, unnamed.operator_id) == (QUEUED, None)
