"""Reassign, mute, topics and message edits, through the Switchboard application over the
in-memory event store.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from application.auth import Principal
from application.errors import UnknownReference
from domain.chat import ACTIVE, ASSIGNED, QUEUED, Chat
from domain.errors import (
    AlreadyIntercepted,
    ChatClosed,
    EditsForbidden,
    InvalidValue,
    NoCapacity,
    NotAssigned,
    NotWorking,
    ReassignForbidden,
)
from tests.unit.helpers import (
    ADMIN,
    configure,
    event_names,
    handoff,
    intercepted_chat,
    load,
    operator,
    recorded_since,
    taken,
)

SYSTEM = "system"


# -- reassign to an operator ------------------------------------------------------------------


def test_a_supervisor_reassigns_a_chat_and_both_loads_change_in_the_same_save(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    ben = operator(app, "ben@example.com", sales)
    before = app.head()

    done = app.reassign(chat.id, caller=ADMIN, operator_id=ben.operator_id)

    stored = app.get_chat(chat.id)
    assert stored.operator_id == done.value.operator_id == ben.operator_id
    assert stored.status == ACTIVE, "the new operator carries on the conversation"
    assert app.get_operator(anna.operator_id).chat_ids == []
    assert app.get_operator(ben.operator_id).chat_ids == [chat.id]
    # One command wrote the three facts and the client's notice (notify_operator_change is on
    # by default) and nothing else; its position is the last of them.
    assert sorted(recorded_since(app, before)) == sorted(
        [
            (chat.id, "Reassigned"),
            (chat.id, "MessagePosted"),
            (anna.operator_id, "ChatReleased"),
            (ben.operator_id, "ChatTaken"),
        ]
    )
    assert done.position == app.head() == before + 4


def test_the_reassigned_event_records_who_moved_the_chat_from_whom_to_whom(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)

    app.reassign(chat.id, caller=ADMIN, operator_id=ben.operator_id)

    event = app.chat_events(chat.id)[-1]
    assert type(event).__name__ == "Reassigned"
    assert (event.from_operator_id, event.operator_id) == (anna.operator_id, ben.operator_id)
    assert event.group_id == sales.id
    assert event.actor == ADMIN.actor
    assert app.get_chat(chat.id).status == ASSIGNED, "never intercepted: still the bot's turn"


def test_reassign_to_an_operator_and_a_group_moves_the_chat_into_that_group(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    carl = operator(app, "carl@example.com", support)

    app.reassign(chat.id, caller=ADMIN, operator_id=carl.operator_id, group_id=support.id)

    stored = app.get_chat(chat.id)
    assert (stored.operator_id, stored.group_id) == (carl.operator_id, support.id)


def test_a_queued_chat_can_be_handed_to_an_operator(app, sales):
    chat = handoff(app, "conv-1", sales)  # nobody works yet: it queues
    anna = operator(app, "anna@example.com", sales)

    app.reassign(chat.id, caller=ADMIN, operator_id=anna.operator_id)

    stored = app.get_chat(chat.id)
    assert (stored.status, stored.operator_id) == (ASSIGNED, anna.operator_id)
    assert load(app, anna) == 1


@pytest.mark.parametrize(
    ("target", "error"),
    [("not working", NotWorking), ("full", NoCapacity), ("unknown", UnknownReference)],
)
def test_reassign_to_an_operator_who_cannot_take_it_saves_nothing(app, sales, target, error):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    if target == "unknown":
        target_id = uuid4()
    elif target == "not working":
        target_id = operator(app, "ben@example.com", sales, working=False).operator_id
    else:
        ben = operator(app, "ben@example.com", sales, max_chats=1)
        taken(app, ben, "conv-2", sales)
        target_id = ben.operator_id
    target_chats = [] if target == "unknown" else app.get_operator(target_id).chat_ids
    before = app.head()

    with pytest.raises(error):
        app.reassign(chat.id, caller=ADMIN, operator_id=target_id)

    assert app.head() == before, "nothing saved"
    assert app.get_chat(chat.id).operator_id == anna.operator_id
    assert load(app, anna) == 1
    if target != "unknown":
        assert app.get_operator(target_id).chat_ids == target_chats


def test_reassign_to_the_operator_who_has_it_is_refused(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    before = app.head()

    with pytest.raises(AlreadyIntercepted):
        app.reassign(chat.id, caller=ADMIN, operator_id=anna.operator_id)

    assert app.head() == before
    assert load(app, anna) == 1


def test_reassign_to_an_unknown_or_deleted_group_saves_nothing(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.delete_group(support.id, actor=ADMIN.actor)
    before = app.head()

    for group_id in (uuid4(), support.id):
        with pytest.raises(UnknownReference):
            app.reassign(chat.id, caller=ADMIN, group_id=group_id)

    assert app.head() == before
    assert app.get_chat(chat.id).operator_id == anna.operator_id


def test_a_closed_chat_is_not_reassigned(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)
    app.close_chat(chat.id, caller=anna, reason=None)
    before = app.head()

    with pytest.raises(ChatClosed):
        app.reassign(chat.id, caller=ADMIN, operator_id=ben.operator_id)
    with pytest.raises(ChatClosed):
        app.reassign(chat.id, caller=ADMIN, group_id=sales.id)

    assert app.head() == before
    assert load(app, ben) == 0


# -- reassign to a group: routing again, never back to the one it left -----------------------


def test_reassign_to_a_group_routes_to_its_least_loaded_working_member(app, sales, support):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    ben = operator(app, "ben@example.com", support)
    taken(app, ben, "conv-2", support)
    carl = operator(app, "carl@example.com", support)
    operator(app, "dora@example.com", support, working=False)

    app.reassign(chat.id, caller=ADMIN, group_id=support.id)

    stored = app.get_chat(chat.id)
    assert (stored.operator_id, stored.group_id) == (carl.operator_id, support.id)
    assert stored.status == ACTIVE
    assert (load(app, anna), load(app, ben), load(app, carl)) == (0, 1, 1)
    # The client is told who took over, once routing has picked them.
    assert event_names(app, chat.id)[-3:] == ["Reassigned", "Assigned", "MessagePosted"]


def test_reassign_to_its_own_group_skips_the_operator_it_left(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.set_status(anna.operator_id, "break", caller=anna)
    ben = operator(app, "ben@example.com", sales)
    taken(app, ben, "conv-2", sales)
    taken(app, ben, "conv-3", sales)
    app.set_status(anna.operator_id, "working", caller=anna)
    # Anna (1 chat) is less loaded than Ben (2): only the exclusion sends it to Ben.

    app.reassign(chat.id, caller=ADMIN, group_id=sales.id)

    assert app.get_chat(chat.id).operator_id == ben.operator_id
    assert (load(app, anna), load(app, ben)) == (0, 3)


def test_reassign_without_a_target_goes_back_to_routing_in_the_chats_group(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)

    app.reassign(chat.id, caller=ADMIN)

    stored = app.get_chat(chat.id)
    assert (stored.operator_id, stored.group_id) == (ben.operator_id, sales.id)


def test_reassign_to_a_group_queues_the_chat_when_nobody_else_can_take_it(app, sales, support):
    anna = operator(app, "anna@example.com", sales, support)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    operator(app, "ben@example.com", support, working=False)
    before = app.head()

    app.reassign(chat.id, caller=ADMIN, group_id=support.id)

    stored = app.get_chat(chat.id)
    assert (stored.status, stored.operator_id, stored.group_id) == (QUEUED, None, support.id)
    assert load(app, anna) == 0
    assert sorted(recorded_since(app, before)) == sorted(
        [(chat.id, "Reassigned"), (chat.id, "Queued"), (anna.operator_id, "ChatReleased")]
    )


def test_reassign_to_a_manual_group_queues_the_chat_even_when_someone_works(app, sales):
    vip = app.create_group(actor=ADMIN.actor, name="VIP", routing="manual").value
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", vip)

    app.reassign(chat.id, caller=ADMIN, group_id=vip.id)

    stored = app.get_chat(chat.id)
    assert (stored.status, stored.operator_id, stored.group_id) == (QUEUED, None, vip.id)
    assert (load(app, anna), load(app, ben)) == (0, 0)


def test_a_chat_sent_back_to_the_queue_can_be_taken_from_it_by_intercept(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    app.reassign(chat.id, caller=ADMIN, group_id=sales.id)  # nobody else: it queues
    ben = operator(app, "ben@example.com", sales)

    app.intercept(chat.id, caller=ben)

    stored = app.get_chat(chat.id)
    assert (stored.status, stored.operator_id) == (ACTIVE, ben.operator_id)
    assert load(app, ben) == 1


# -- who may reassign -------------------------------------------------------------------------


def test_an_operator_may_not_reassign_unless_the_company_allows_it(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)
    before = app.head()

    with pytest.raises(ReassignForbidden):
        app.reassign(chat.id, caller=anna, operator_id=ben.operator_id)
    with pytest.raises(ReassignForbidden):
        app.reassign(chat.id, caller=anna, group_id=sales.id)

    assert app.head() == before
    assert app.get_chat(chat.id).operator_id == anna.operator_id


def test_where_the_company_allows_it_an_operator_reassigns_their_own_chat(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)
    configure(app, operators_may_reassign=True)

    app.reassign(chat.id, caller=anna, operator_id=ben.operator_id)

    assert app.get_chat(chat.id).operator_id == ben.operator_id
    assert (load(app, anna), load(app, ben)) == (0, 1)
    assert app.chat_events(chat.id)[-1].actor == anna.actor


def test_where_the_company_allows_it_an_operator_still_reassigns_only_their_own(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)
    vip = app.create_group(actor=ADMIN.actor, name="VIP", routing="manual").value
    queued = handoff(app, "conv-2", vip)  # a manual group: it waits, held by nobody
    configure(app, operators_may_reassign=True)
    before = app.head()

    with pytest.raises(NotAssigned):
        app.reassign(chat.id, caller=ben, operator_id=ben.operator_id)
    with pytest.raises(NotAssigned):
        app.reassign(chat.id, caller=ben, group_id=sales.id)
    with pytest.raises(NotAssigned):
        app.reassign(queued.id, caller=ben, operator_id=ben.operator_id)

    assert app.head() == before
    assert app.get_chat(chat.id).operator_id == anna.operator_id


# -- mute -------------------------------------------------------------------------------------


def test_the_chats_operator_mutes_it_for_a_while(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)

    done = app.mute(chat.id, caller=anna, minutes=30)

    stored = app.get_chat(chat.id)
    assert done.value.muted and stored.muted
    assert stored.muted_until == clock.now() + timedelta(minutes=30)
    assert stored.is_muted(clock.now() + timedelta(minutes=29))
    assert not stored.is_muted(clock.now() + timedelta(minutes=30))
    assert done.position == app.head()


def test_another_operator_may_not_mute_or_unmute(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)
    app.mute(chat.id, caller=anna, minutes=None)
    before = app.head()

    with pytest.raises(NotAssigned):
        app.mute(chat.id, caller=ben, minutes=5)
    with pytest.raises(NotAssigned):
        app.unmute(chat.id, caller=ben)

    assert app.head() == before
    assert app.get_chat(chat.id).muted_until is None


def test_a_supervisor_unmutes_and_unmuting_again_records_nothing(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.mute(chat.id, caller=anna, minutes=None)

    lifted = app.unmute(chat.id, caller=ADMIN)
    before = app.head()
    again = app.unmute(chat.id, caller=anna)

    assert lifted.recorded is True
    assert again.recorded is False
    assert again.position == before == app.head()
    assert app.get_chat(chat.id).muted is False
    assert event_names(app, chat.id)[-2:] == ["Muted", "Unmuted"]


def test_a_mute_of_a_bad_length_is_refused(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    before = app.head()

    for minutes in (0, 10_081, True):
        with pytest.raises(InvalidValue):
            app.mute(chat.id, caller=anna, minutes=minutes)

    assert app.head() == before


# -- topic ------------------------------------------------------------------------------------


def test_the_chats_operator_changes_its_topic(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)

    done = app.change_topic(chat.id, caller=anna, topic="cards", subtopic="blocked")

    assert done.recorded is True
    stored = app.get_chat(chat.id)
    assert (stored.topic, stored.subtopic) == ("cards", "blocked")


def test_an_unchanged_topic_saves_nothing(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = handoff(app, "conv-1", sales, topic="cards")
    before = app.head()

    done = app.change_topic(chat.id, caller=anna, topic="cards", subtopic=None)

    assert done.recorded is False
    assert app.head() == before


def test_another_operator_may_not_change_the_topic(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)
    before = app.head()

    with pytest.raises(NotAssigned):
        app.change_topic(chat.id, caller=ben, topic="cards", subtopic=None)

    assert app.head() == before


@pytest.fixture
def intercepted(app, sales) -> tuple[Chat, Principal]:
    """An active chat: Anna intercepted it (and greeted the client) at the clock's start."""
    return intercepted_chat(app, sales)


