"""The company settings on their own: the rules they enforce and the events they record."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest
from eventsourcing.domain import Snapshot

from domain.errors import InvalidValue
from domain.settings import DEFAULTS, CompanySettings, check_setting, check_template, greeting
from tests.clock import FakeClock
from tests.unit.chat_lifecycle_helpers import (
    SUPERVISOR,
    T0,
    drain,
    minutes,
    names,
    rebuilt,
)
from tests.unit.fakes import in_memory_switchboard

# -- company settings -------------------------------------------------------------------------


def settings_started() -> CompanySettings:
    company = CompanySettings.start(at=T0, actor=SUPERVISOR)
    drain(company)
    return company


def test_the_company_settings_have_one_fixed_id_and_start_from_the_defaults():
    first = CompanySettings.start(at=T0, actor=SUPERVISOR)
    second = CompanySettings.start(at=minutes(1), actor="admin:other")

    assert first.id == second.id == CompanySettings.fixed_id()
    assert first.values == DEFAULTS
    assert DEFAULTS["inactivity_close_minutes"] == 15
    assert DEFAULTS["absent_after_minutes"] is None
    assert names(drain(first)) == ["Configured"]


def test_a_change_records_only_the_values_that_differ():
    company = settings_started()

    changed = company.change(
        {"rating_prompt": True, "require_topic_to_close": False, "inactivity_close_minutes": 30},
        at=minutes(1),
        actor=SUPERVISOR,
    )

    events = drain(company)
    assert changed is True
    assert names(events) == ["SettingsChanged"]
    assert events[0].changes == {"rating_prompt": True, "inactivity_close_minutes": 30}
    assert events[0].actor == SUPERVISOR
    assert company.values["rating_prompt"] is True
    assert company.values["inactivity_close_minutes"] == 30
    assert company.values["greeting_template"] == DEFAULTS["greeting_template"]


def test_a_change_to_the_same_values_records_nothing():
    company = settings_started()
    company.change({"rating_prompt": True}, at=T0, actor=SUPERVISOR)
    drain(company)

    assert company.change({"rating_prompt": True}, at=T0, actor=SUPERVISOR) is False
    assert company.change(dict(DEFAULTS, rating_prompt=True), at=T0, actor=SUPERVISOR) is False
    assert company.change({}, at=T0, actor=SUPERVISOR) is False
    assert drain(company) == []


def test_changing_the_settings_leaves_the_defaults_alone():
    company = settings_started()

    company.change({"greeting_template": "", "rating_prompt": True}, at=T0, actor=SUPERVISOR)

    assert DEFAULTS["greeting_template"] != ""
    assert DEFAULTS["rating_prompt"] is False


def test_settings_are_the_same_when_rebuilt_from_their_events():
    company = CompanySettings.start(at=T0, actor=SUPERVISOR)
    company.change({"absent_after_minutes": 20}, at=T0, actor=SUPERVISOR)
    company.change({"absent_after_minutes": None}, at=T0, actor=SUPERVISOR)
    company.change({"forbid_message_edits": True}, at=T0, actor=SUPERVISOR)

    copy = rebuilt(drain(company))

    assert copy.values == company.values == DEFAULTS | {"forbid_message_edits": True}


def test_an_unknown_setting_refuses_the_whole_change():
    company = settings_started()

    with pytest.raises(InvalidValue):
        company.change({"rating_prompt": True, "colour": "blue"}, at=T0, actor=SUPERVISOR)

    assert drain(company) == []
    assert company.values == DEFAULTS


BOOLEAN_SETTINGS = [
    "require_topic_to_close",
    "rating_prompt",
    "operators_may_reassign",
    "forbid_message_edits",
    "forbid_message_deletes",
    "operators_may_block_clients",
    "notify_operator_change",
]
MINUTES_SETTINGS = ["inactivity_close_minutes", "absent_after_minutes"]
TEXT_SETTINGS = ["greeting_template", "rating_prompt_text"]
GROUP_SETTINGS = ["default_group_id"]
LANGUAGE_SETTINGS = ["language"]
TEXTS_SETTINGS = ["texts"]
SECONDS_SETTINGS = ["reassign_overdue_after_s"]


def test_every_setting_has_a_rule_here():
    assert set(DEFAULTS) == set(
        BOOLEAN_SETTINGS
        + MINUTES_SETTINGS
        + TEXT_SETTINGS
        + GROUP_SETTINGS
        + LANGUAGE_SETTINGS
        + TEXTS_SETTINGS
        + SECONDS_SETTINGS
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name in BOOLEAN_SETTINGS for value in (True, False)]
    + [(name, value) for name in MINUTES_SETTINGS for value in (None, 1, 60, 7 * 24 * 60)]
    + [(name, value) for name in TEXT_SETTINGS for value in ("", "x" * 1000, "Bonjour !")]
    + [(name, value) for name in GROUP_SETTINGS for value in (None, uuid4())]
    + [("language", value) for value in ("ru", "uk", "pt-br", "de")]
    + [("texts", value) for value in ({}, {"ru": {"greeting": "Привет, я {first_name}"}})]
    + [(name, value) for name in SECONDS_SETTINGS for value in (None, 1, 7 * 86_400)],
)
def test_values_each_setting_accepts(name, value):
    check_setting(name, value)
    company = settings_started()

    company.change({name: value}, at=T0, actor=SUPERVISOR)

    assert company.values[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name in BOOLEAN_SETTINGS for value in (0, 1, "true", None)]
    + [
        (name, value)
        for name in MINUTES_SETTINGS
        for value in (True, False, 0, -5, 7 * 24 * 60 + 1, 1.5, "15")
    ]
    + [(name, value) for name in TEXT_SETTINGS for value in (None, 5, "x" * 1001, "a\x00b")]
    + [(name, value) for name in GROUP_SETTINGS for value in ("sales", 5, True)]
    + [
        (name, value)
        for name in SECONDS_SETTINGS
        for value in (True, False, 0, -5, 7 * 86_400 + 1, 1.5, "15")
    ]
    + [("language", value) for value in (None, "", "RU", "english language", 5, "x" * 30)]
    + [
        ("texts", value)
        for value in (
            None,
            [],
            {"ru": "hello"},
            {"EN": {"greeting": "Hi"}},
            {"en": {"farewell": "Bye"}},
            {"en": {"greeting": "x" * 1001}},
            {"en": {"greeting": "Hi {client_name}"}},
            {"en": {"rating_prompt": "Rate {first_name}"}},
            {"en": {"greeting": 5}},
            {"en": {"greeting": "a\x00b"}},
        )
    ]
    + [("no_such_setting", True)],
    ids=repr,
)
def test_values_each_setting_refuses(name, value):
    with pytest.raises(InvalidValue):
        check_setting(name, value)
    company = settings_started()

    with pytest.raises(InvalidValue):
        company.change({name: value}, at=T0, actor=SUPERVISOR)

    assert drain(company) == []


@pytest.mark.parametrize(
    "template",
    [
        "Hello, {name}!",  # unknown placeholder
        "Hello, {first_name} {email}",
        "Hello, {0}",  # positional
        "Hello, {}",
        "Hello, {first_name",  # broken braces
        "Hello, first_name}",
        "Hello, {first_name.upper}",  # attribute access
        "Hello, {first_name[0]}",  # indexing
        "Hello, {first_name:d}",  # a format spec fails at every intercept
        "Hello, {first_name:{last_name}}",
        "Hello, {first_name:>99999999}",  # ... or blows the greeting up
        "Hello, {first_name!r}",
    ],
)
def test_a_greeting_template_that_would_fail_at_intercept_is_refused(template):
    with pytest.raises(InvalidValue):
        check_template(template)
    with pytest.raises(InvalidValue):
        check_setting("greeting_template", template)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello! My name is {first_name}.", "Hello! My name is Anna."),
        ("{first_name} {last_name} here", "Anna Smith here"),
        ("No placeholder at all", "No placeholder at all"),
        ("Braces {{first_name}} are escaped", "Braces {first_name} are escaped"),
        ("", ""),
    ],
)
def test_the_greeting_renders_the_operators_name(template, expected):
    check_template(template)

    assert (
        greeting({"greeting_template": template}, first_name="Anna", last_name="Smith") == expected
    )


def test_the_default_greeting_names_the_operator():
    assert greeting(DEFAULTS, first_name="Anna", last_name="Smith") == (
        "Hello! My name is Anna. How can I help you?"
    )


def test_a_name_with_braces_is_not_read_as_a_placeholder():
    text = greeting({"greeting_template": "Hi, {first_name}"}, first_name="{x}", last_name="")

    assert text == "Hi, {x}"


# -- one flag for edits and deletes, before version 2 -----------------------------------------


def test_edits_and_deletes_are_forbidden_apart():
    company = settings_started()

    company.change({"forbid_message_edits": True}, at=T0, actor=SUPERVISOR)

    assert company.values["forbid_message_edits"] is True
    assert company.values["forbid_message_deletes"] is False
    assert DEFAULTS["operators_may_block_clients"] is False


@pytest.mark.parametrize("flag", [True, False])
def test_an_old_single_edit_flag_forbade_deletes_too(flag):
    app = in_memory_switchboard(FakeClock())
    company = CompanySettings.start(at=T0, actor=SUPERVISOR)
    company.change({"forbid_message_edits": True}, at=T0, actor=SUPERVISOR)
    company.change({"forbid_message_edits": flag}, at=T0, actor=SUPERVISOR)
    stored = [app.mapper.to_stored_event(event) for event in drain(company)]
    old = []
    for event in stored:
        state = app.mapper.transcoder.decode(event.state)
        state.pop("class_version", None)
        old.append(replace(event, state=app.mapper.transcoder.encode(state)))
    app.recorder.insert_events(old)

    loaded = app.repository.get(company.id)

    assert loaded.values["forbid_message_edits"] is flag
    assert loaded.values["forbid_message_deletes"] is flag


def test_a_settings_snapshot_from_before_version_2_reads_the_old_flag_for_both():
    company = settings_started()
    company.change({"forbid_message_edits": True}, at=T0, actor=SUPERVISOR)
    drain(company)
    snapshot = Snapshot.take(company)
    values = {
        k: v
        for k, v in snapshot.state["values"].items()
        if k not in ("forbid_message_deletes", "operators_may_block_clients")
    }
    old_state = dict(snapshot.state, values=values)
    old_state.pop("class_version")

    loaded = replace(snapshot, state=old_state).mutate(None)

    assert loaded.values["forbid_message_deletes"] is True
    # A setting added since has its default, and can be changed.
    assert loaded.current("operators_may_block_clients") is False
    assert loaded.change({"operators_may_block_clients": True}, at=T0, actor=SUPERVISOR)
