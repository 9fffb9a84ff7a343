"""The conversation's company rules: the greeting on intercept, the rating prompt and the
required topic on close, and the company settings themselves, over the in-memory store.
"""

from __future__ import annotations

import pytest

from domain.chat import CLOSED
from domain.errors import (
    InvalidValue,
    TopicRequired,
)
from domain.settings import DEFAULTS
from tests.unit.helpers import (
    ADMIN,
    configure,
    event_names,
    handoff,
    load,
    operator,
    taken,
)

SYSTEM = "system"


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