# -- editing and deleting messages ------------------------------------------------------------


@pytest.fixture
def answered(app, intercepted) -> tuple[Chat, Principal, UUID]:
    chat, anna = intercepted
    message = app.reply(chat.id, "Helo", caller=anna).value
    return chat, anna, message["id"]


def test_an_operator_edits_their_own_message(app, answered):
    chat, anna, message_id = answered

    done = app.edit_message(chat.id, message_id, "Hello", caller=anna)

    assert done.value["text"] == "Hello"
    assert app.get_chat(chat.id).message(message_id)["text"] == "Hello"
    posted = [e for e in app.chat_events(chat.id) if getattr(e, "message_id", None) == message_id]
    assert [(type(e).__name__, e.text) for e in posted] == [
        ("MessagePosted", "Helo"),
        ("MessageEdited", "Hello"),
    ]


def test_an_operator_deletes_their_own_message_and_cannot_edit_it_afterwards(app, answered):
    chat, anna, message_id = answered

    done = app.delete_message(chat.id, message_id, caller=anna)
    before = app.head()

    assert done.value["text"] == ""
    assert done.value["deleted_at"] is not None
    with pytest.raises(InvalidValue):
        app.edit_message(chat.id, message_id, "Hello", caller=anna)
    assert app.head() == before


