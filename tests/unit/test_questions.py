"""Questions asked with buttons: "anything left?" and the rating prompt, and their answers."""

from __future__ import annotations

import pytest

from domain.chat import CLOSED
from domain.errors import ChatClosed, NotAssigned
from domain.questions import RATING, RESOLVED, open_question, rating_buttons, resolved_buttons
from tests.unit.helpers import ADMIN, BOT, configure, event_names, intercepted_chat, operator

# -- the domain -------------------------------------------------------------------------------


def message(author, buttons=(), button_value=None):
    return {"author": author, "buttons": list(buttons), "button_value": button_value}


YES_NO = resolved_buttons({"yes": "Yes", "no": "No"})


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], None),
        ([message("system", YES_NO)], RESOLVED),
        ([message("system", rating_buttons()), message("system")], RATING),
        ([message("system", YES_NO), message("client", button_value="yes")], None),
        ([message("system", YES_NO), message("client")], RESOLVED),  # typed, not pressed
        ([message("operator", YES_NO)], None),  # an operator's own buttons are not ours
        ([message("system", YES_NO), message("operator", [{"text": "A", "value": "a"}])], None),
    ],
)
def test_the_open_question_is_the_latest_of_ours_not_yet_answered(messages, expected):
    assert open_question(messages) == expected


# -- "anything left?" -------------------------------------------------------------------------


def press(app, chat, value, text=None):
    return app.relay_client_message(chat.id, text or value, bot=BOT, button_value=value)


def test_the_clients_no_closes_the_chat_as_resolved_by_the_bot(app, sales):
    chat, anna = intercepted_chat(app, sales)

    asked = app.ask_resolved(chat.id, caller=anna).value
    assert asked["author"] == "system"
    assert [b["value"] for b in asked["buttons"]] == ["yes", "no"]
    assert asked["text"] == "Is there anything else I can help you with?"
    press(app, chat, "no", "No, that's all")

    closed = app.get_chat(chat.id)
    assert closed.status == CLOSED
    assert closed.close_reason == "resolved"
    assert closed.closed_by["kind"] == "bot"
    assert closed.messages[-1]["button_value"] == "no"
    assert app.get_operator(anna.operator_id).chat_ids == []


def test_the_clients_yes_keeps_the_chat_open_and_a_later_no_is_a_plain_message(app, sales):
    chat, anna = intercepted_chat(app, sales)
    app.ask_resolved(chat.id, caller=anna)

    press(app, chat, "yes")
    press(app, chat, "no")

    assert app.get_chat(chat.id).is_open
    assert event_names(app, chat.id)[-2:] == ["MessagePosted", "MessagePosted"]


def test_the_question_is_asked_in_the_clients_language(app, sales):
    chat = app.handoff(
        bot=BOT, external_id="c-ru", client={"id": "c", "language": "ru"}, group_id=sales.id
    ).value
    anna = operator(app, "anna@example.com", sales)
    app.intercept(chat.id, caller=anna)
    configure(app, texts={"ru": {"ask_resolved": ""}})  # empty: the built-in is asked

    asked = app.ask_resolved(chat.id, caller=anna).value

    assert asked["text"] == "Могу ли я ещё чем-нибудь вам помочь?"
    assert [b["text"] for b in asked["buttons"]] == ["Да, есть ещё вопрос", "Нет, это всё"]


def test_only_the_chats_operator_or_a_supervisor_asks(app, sales):
    chat, anna = intercepted_chat(app, sales)
    ben = operator(app, "ben@example.com", sales)
    before = app.head()

    with pytest.raises(NotAssigned):
        app.ask_resolved(chat.id, caller=ben)
    assert app.head() == before
    app.ask_resolved(chat.id, caller=ADMIN)
    app.close_chat(chat.id, caller=anna, reason=None)
    before = app.head()
    with pytest.raises(ChatClosed):
        app.ask_resolved(chat.id, caller=anna)
    assert app.head() == before


# -- the rating prompt ------------------------------------------------------------------------


def test_the_rating_prompt_carries_scores_and_a_pressed_one_rates_the_chat(app, sales):
    configure(app, rating_prompt=True)
    chat, anna = intercepted_chat(app, sales)
    app.close_chat(chat.id, caller=anna, reason="solved")
    prompt = app.get_chat(chat.id).messages[-1]
    assert [b["value"] for b in prompt["buttons"]] == ["1", "2", "3", "4", "5"]

    echoed = press(app, chat, "4").value

    assert echoed["button_value"] == "4"
    assert app.get_chat(chat.id).rating == 4
    assert event_names(app, chat.id)[-1] == "Rated"


def test_a_no_to_anything_left_with_the_rating_prompt_on_asks_for_a_rating(app, sales):
    configure(app, rating_prompt=True)
    chat, anna = intercepted_chat(app, sales)
    app.ask_resolved(chat.id, caller=anna)

    press(app, chat, "no")
    press(app, chat, "5")

    assert app.get_chat(chat.id).rating == 5
