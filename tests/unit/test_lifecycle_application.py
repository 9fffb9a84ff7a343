"""Reassign, mute, topics, message edits, company settings and the engine's timed actions,
through the Switchboard application over the in-memory event store.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from application.app import Switchboard
from application.auth import Principal
from application.errors import UnknownReference
from domain.chat import ACTIVE, ASSIGNED, CLOSED, QUEUED, Chat
from domain.errors import (
    AlreadyIntercepted,
    ChatClosed,
    EditsForbidden,
    InvalidValue,
    NoCapacity,
    NotAssigned,
    NotWorking,
    ReassignForbidden,
    TopicRequired,
)
from domain.group import Group
from domain.settings import DEFAULTS
from tests.unit.helpers import ADMIN, BOT, event_names, handoff, load, operator

SYSTEM = "system"


# -- helpers ---------------------------------------------------------------------------------


def taken(app: Switchboard, principal: Principal, external_id: str, group: Group) -> Chat:
    """A chat handed off to ``group``, which ``principal`` must be the one to receive."""
    chat = handoff(app, external_id, group)
    assert chat.operator_id == principal.operator_id
    return chat


def recorded_since(app: Switchboard, position: int | None) -> list[tuple[UUID, str]]:
    """Every event written to the log after ``position``: (aggregate id, event name)."""
    notifications = app.recorder.select_notifications(start=(position or 0) + 1, limit=1000)
    return [(n.originator_id, n.topic.rsplit(".", 1)[-1]) for n in notifications]


def configure(app: Switchboard, **changes) -> None:
    app.change_settings(changes, actor=ADMIN.actor)


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
    # One command wrote the three facts and nothing else; its position is the last of them.
    assert sorted(recorded_since(app, before)) == sorted(
        [
            (chat.id, "Reassigned"),
            (anna.operator_id, "ChatReleased"),
            (ben.operator_id, "ChatTaken"),
        ]
    )
    assert done.position == app.head() == before + 3


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
    assert event_names(app, chat.id)[-2:] == ["Reassigned", "Assigned"]


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


def test_the_engine_lifts_a_timed_mute_only_once_its_time_is_up(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.mute(chat.id, caller=anna, minutes=10)
    clock.advance(minutes=9, seconds=59)
    before = app.head()

    early = app.lift_expired_mute(chat.id)
    assert (early.value, early.recorded, app.head()) == (False, False, before)

    clock.advance(seconds=1)
    lifted = app.lift_expired_mute(chat.id)
    assert (lifted.value, lifted.recorded) == (True, True)
    assert app.get_chat(chat.id).muted is False
    assert app.chat_events(chat.id)[-1].actor == SYSTEM

    before = app.head()
    again = app.lift_expired_mute(chat.id)
    assert (again.value, again.recorded, app.head()) == (False, False, before)


def test_the_engine_never_lifts_a_mute_without_an_end_nor_acts_on_an_unknown_chat(
    app, clock, sales
):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.mute(chat.id, caller=anna, minutes=None)
    clock.advance(days=30)
    before = app.head()

    assert app.lift_expired_mute(chat.id).value is False
    assert app.lift_expired_mute(uuid4()).value is False
    assert app.head() == before
    assert app.get_chat(chat.id).muted is True


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


# -- the greeting on intercept ----------------------------------------------------------------


def test_intercept_greets_the_client_in_the_operators_name(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)

    app.intercept(chat.id, caller=anna)

    greeting = app.get_chat(chat.id).messages[-1]
    assert greeting["author"] == "system"
    assert greeting["author_id"] is None
    assert greeting["text"] == "Hello! My name is Anna. How can I help you?"
    assert event_names(app, chat.id)[-2:] == ["Intercepted", "MessagePosted"]
    assert app.chat_events(chat.id)[-1].actor == SYSTEM


def test_the_greeting_follows_the_companys_template(app, sales):
    configure(app, greeting_template="{first_name} {last_name} here, hello!")
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)

    app.intercept(chat.id, caller=anna)

    assert app.get_chat(chat.id).messages[-1]["text"] == "Anna Test here, hello!"


def test_an_empty_greeting_template_sends_no_greeting(app, sales):
    configure(app, greeting_template="")
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)

    app.intercept(chat.id, caller=anna)

    assert app.get_chat(chat.id).messages == []
    assert event_names(app, chat.id) == ["ChatRequested", "Assigned", "Intercepted"]


def test_intercepting_from_the_queue_greets_too(app, sales):
    chat = handoff(app, "conv-1", sales)
    ben = operator(app, "ben@example.com", sales)

    app.intercept(chat.id, caller=ben)

    assert app.get_chat(chat.id).messages[-1]["text"].startswith("Hello! My name is Ben.")


def test_a_greeting_template_that_would_break_every_intercept_is_refused(app):
    before = app.head()

    for template in ("Hi {name}", "Hi {first_name", "Hi {first_name:d}"):
        with pytest.raises(InvalidValue):
            configure(app, greeting_template=template)

    assert app.head() == before
    assert app.company_settings()["greeting_template"] == DEFAULTS["greeting_template"]


# -- close: rating prompt and required topic --------------------------------------------------


def test_close_asks_for_a_rating_before_closing_when_the_company_wants_it(app, sales):
    configure(app, rating_prompt=True, rating_prompt_text="Rate us, 1 to 5")
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)

    app.close_chat(chat.id, caller=anna, reason="solved")

    stored = app.get_chat(chat.id)
    assert event_names(app, chat.id)[-2:] == ["MessagePosted", "Closed"]
    assert (stored.messages[-1]["author"], stored.messages[-1]["text"]) == (
        "system",
        "Rate us, 1 to 5",
    )
    assert stored.status == CLOSED


def test_no_rating_prompt_by_default(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)

    app.close_chat(chat.id, caller=anna, reason="solved")

    assert event_names(app, chat.id) == ["ChatRequested", "Assigned", "Closed"]


def test_an_empty_rating_prompt_text_sends_no_prompt(app, sales):
    configure(app, rating_prompt=True, rating_prompt_text="")
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)

    app.close_chat(chat.id, caller=anna, reason="solved")

    assert event_names(app, chat.id)[-2:] == ["Assigned", "Closed"]


def test_a_required_topic_stops_operators_and_supervisors_from_closing(app, sales):
    configure(app, require_topic_to_close=True, rating_prompt=True)
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)  # handed off without a topic
    before = app.head()

    with pytest.raises(TopicRequired):
        app.close_chat(chat.id, caller=anna, reason="solved")
    with pytest.raises(TopicRequired):
        app.close_chat(chat.id, caller=ADMIN, reason="solved")

    assert app.head() == before, "not even the rating prompt was posted"
    assert app.get_chat(chat.id).is_open
    assert load(app, anna) == 1

    app.change_topic(chat.id, caller=anna, topic="cards", subtopic=None)
    app.close_chat(chat.id, caller=anna, reason="solved")
    assert app.get_chat(chat.id).status == CLOSED


def test_the_engine_closes_an_abandoned_chat_even_without_the_required_topic(app, clock, sales):
    configure(app, require_topic_to_close=True)
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    clock.advance(minutes=15)

    assert app.close_if_inactive(chat.id).value is True
    assert app.get_chat(chat.id).status == CLOSED


# -- the engine closes chats whose client went silent -----------------------------------------


@pytest.fixture
def intercepted(app, sales) -> tuple[Chat, Principal]:
    """An active chat: Anna intercepted it (and greeted the client) at the clock's start."""
    anna = operator(app, "anna@example.com", sales)
    chat = taken(app, anna, "conv-1", sales)
    app.intercept(chat.id, caller=anna)
    return chat, anna


