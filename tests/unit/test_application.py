"""The Switchboard application over the in-memory event store, with an exact routing view."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from application.auth import Principal
from application.errors import Forbidden, NotFound, UnknownReference
from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED, Chat
from domain.errors import (
    AlreadyIntercepted,
    AlreadyRated,
    ChatClosed,
    NoCapacity,
    NotAssigned,
    NotWorking,
    ReservationTaken,
)
from tests.unit.helpers import ADMIN, BOT, event_names, handoff, load, operator

# -- routing a handoff ------------------------------------------------------------------------


def test_handoff_routes_to_the_least_loaded_working_operator_of_the_group(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    handoff(app, "conv-1", sales)  # only Anna works: she takes it
    ben = operator(app, "ben@example.com", sales)
    operator(app, "carl@example.com", support)

    chat = handoff(app, "conv-2", sales)

    assert chat.status == ASSIGNED
    assert chat.operator_id == ben.operator_id
    assert chat.group_id == sales.id
    assert event_names(app, chat.id) == ["ChatRequested", "Assigned"]
    assert (load(app, anna), load(app, ben)) == (1, 1)


def test_on_equal_load_the_operator_assigned_longest_ago_gets_the_chat(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    handoff(app, "conv-1", sales)
    clock.advance(minutes=1)
    ben = operator(app, "ben@example.com", sales)
    handoff(app, "conv-2", sales)
    clock.advance(minutes=1)

    chat = handoff(app, "conv-3", sales)

    assert chat.operator_id == anna.operator_id
    assert (load(app, anna), load(app, ben)) == (2, 1)


def test_the_groups_own_operator_is_preferred_even_when_busier(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    handoff(app, "conv-1", sales)
    operator(app, "carl@example.com", support)

    chat = handoff(app, "conv-2", sales)

    assert chat.operator_id == anna.operator_id


def test_handoff_falls_back_to_a_working_operator_of_another_group(app, sales, support):
    operator(app, "anna@example.com", sales, working=False)
    carl = operator(app, "carl@example.com", support)

    chat = handoff(app, "conv-1", sales)

    assert chat.status == ASSIGNED
    assert chat.operator_id == carl.operator_id
    assert load(app, carl) == 1


def test_handoff_queues_when_nobody_works(app, sales):
    anna = operator(app, "anna@example.com", sales, working=False)

    chat = handoff(app, "conv-1", sales)

    assert chat.status == QUEUED
    assert chat.operator_id is None
    assert chat.group_id == sales.id
    assert event_names(app, chat.id) == ["ChatRequested", "Queued"]
    assert load(app, anna) == 0


def test_handoff_without_a_group_queues_in_the_unrouted_queue(app):
    chat = handoff(app, "conv-1")

    assert chat.status == QUEUED
    assert chat.group_id is None


def test_handoff_to_a_manual_group_queues_even_when_someone_works(app):
    manual = app.create_group(actor=ADMIN.actor, name="VIP", routing="manual").value
    anna = operator(app, "anna@example.com", manual)

    chat = handoff(app, "conv-1", manual)

    assert chat.status == QUEUED
    assert chat.operator_id is None
    assert load(app, anna) == 0


def test_an_operator_never_gets_more_than_max_chats(app, sales):
    anna = operator(app, "anna@example.com", sales, max_chats=1)

    first = handoff(app, "conv-1", sales)
    second = handoff(app, "conv-2", sales)

    assert first.operator_id == anna.operator_id
    assert second.status == QUEUED
    assert second.operator_id is None
    assert load(app, anna) == 1


def test_handoff_keeps_the_bot_transcript(app, sales):
    chat = handoff(
        app,
        "conv-1",
        sales,
        transcript=[{"author": "client", "text": "hi"}, {"author": "bot", "text": "hello"}],
    )

    stored = app.get_chat(chat.id)
    assert [(m["author"], m["text"]) for m in stored.messages] == [
        ("client", "hi"),
        ("bot", "hello"),
    ]


# -- idempotent handoff -----------------------------------------------------------------------


def test_the_same_external_id_gives_back_the_same_chat(app, sales):
    anna = operator(app, "anna@example.com", sales)
    first = app.handoff(bot=BOT, external_id="conv-1", client={"id": "c"}, group_id=sales.id)

    again = app.handoff(bot=BOT, external_id="conv-1", client={"id": "c"}, group_id=sales.id)

    assert first.recorded is True
    assert again.recorded is False
    assert again.value.id == first.value.id
    assert event_names(app, first.value.id) == ["ChatRequested", "Assigned"]
    assert load(app, anna) == 1


def test_the_same_idempotency_key_gives_back_the_same_chat(app, sales):
    first = app.handoff(bot=BOT, external_id="conv-1", client={"id": "c"}, idempotency_key="key-1")

    again = app.handoff(
        bot=BOT, external_id="conv-other", client={"id": "c"}, idempotency_key="key-1"
    )

    assert again.recorded is False
    assert again.value.id == first.value.id
    assert again.value.external_id == "conv-1"
    assert event_names(app, first.value.id).count("ChatRequested") == 1


def test_the_same_external_id_from_another_bot_is_another_chat(app):
    first = handoff(app, "conv-1")

    other = app.handoff(bot=Principal("bot", "telegram"), external_id="conv-1", client={})

    assert other.recorded is True
    assert other.value.id != first.id


def test_after_close_the_same_external_id_starts_a_new_chat(app, sales):
    anna = operator(app, "anna@example.com", sales)
    first = handoff(app, "conv-1", sales)
    app.close_chat(first.id, caller=anna, reason="solved")

    again = app.handoff(bot=BOT, external_id="conv-1", client={"id": "c"}, group_id=sales.id)

    assert again.recorded is True
    assert again.value.id != first.id
    assert again.value.is_open
    assert app.get_chat(first.id).status == CLOSED


# -- intercept --------------------------------------------------------------------------------


def test_intercepting_a_queued_chat_assigns_and_intercepts_it_at_once(app, sales):
    chat = handoff(app, "conv-1", sales)  # nobody works yet: it queues
    anna = operator(app, "anna@example.com", sales)

    done = app.intercept(chat.id, caller=anna)

    assert done.recorded is True
    assert done.value.status == ACTIVE
    assert done.value.operator_id == anna.operator_id
    # The intercept greets the client in the operator's name (the default template).
    assert event_names(app, chat.id) == [
        "ChatRequested",
        "Queued",
        "Assigned",
        "Intercepted",
        "MessagePosted",
    ]
    assert load(app, anna) == 1


def test_intercepting_an_assigned_chat_makes_it_active(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)

    app.intercept(chat.id, caller=anna)

    assert app.get_chat(chat.id).status == ACTIVE
    assert load(app, anna) == 1


def test_intercepting_again_records_nothing(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    app.intercept(chat.id, caller=anna)

    again = app.intercept(chat.id, caller=anna)

    assert again.recorded is False
    assert event_names(app, chat.id) == [
        "ChatRequested",
        "Assigned",
        "Intercepted",
        "MessagePosted",
    ]


def test_a_chat_held_by_one_operator_cannot_be_intercepted_by_another(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)

    with pytest.raises(AlreadyIntercepted):
        app.intercept(chat.id, caller=ben)
    assert app.get_chat(chat.id).operator_id == anna.operator_id


def test_a_queued_chat_is_not_intercepted_from_outside_its_group(app, sales, support):
    chat = handoff(app, "conv-1", sales)
    carl = operator(app, "carl@example.com", support)

    with pytest.raises(NotAssigned):
        app.intercept(chat.id, caller=carl)
    assert app.get_chat(chat.id).status == QUEUED
    assert load(app, carl) == 0


def test_a_queued_chat_is_not_intercepted_by_an_operator_who_is_not_working(app, sales):
    chat = handoff(app, "conv-1", sales)
    anna = operator(app, "anna@example.com", sales, working=False)

    with pytest.raises(NotWorking):
        app.intercept(chat.id, caller=anna)
    assert app.get_chat(chat.id).status == QUEUED
    assert load(app, anna) == 0


def test_a_queued_chat_is_not_intercepted_by_an_operator_at_capacity(app, sales):
    anna = operator(app, "anna@example.com", sales, max_chats=1)
    handoff(app, "conv-1", sales)
    queued = handoff(app, "conv-2", sales)

    with pytest.raises(NoCapacity):
        app.intercept(queued.id, caller=anna)
    assert app.get_chat(queued.id).status == QUEUED
    assert load(app, anna) == 1


def test_an_unrouted_queued_chat_may_be_intercepted_by_any_working_operator(app, support):
    chat = handoff(app, "conv-1")
    carl = operator(app, "carl@example.com", support)

    app.intercept(chat.id, caller=carl)

    assert app.get_chat(chat.id).operator_id == carl.operator_id


def test_only_an_operators_own_token_intercepts(app, sales):
    chat = handoff(app, "conv-1", sales)

    with pytest.raises(Forbidden):
        app.intercept(chat.id, caller=ADMIN)


# -- messages, close and rating ---------------------------------------------------------------


def test_close_releases_the_operators_place(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    app.intercept(chat.id, caller=anna)

    closed = app.close_chat(chat.id, caller=anna, reason="solved").value

    assert closed.status == CLOSED
    assert closed.closed_by == {"kind": "operator", "id": str(anna.operator_id)}
    assert load(app, anna) == 0
    assert event_names(app, chat.id)[-1] == "Closed"


def test_a_freed_place_takes_the_next_handoff(app, sales):
    anna = operator(app, "anna@example.com", sales, max_chats=1)
    first = handoff(app, "conv-1", sales)
    app.close_chat(first.id, caller=anna, reason=None)

    second = handoff(app, "conv-2", sales)

    assert second.operator_id == anna.operator_id


def test_another_operator_cannot_close_a_chat_but_a_supervisor_can(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)

    with pytest.raises(NotAssigned):
        app.close_chat(chat.id, caller=ben, reason=None)
    app.close_chat(chat.id, caller=ADMIN, reason="cleanup")

    assert app.get_chat(chat.id).closed_by == {"kind": "supervisor"}
    assert load(app, anna) == 0


def test_a_closed_chat_takes_no_more_messages_but_one_rating(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    app.close_chat(chat.id, caller=anna, reason=None)

    with pytest.raises(ChatClosed):
        app.reply(chat.id, "one more thing", caller=anna)
    with pytest.raises(ChatClosed):
        app.relay_client_message(chat.id, "hello?", bot=BOT)
    app.rate(chat.id, 5, "great", bot=BOT)
    with pytest.raises(AlreadyRated):
        app.rate(chat.id, 1, None, bot=BOT)

    assert app.get_chat(chat.id).rating == 5


def test_reply_is_recorded_as_the_operators_message(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    app.intercept(chat.id, caller=anna)

    message = app.reply(chat.id, "How can I help?", caller=anna).value

    assert (message["author"], message["author_id"]) == ("operator", str(anna.operator_id))
    assert app.get_chat(chat.id).messages[-1]["id"] == message["id"]


def test_an_operators_load_survives_snapshotting(app, sales):
    anna = operator(app, "anna@example.com", sales)
    for n in range(30):  # two events per chat: past the operator's snapshot interval
        app.close_chat(handoff(app, f"conv-{n}", sales).id, caller=anna, reason=None)
    held = handoff(app, "conv-held", sales)

    reloaded = app.get_operator(anna.operator_id)

    assert reloaded.version > 50
    assert reloaded.chat_ids == [held.id]


# -- groups, operators, tokens ----------------------------------------------------------------


def test_an_email_is_registered_once_whatever_its_case(app):
    operator(app, "Anna@Example.com", working=False)

    with pytest.raises(ReservationTaken):
        operator(app, " anna@EXAMPLE.COM ", working=False)


def test_a_handoff_to_an_unknown_group_is_refused(app):
    with pytest.raises(UnknownReference):
        app.handoff(bot=BOT, external_id="conv-1", client={}, group_id=uuid4())


def test_a_handoff_to_a_deleted_group_is_refused(app, sales):
    app.delete_group(sales.id, actor=ADMIN.actor)

    with pytest.raises(UnknownReference):
        app.handoff(bot=BOT, external_id="conv-1", client={}, group_id=sales.id)


def test_an_operator_in_an_unknown_group_is_refused(app):
    with pytest.raises(UnknownReference):
        app.register_operator(
            actor=ADMIN.actor,
            first_name="A",
            last_name="B",
            email="a@example.com",
            group_ids=[uuid4()],
        )


@pytest.mark.parametrize(
    "command",
    [
        lambda app, chat_id: app.get_chat(chat_id),
        lambda app, chat_id: app.chat_events(chat_id),
        lambda app, chat_id: app.get_chat_as_of(chat_id, app.clock.now()),
        lambda app, chat_id: app.intercept(chat_id, caller=Principal("operator", "x", uuid4())),
        lambda app, chat_id: app.close_chat(chat_id, caller=ADMIN, reason=None),
        lambda app, chat_id: app.relay_client_message(chat_id, "hi", bot=BOT),
    ],
    ids=["get_chat", "chat_events", "get_chat_as_of", "intercept", "close_chat", "relay"],
)
def test_an_unknown_chat_is_not_found(app, command):
    with pytest.raises(NotFound):
        command(app, uuid4())


def test_deleting_a_group_unlinks_its_operators(app, sales, support):
    anna = operator(app, "anna@example.com", sales, support)
    ben = operator(app, "ben@example.com", sales)

    app.delete_group(sales.id, actor=ADMIN.actor)

    assert app.get_operator(anna.operator_id).group_ids == [support.id]
    assert app.get_operator(ben.operator_id).group_ids == []
    with pytest.raises(NotFound):
        app.get_group(sales.id)


def test_a_deleted_groups_name_can_be_used_again(app, sales):
    app.delete_group(sales.id, actor=ADMIN.actor)

    again = app.create_group(actor=ADMIN.actor, name="sales").value

    assert again.id != sales.id


def test_a_group_name_is_taken_once(app, sales):
    with pytest.raises(ReservationTaken):
        app.create_group(actor=ADMIN.actor, name="  SALES ")


def test_an_unknown_token_authenticates_nobody(app):
    assert app.authenticate("sb_not-a-token") is None


def test_a_bot_token_authenticates_as_the_bot(app):
    issued = app.issue_token(role="bot", name="webbot", operator_id=None, actor=ADMIN.actor).value

    assert app.authenticate(issued.token) == BOT


def test_an_operator_sets_their_own_status_only(app, sales):
    anna = operator(app, "anna@example.com", sales, working=False)
    ben = operator(app, "ben@example.com", sales, working=False)

    with pytest.raises(Forbidden):
        app.set_status(anna.operator_id, "working", caller=ben)
    app.set_status(ben.operator_id, "break", caller=ben)
    app.set_status(anna.operator_id, "working", caller=ADMIN)

    assert app.get_operator(anna.operator_id).status == "working"
    assert app.get_operator(ben.operator_id).status == "break"


def test_an_unchanged_status_is_reported_as_not_created(app):
    anna = operator(app, "anna@example.com")

    done = app.set_status(anna.operator_id, "working", caller=anna)

    assert done.recorded is False


# -- the past -------------------------------------------------------------------------------


@pytest.fixture
def chat_history(app, clock, sales) -> tuple[Chat, Principal]:
    """A chat assigned at 09:00, intercepted (and greeted) 09:01, answered 09:02, closed 09:03."""
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales)
    clock.advance(minutes=1)
    app.intercept(chat.id, caller=anna)
    clock.advance(minutes=1)
    app.reply(chat.id, "Hello", caller=anna)
    clock.advance(minutes=1)
    app.close_chat(chat.id, caller=anna, reason="solved")
    return chat, anna


def test_get_chat_at_a_version_rebuilds_that_version(app, chat_history):
    chat, anna = chat_history

    assert [app.get_chat(chat.id, version=v).status for v in (2, 3, 4, 5, 6)] == [
        ASSIGNED,
        ACTIVE,
        ACTIVE,
        ACTIVE,
        CLOSED,
    ]
    assert app.get_chat(chat.id, version=3).messages == []
    assert [m["author"] for m in app.get_chat(chat.id, version=5).messages] == [
        "system",
        "operator",
    ]
    assert app.get_chat(chat.id, version=2).operator_id == anna.operator_id
    assert app.get_chat(chat.id, version=99).version == app.get_chat(chat.id).version == 6


def test_get_chat_as_of_a_time_rebuilds_the_chat_as_it_stood(app, clock, chat_history):
    chat, _ = chat_history
    start = chat.requested_at

    def as_of(**delta):
        return app.get_chat_as_of(chat.id, start + timedelta(**delta))

    assert as_of(seconds=-1) is None
    assert as_of(seconds=0).status == ASSIGNED
    assert as_of(seconds=59).status == ASSIGNED
    assert as_of(minutes=1).status == ACTIVE
    assert [m["author"] for m in as_of(minutes=1, seconds=30).messages] == ["system"]
    assert [m["text"] for m in as_of(minutes=2).messages][1:] == ["Hello"]
    assert as_of(minutes=3).status == CLOSED
    assert as_of(days=1).version == 6
