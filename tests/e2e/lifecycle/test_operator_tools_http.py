"""The operator's tools over HTTP: system messages in the client's language, private notes,
the reassign comment and notice; each refusal with its status and code, nothing recorded."""

from __future__ import annotations

import uuid
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


# -- quick replies --------------------------------------------------------------------------------


def test_quick_replies_kept_listed_and_sent(setup: Setup, held: dict[str, Any]) -> None:
    chat_id, op, bot, group = held["id"], held["op"], held["bot"], held["group"]
    _, lead = setup.operator(working=False, role="supervisor")
    text = "Hi {client_name}, {operator_first_name} here. Anything else?"
    shared = ok(lead.post("/v1/quick-replies", json={"shortcut": "hi", "text": text}), 201)
    assert shared["scope"] == "company"
    body = {"shortcut": "refund", "text": "Refunds take 3 days.", "group_id": group["id"]}
    grouped = ok(lead.post("/v1/quick-replies", json=body), 201)
    body = {"shortcut": "mine", "text": "My own", "title": "Own", "personal": True}
    own = ok(op.post("/v1/quick-replies", json=body), 201)
    assert own["owner_id"] == held["operator"]["id"]

    listed = ok(op.get("/v1/quick-replies"))["items"]
    mine = {shared["id"], grouped["id"], own["id"]}
    assert mine <= {r["id"] for r in listed}
    found = ok(op.get("/v1/quick-replies", params={"q": "REFUNDS"}))["items"]
    assert [r["id"] for r in found if r["id"] in mine] == [grouped["id"]]
    by_group = ok(op.get("/v1/quick-replies", params={"group_id": group["id"]}))["items"]
    assert [r["id"] for r in by_group] == [grouped["id"]]
    _, stranger = setup.operator(setup.group()["id"], working=False)
    assert own["id"] not in {r["id"] for r in ok(stranger.get("/v1/quick-replies"))["items"]}

    sent = op.post(f"/v1/chats/{chat_id}/messages", json={"quick_reply_id": shared["id"]})
    assert ok(sent, 201)["text"] == "Hi Ann, Zoë here. Anything else?"
    assert messages_of(bot, chat_id)[-1]["text"] == "Hi Ann, Zoë here. Anything else?"

    changed = ok(op.patch(f"/v1/quick-replies/{own['id']}", json={"text": "Mine, changed"}))
    assert changed["text"] == "Mine, changed"
    assert op.delete(f"/v1/quick-replies/{own['id']}").status_code == 204
    assert_problem(op.delete(f"/v1/quick-replies/{own['id']}"), 404, "not_found")
    assert lead.delete(f"/v1/quick-replies/{shared['id']}").status_code == 204
    assert lead.delete(f"/v1/quick-replies/{grouped['id']}").status_code == 204


def test_quick_replies_refused_record_nothing(setup: Setup, held: dict[str, Any]) -> None:
    chat_id, op, bot = held["id"], held["op"], held["bot"]
    _, lead = setup.operator(working=False, role="supervisor")
    shared = ok(lead.post("/v1/quick-replies", json={"shortcut": "bye", "text": "Bye!"}), 201)
    head = ok(setup.admin.get("/readyz"))["position"]
    bad_bodies = [
        {"shortcut": "two words", "text": "x"},
        {"shortcut": "x", "text": "Hi {client_email}"},
        {"shortcut": "x" * 51, "text": "x"},
        {"shortcut": "x", "text": "x" * 10_001},
        {"shortcut": "x"},
        {"shortcut": "x", "text": "y", "personal": "yes"},
    ]
    for body in bad_bodies:
        assert_problem(lead.post("/v1/quick-replies", json=body), 422, "validation")
    unknown_group = {"shortcut": "x", "text": "y", "group_id": str(uuid.UUID(int=7))}
    assert_problem(lead.post("/v1/quick-replies", json=unknown_group), 422, "unknown_reference")
    assert_problem(
        op.post("/v1/quick-replies", json={"shortcut": "x", "text": "y"}), 403, "forbidden"
    )
    path = f"/v1/quick-replies/{shared['id']}"
    assert_problem(op.patch(path, json={"text": "Mine now"}), 403, "forbidden")
    assert_problem(op.delete(path), 403, "forbidden")
    assert_problem(lead.patch(path, json={"text": None}), 422, "validation")
    messages = f"/v1/chats/{chat_id}/messages"
    unknown = {"quick_reply_id": str(uuid.UUID(int=9))}
    assert_problem(op.post(messages, json=unknown), 422, "unknown_reference")
    both = {"quick_reply_id": shared["id"], "text": "and more"}
    assert_problem(op.post(messages, json=both), 422, "validation")
    assert_problem(bot.post(messages, json={"quick_reply_id": shared["id"]}), 422, "validation")
    assert ok(setup.admin.get("/readyz"))["position"] == head
    assert lead.delete(path).status_code == 204


# -- "anything left?" and the rating prompt ----------------------------------------------------


def test_the_clients_no_closes_the_chat_and_a_score_rates_it(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, op, bot = held["id"], held["op"], held["bot"]
    asked = ok(op.post(f"/v1/chats/{chat_id}/ask-resolved"), 201)
    assert asked["author"] == "system"
    assert [b["value"] for b in asked["buttons"]] == ["yes", "no"]
    messages = f"/v1/chats/{chat_id}/messages"
    ok(bot.post(messages, json={"text": "Yes", "button_value": "yes"}), 201)
    assert ok(op.get(f"/v1/chats/{chat_id}"))["status"] == "active"

    ok(op.post(f"/v1/chats/{chat_id}/ask-resolved"), 201)
    with changed_settings(setup.admin, rating_prompt=True):
        ok(bot.post(messages, json={"text": "No", "button_value": "no"}), 201)
        closed = ok(op.get(f"/v1/chats/{chat_id}"))
        assert closed["status"] == "closed"
        assert closed["close_reason"] == "resolved"
        assert closed["closed_by"]["kind"] == "bot"
        prompt = closed["messages"][-1]
        assert [b["value"] for b in prompt["buttons"]] == ["1", "2", "3", "4", "5"]

        echoed = ok(bot.post(messages, json={"text": "4", "button_value": "4"}), 201)
        assert echoed["button_value"] == "4"
        assert ok(op.get(f"/v1/chats/{chat_id}"))["rating"] == 4


def test_asking_is_refused_to_others_and_records_nothing(setup: Setup, held: dict[str, Any]):
    chat_id, bot = held["id"], held["bot"]
    _, other = setup.operator(held["group"]["id"])
    version = ok(setup.admin.get(f"/v1/chats/{chat_id}"))["version"]
    path = f"/v1/chats/{chat_id}/ask-resolved"

    assert_problem(other.post(path), 403, "not_assigned")
    assert_problem(bot.post(path), 403, "forbidden")
    assert_problem(held["op"].post(f"/v1/chats/{uuid.UUID(int=3)}/ask-resolved"), 404, "not_found")
    assert ok(setup.admin.get(f"/v1/chats/{chat_id}"))["version"] == version

    ok(held["op"].post(f"/v1/chats/{chat_id}/close"))
    assert_problem(held["op"].post(path), 409, "chat_closed")