def test_an_active_chat_closes_after_fifteen_silent_minutes(app, clock, intercepted):
    chat, anna = intercepted
    clock.advance(minutes=14, seconds=59)
    before = app.head()

    early = app.close_if_inactive(chat.id)
    assert (early.value, early.recorded, app.head()) == (False, False, before)
    assert app.get_chat(chat.id).status == ACTIVE

    clock.advance(seconds=1)
    done = app.close_if_inactive(chat.id)

    stored = app.get_chat(chat.id)
    assert (done.value, done.recorded) == (True, True)
    assert (stored.status, stored.close_reason, stored.closed_by) == (
        CLOSED,
        "inactivity",
        SYSTEM,
    )
    assert load(app, anna) == 0, "closing releases the operator's place"
    assert done.position == app.head()


def test_closing_for_inactivity_happens_once(app, clock, intercepted):
    chat, _ = intercepted
    clock.advance(minutes=15)
    app.close_if_inactive(chat.id)
    clock.advance(minutes=15)
    before = app.head()

    again = app.close_if_inactive(chat.id)

    assert (again.value, again.recorded, app.head()) == (False, False, before)
    assert event_names(app, chat.id).count("Closed") == 1


def test_a_chat_whose_client_awaits_an_answer_is_never_closed_for_inactivity(
    app, clock, intercepted
):
    chat, _ = intercepted
    app.relay_client_message(chat.id, "hello? anyone?", bot=BOT)
    clock.advance(hours=5)

    assert app.close_if_inactive(chat.id).value is False
    assert app.get_chat(chat.id).status == ACTIVE