def test_another_operator_may_not_edit_but_a_supervisor_may(app, sales, answered):
    chat, _, message_id = answered
    ben = operator(app, "ben@example.com", sales)

    with pytest.raises(NotAssigned):
        app.edit_message(chat.id, message_id, "Hello", caller=ben)
    app.edit_message(chat.id, message_id, "Hello", caller=ADMIN)

    assert app.get_chat(chat.id).message(message_id)["text"] == "Hello"


def test_the_greeting_is_not_the_operators_to_edit(app, answered):
    chat, anna, _ = answered
    greeting_id = app.get_chat(chat.id).messages[0]["id"]

    with pytest.raises(NotAssigned):
        app.edit_message(chat.id, greeting_id, "Hi", caller=anna)


@pytest.mark.parametrize("caller", ["operator", "supervisor"])
def test_no_edits_or_deletes_where_the_company_forbids_them(app, answered, caller):
    chat, anna, message_id = answered
    configure(app, forbid_message_edits=True, forbid_message_deletes=True)
    who = anna if caller == "operator" else ADMIN
    before = app.head()

    with pytest.raises(EditsForbidden):
        app.edit_message(chat.id, message_id, "Hello", caller=who)
    with pytest.raises(EditsForbidden):
        app.delete_message(chat.id, message_id, caller=who)

    assert app.head() == before
    assert app.get_chat(chat.id).message(message_id)["text"] == "Helo"


def test_edits_and_deletes_are_forbidden_apart(app, answered):
    chat, anna, message_id = answered
    configure(app, forbid_message_edits=True)

    with pytest.raises(EditsForbidden):
        app.edit_message(chat.id, message_id, "Hello", caller=anna)
    app.delete_message(chat.id, message_id, caller=anna)

    assert app.get_chat(chat.id).message(message_id)["deleted_at"] is not None


def test_deletes_forbidden_leave_edits_allowed(app, answered):
    chat, anna, message_id = answered
    configure(app, forbid_message_deletes=True)
    before = app.head()

    with pytest.raises(EditsForbidden):
        app.delete_message(chat.id, message_id, caller=anna)
    assert app.head() == before
    app.edit_message(chat.id, message_id, "Hello", caller=anna)

    assert app.get_chat(chat.id).message(message_id)["text"] == "Hello"
