"""System messages in the client's language, else the company's; built-in texts and overrides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidValue
from domain.settings import DEFAULTS, CompanySettings
from domain.system_texts import (
    BUILT_IN,
    NAMES,
    PLACEHOLDERS,
    check_text_template,
    language_for,
    system_text,
)
from tests.unit.chat_lifecycle_helpers import SUPERVISOR, T0, drain
from tests.unit.helpers import BOT, configure, event_names, operator

# -- the texts as data ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_every_system_message_has_a_built_in_text_in_each_language(language):
    assert set(BUILT_IN[language]) == set(NAMES)
    for name, text in BUILT_IN[language].items():
        check_text_template(name, text)
        assert text.strip()


def test_the_built_in_texts_are_not_the_english_ones_copied():
    for name in NAMES:
        assert len({BUILT_IN[language][name] for language in ("en", "ru", "uk")}) == 3


def test_a_client_reads_their_own_language_else_the_companys():
    settings = dict(DEFAULTS)
    assert language_for(settings, "ru") == "ru"
    assert language_for(settings, "uk-UA") == "uk"
    assert language_for(settings, "RU_ru") == "ru"
    assert language_for(settings, "de") == "en"
    assert language_for(settings, None) == "en"
    assert language_for(settings | {"language": "uk"}, "fr") == "uk"
    # A language with only the company's own texts counts as one the company has.
    assert language_for(settings | {"texts": {"de": {"greeting": "Hallo"}}}, "de") == "de"


def test_an_override_wins_and_other_names_keep_the_built_in_text():
    settings = DEFAULTS | {"texts": {"ru": {"greeting": "Привет! Я {first_name}."}}}

    assert system_text(settings, "greeting", "ru", first_name="Анна") == "Привет! Я Анна."
    assert system_text(settings, "rating_prompt", "ru") == BUILT_IN["ru"]["rating_prompt"]
    assert system_text(settings, "greeting", "en", first_name="Ann").startswith("Hello! My name")


def test_the_older_greeting_template_still_speaks_for_the_companys_language():
    settings = DEFAULTS | {"greeting_template": "Hi, {first_name} here"}

    assert system_text(settings, "greeting", None, first_name="Ann") == "Hi, Ann here"
    assert system_text(settings, "greeting", "ru", first_name="Анна").startswith("Здравствуйте")
    # An empty one has always meant no greeting at all.
    assert system_text(DEFAULTS | {"greeting_template": ""}, "greeting", "ru") == ""


@given(st.sampled_from(NAMES), st.sampled_from(["en", "ru", "uk", "de", None]), st.text())
def test_a_system_text_never_fails_to_fill_in(name, language, first_name):
    text = system_text(DEFAULTS, name, language, first_name=first_name, last_name="X")

    assert "{first_name}" not in text or "{first_name}" in first_name


def test_texts_hold_all_of_the_companys_overrides_at_once():
    company = CompanySettings.start(at=T0, actor=SUPERVISOR)
    company.change({"texts": {"ru": {"greeting": "А"}}}, at=T0, actor=SUPERVISOR)
    company.change({"texts": {"de": {"greeting": "C"}}}, at=T0, actor=SUPERVISOR)

    assert company.values["texts"] == {"de": {"greeting": "C"}}
    company.change({"texts": {}}, at=T0, actor=SUPERVISOR)
    assert company.values["texts"] == {}
    assert len(drain(company)) == 4


def test_an_unknown_text_name_refuses_the_whole_change():
    company = CompanySettings.start(at=T0, actor=SUPERVISOR)
    drain(company)

    with pytest.raises(InvalidValue, match="no system text"):
        company.change(
            {"language": "ru", "texts": {"ru": {"greeting": "А", "farewell": "Б"}}},
            at=T0,
            actor=SUPERVISOR,
        )

    assert drain(company) == [] and company.values == DEFAULTS


def test_each_text_may_use_only_its_own_placeholders():
    assert PLACEHOLDERS["ask_resolved"] == ()
    with pytest.raises(InvalidValue):
        check_text_template("ask_resolved", "Anything else, {first_name}?")


# -- the application: who reads which language ----------------------------------------------


def russian_chat(app, group, language="ru"):
    return app.handoff(
        bot=BOT,
        external_id="conv-ru",
        client={"id": "c-ru", "language": language},
        group_id=group.id,
    ).value


def test_the_greeting_is_in_the_clients_language(app, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = russian_chat(app, sales)

    app.intercept(chat.id, caller=anna)

    assert app.get_chat(chat.id).messages[-1]["text"] == (
        "Здравствуйте! Меня зовут Anna. Чем я могу вам помочь?"
    )


def test_a_client_language_without_texts_reads_the_companys(app, sales):
    configure(app, language="uk")
    anna = operator(app, "anna@example.com", sales)
    chat = russian_chat(app, sales, language="fr")

    app.intercept(chat.id, caller=anna)

    assert app.get_chat(chat.id).messages[-1]["text"].startswith("Вітаю!")


def test_the_rating_prompt_and_the_overrides_in_the_clients_language(app, sales):
    configure(app, rating_prompt=True, texts={"ru": {"rating_prompt": "Оцените нас!"}})
    anna = operator(app, "anna@example.com", sales)
    chat = russian_chat(app, sales)
    app.intercept(chat.id, caller=anna)

    app.close_chat(chat.id, caller=anna, reason="solved")

    assert app.get_chat(chat.id).messages[-1]["text"] == "Оцените нас!"


def test_the_engine_says_why_it_closes_an_abandoned_chat(app, clock, sales):
    anna = operator(app, "anna@example.com", sales)
    chat = russian_chat(app, sales, language="uk")
    app.intercept(chat.id, caller=anna)
    clock.advance(minutes=15)

    assert app.close_if_inactive(chat.id).value is True

    closed = app.get_chat(chat.id)
    assert closed.messages[-1]["text"] == BUILT_IN["uk"]["inactivity_close"]
    assert event_names(app, chat.id)[-2:] == ["MessagePosted", "Closed"]


def test_an_empty_override_sends_no_message(app, clock, sales):
    configure(app, texts={"en": {"inactivity_close": ""}})
    anna = operator(app, "anna@example.com", sales)
    chat = russian_chat(app, sales, language="en")
    app.intercept(chat.id, caller=anna)
    clock.advance(minutes=15)

    app.close_if_inactive(chat.id)

    assert event_names(app, chat.id)[-2:] == ["MessagePosted", "Closed"]  # the greeting
    assert app.get_chat(chat.id).messages[-1]["text"].startswith("Hello!")
