"""The operator's tools over HTTP: system messages in the client's language, private notes,
the reassign comment and notice; each refusal with its status and code, nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Setup
from tests.e2e.lifecycle.helpers import (
    assert_problem,
    changed_settings,
    hand_off,
    messages_of,
    ok,
)

# -- system messages in the client's language ----------------------------------------------------


def test_the_greeting_is_in_the_clients_language_and_overrides_win(setup: Setup) -> None:
    group = setup.group()
    _, op = setup.operator(group["id"], first_name="Олена")
    bot = setup.bot()
    texts = {"uk": {"greeting": "Добрий день! Я {first_name}, слухаю вас."}}
    with changed_settings(setup.admin, texts=texts) as changed:
        assert changed.json()["texts"] == texts
        client = {"id": "c-uk", "name": "Тарас", "language": "uk"}
        chat = hand_off(bot, group, client=client).json()
        ok(op.post(f"/v1/chats/{chat['id']}/intercept"))
        assert messages_of(bot, chat["id"])[-1]["text"] == "Добрий день! Я Олена, слухаю вас."
        ok(op.post(f"/v1/chats/{chat['id']}/close"))

        client = {"id": "c-ru", "name": "Иван", "language": "ru"}
        chat = hand_off(bot, group, client=client).json()
        ok(op.post(f"/v1/chats/{chat['id']}/intercept"))
        greeting = messages_of(bot, chat["id"])[-1]["text"]
        assert greeting == "Здравствуйте! Меня зовут Олена. Чем я могу вам помочь?"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"texts": {"en": {"farewell": "Bye"}}}, id="unknown-name"),
        pytest.param({"texts": {"en": {"greeting": "x" * 1001}}}, id="too-long"),
        pytest.param({"texts": {"en": {"greeting": "Hi {client_name}"}}}, id="bad-placeholder"),
        pytest.param({"texts": {"EN!": {"greeting": "Hi"}}}, id="bad-language"),
        pytest.param({"texts": {"en": "Hi"}}, id="not-an-object"),
        pytest.param({"language": "English"}, id="bad-company-language"),
        pytest.param({"language": None}, id="null-language"),
        pytest.param({"notify_operator_change": "yes"}, id="not-a-flag"),
    ],
)
def test_invalid_texts_are_refused_and_change_nothing(setup: Setup, body: Any) -> None:
    before = ok(setup.admin.get("/v1/settings"))
    assert_problem(setup.admin.put("/v1/settings", json=body), 422, "validation")
    assert ok(setup.admin.get("/v1/settings")) == before