def test_the_silence_counts_from_the_last_message(app, clock, intercepted):
    chat, anna = intercepted
    clock.advance(minutes=1)
    app.relay_client_message(chat.id, "my card is blocked", bot=BOT)
    clock.advance(minutes=9)
    app.reply(chat.id, "Unblocked it. Anything else?", caller=anna)  # at +10

    clock.advance(minutes=14, seconds=59)
    assert app.close_if_inactive(chat.id).value is False
    clock.advance(seconds=1)
    assert app.close_if_inactive(chat.id).value is True


def test_the_inactivity_limit_follows_the_company_setting(app, clock, intercepted):
    chat, _ = intercepted
    configure(app, inactivity_close_minutes=5)
    clock.advance(minutes=5)

    assert app.close_if_inactive(chat.id).value is True


def test_no_chat_is_closed_for_inactivity_when_the_setting_is_off(app, clock, intercepted):
    chat, _ = intercepted
    configure(app, inactivity_close_minutes=None)
    clock.advance(days=3)
    before = app.head()

    assert app.close_if_inactive(chat.id).value is False
    assert app.head() == before
    assert app.get_chat(chat.id).status == ACTIVE


def test_only_active_chats_are_closed_for_inactivity(app, clock, sales):
    anna = operator(app, "anna@example.com", sales, max_chats=1)
    assigned = taken(app, anna, "conv-1", sales)  # the bot still talks: never intercepted
    queued = handoff(app, "conv-2", sales)
    assert queued.status == QUEUED
    clock.advance(hours=2)
    before = app.head()

    assert app.close_if_inactive(assigned.id).value is False
    assert app.close_if_inactive(queued.id).value is False
    assert app.close_if_inactive(uuid4()).value is False
    assert app.head() == before
    assert app.get_chat(assigned.id).status == ASSIGNED


def test_the_rating_prompt_is_posted_when_the_engine_closes_too(app, clock, intercepted):
    chat, _ = intercepted
    configure(app, rating_prompt=True)
    clock.advance(minutes=15)

    app.close_if_inactive(chat.id)

    stored = app.get_chat(chat.id)
    assert stored.messages[-1]["text"] == DEFAULTS["rating_prompt_text"]
    assert event_names(app, chat.id)[-2:] == ["MessagePosted", "Closed"]


# -- the engine marks idle operators absent ---------------------------------------------------


