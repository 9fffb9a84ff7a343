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


# -- private notes --------------------------------------------------------------------------------


def test_staff_add_notes_the_bot_never_reads(setup: Setup, held: dict[str, Any]) -> None:
    chat_id, op, bot = held["id"], held["op"], held["bot"]
    note = ok(op.post(f"/v1/chats/{chat_id}/notes", json={"text": "VIP: be kind"}), 201)
    assert note["author_id"] == held["operator"]["id"] and note["text"] == "VIP: be kind"
    ok(setup.admin.post(f"/v1/chats/{chat_id}/notes", json={"text": "Refund approved"}), 201)

    detail = ok(op.get(f"/v1/chats/{chat_id}"))
    assert [n["text"] for n in detail["notes"]] == ["VIP: be kind", "Refund approved"]
    assert ok(bot.get(f"/v1/chats/{chat_id}"))["notes"] == []
    texts = [m["text"] for m in messages_of(bot, chat_id)]
    assert "VIP: be kind" not in texts and "Refund approved" not in texts
    types = [e["type"] for e in ok(setup.admin.get(f"/v1/chats/{chat_id}/events"))["items"]]
    assert types.count("NoteAdded") == 2


def test_notes_refused_change_nothing(setup: Setup, held: dict[str, Any]) -> None:
    chat_id, bot = held["id"], held["bot"]
    _, stranger = setup.operator(setup.group()["id"])
    path = f"/v1/chats/{chat_id}/notes"
    version = ok(setup.admin.get(f"/v1/chats/{chat_id}"))["version"]

    assert_problem(held["op"].post(path, json={"text": "x" * 5001}), 422, "validation")
    assert_problem(held["op"].post(path, json={"text": "   "}), 422, "validation")
    assert_problem(held["op"].post(path, json={}), 422, "validation")
    assert_problem(stranger.post(path, json={"text": "Not mine"}), 403, "forbidden")
    assert_problem(bot.post(path, json={"text": "Hi"}), 403, "forbidden")
    unknown = "/v1/chats/00000000-0000-0000-0000-000000000001/notes"
    assert_problem(held["op"].post(unknown, json={"text": "Hi"}), 404, "not_found")

    after = ok(setup.admin.get(f"/v1/chats/{chat_id}"))
    assert after["version"] == version and after["notes"] == []


# -- the reassign comment and the change-of-operator notice ---------------------------------------


def test_a_reassign_comment_is_a_note_and_the_client_is_told(setup: Setup, held: dict[str, Any]):
    chat_id, bot = held["id"], held["bot"]
    other, _ = setup.operator(held["group"]["id"], first_name="Boris")
    body = {"operator_id": other["id"], "comment": "Billing question"}

    ok(setup.admin.post(f"/v1/chats/{chat_id}/reassign", json=body))

    assert messages_of(bot, chat_id)[-1]["text"] == (
        "Your conversation is now with Boris, who will take it from here."
    )
    detail = ok(setup.admin.get(f"/v1/chats/{chat_id}"))
    assert [n["text"] for n in detail["notes"]] == ["Billing question"]


def test_a_reassign_comment_too_long_moves_nothing(setup: Setup, held: dict[str, Any]) -> None:
    chat_id = held["id"]
    other, _ = setup.operator(held["group"]["id"])
    before = ok(setup.admin.get(f"/v1/chats/{chat_id}"))
    body = {"operator_id": other["id"], "comment": "x" * 5001}

    assert_problem(setup.admin.post(f"/v1/chats/{chat_id}/reassign", json=body), 422, "validation")

    assert ok(setup.admin.get(f"/v1/chats/{chat_id}")) == before