def test_a_working_operator_idle_since_before_the_limit_is_marked_absent(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)  # working since the clock's start
    chat = taken(app, anna, "conv-1", sales)
    started = clock.now()
    clock.advance(minutes=30)

    done = app.mark_absent_if_idle(anna.operator_id, idle_since=started)

    stored = app.get_operator(anna.operator_id)
    assert (done.value, done.recorded) == (True, True)
    assert stored.status == "absent"
    assert stored.status_since == clock.now()
    assert stored.chat_ids == [chat.id], "an absent operator keeps their chats"
    assert app.get_chat(chat.id).operator_id == anna.operator_id


def test_marking_absent_happens_once(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    clock.advance(minutes=30)
    app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now())
    clock.advance(minutes=30)
    before = app.head()

    again = app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now())

    assert (again.value, again.recorded, app.head()) == (False, False, before)


def test_an_operator_whose_status_changed_after_idle_since_is_left_alone(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    idle_since = clock.now() - timedelta(seconds=1)  # what a lagging read model last saw
    clock.advance(minutes=30)
    before = app.head()

    done = app.mark_absent_if_idle(anna.operator_id, idle_since=idle_since)

    assert (done.value, app.head()) == (False, before)
    assert app.get_operator(anna.operator_id).status == "working"


@pytest.mark.parametrize("status", ["break", "leaving", "offline"])
def test_only_working_operators_are_marked_absent(app, clock, sales, status):
    anna = operator(app, "anna@example.com", sales)
    app.set_status(anna.operator_id, status, caller=anna)
    clock.advance(hours=1)
    before = app.head()

    assert app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now()).value is False
    assert app.mark_absent_if_idle(uuid4(), idle_since=clock.now()).value is False
    assert app.head() == before
    assert app.get_operator(anna.operator_id).status == status


def test_an_absent_operator_gets_no_new_chats(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    app.mark_absent_if_idle(anna.operator_id, idle_since=clock.now())

    chat = handoff(app, "conv-1", sales)

    assert chat.status == QUEUED
    assert load(app, anna) == 0


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
    configure(app, forbid_message_edits=True)
    who = anna if caller == "operator" else ADMIN
    before = app.head()

    with pytest.raises(EditsForbidden):
        app.edit_message(chat.id, message_id, "Hello", caller=who)
    with pytest.raises(EditsForbidden):
        app.delete_message(chat.id, message_id, caller=who)

    assert app.head() == before
    assert app.get_chat(chat.id).message(message_id)["text"] == "Helo"


# -- company settings -------------------------------------------------------------------------


def test_the_defaults_apply_until_an_admin_changes_something(app):
    assert app.company_settings() == DEFAULTS


def test_change_settings_changes_only_the_settings_named(app):
    done = app.change_settings({"rating_prompt": True}, actor=ADMIN.actor)

    assert done.recorded is True
    assert done.value == DEFAULTS | {"rating_prompt": True}
    assert app.company_settings() == DEFAULTS | {"rating_prompt": True}

    app.change_settings({"inactivity_close_minutes": None}, actor=ADMIN.actor)
    assert app.company_settings() == DEFAULTS | {
        "rating_prompt": True,
        "inactivity_close_minutes": None,
    }


def test_a_change_to_the_values_in_force_saves_nothing(app):
    app.change_settings({"rating_prompt": True}, actor=ADMIN.actor)
    before = app.head()

    again = app.change_settings({"rating_prompt": True}, actor=ADMIN.actor)

    assert again.recorded is False
    assert app.head() == again.position == before


def test_a_first_change_to_the_defaults_is_reported_as_no_change_the_second_time(app):
    app.change_settings({"rating_prompt": False}, actor=ADMIN.actor)
    before = app.head()

    again = app.change_settings({"rating_prompt": False}, actor=ADMIN.actor)

    assert again.recorded is False
    assert app.head() == before


def test_invalid_settings_save_nothing(app):
    before = app.head()

    for changes in ({"colour": "blue"}, {"rating_prompt": 1}, {"absent_after_minutes": 0}):
        with pytest.raises(InvalidValue):
            app.change_settings(changes, actor=ADMIN.actor)

    assert app.head() == before
    assert app.company_settings() == DEFAULTS
