"""The walking skeleton over HTTP, as a new user does it with curl: handoff to rating."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.e2e.conftest import Setup, position

SL_FIRST_RESPONSE_S = 120


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_chat_goes_from_the_bot_to_an_operator_and_back(setup: Setup) -> None:
    group = setup.group(sl_first_response_s=SL_FIRST_RESPONSE_S)
    operator, op = setup.operator(group["id"])
    assert operator["status"] == "working"
    bot = setup.bot()
    external_id = f"ext-{uuid.uuid4()}"
    handoff_body = {
        "external_id": external_id,
        "client": {"id": f"client-{uuid.uuid4().hex[:8]}", "name": "Ann", "phone": "+15550100"},
        "topic": "billing",
        "group_id": group["id"],
        "transcript": [
            {"author": "client", "text": "my invoice is wrong"},
            {"author": "bot", "text": "let me find you a human"},
        ],
    }

    # The bot hands the chat off; the engine assigns it to the group's working operator.
    handed = bot.post("/v1/chats", json=handoff_body)
    assert handed.status_code == 201, handed.text
    chat = handed.json()
    assert chat["status"] == "assigned"
    assert chat["operator_id"] == operator["id"]
    assert chat["group_id"] == group["id"]
    assert chat["external_id"] == external_id
    chat_id = chat["id"]

    # The same external_id again: the same chat, not a second one.
    again = bot.post("/v1/chats", json=handoff_body)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == chat_id
    position(again)

    # The operator's dashboard shows it, once the read model has caught up with the handoff.
    mine = op.get("/v1/dashboard", params={"tab": "mine", "min_position": position(handed)})
    assert mine.status_code == 200, mine.text
    rows = [row for row in mine.json()["items"] if row["id"] == chat_id]
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "assigned"
    assert row["client_label"] == "+15550100"
    assert row["topic"] == "billing"
    assert row["last_message"]["text"] == "let me find you a human"
    assert row["last_message"]["author"] == "bot"
    waiting_since, sl_due_at = _at(row["waiting_since"]), _at(row["sl_due_at"])
    assert sl_due_at - waiting_since == timedelta(seconds=SL_FIRST_RESPONSE_S)

    intercepted = op.post(f"/v1/chats/{chat_id}/intercept")
    assert intercepted.status_code == 200, intercepted.text
    assert intercepted.json()["status"] == "active"
    position(intercepted)

    replied = op.post(f"/v1/chats/{chat_id}/messages", json={"text": "Hello Ann, checking now."})
    assert replied.status_code == 201, replied.text
    position(replied)
    reply_id = replied.json()["message_id"]

    # The bot picks the reply up, and ?after= gives only what came later.
    messages = bot.get(f"/v1/chats/{chat_id}/messages")
    assert messages.status_code == 200, messages.text
    items = messages.json()["items"]
    # The intercept greeted the client in the operator's name (the default template).
    assert [m["text"] for m in items] == [
        "my invoice is wrong",
        "let me find you a human",
        "Hello! My name is Olga. How can I help you?",
        "Hello Ann, checking now.",
    ]
    assert items[2]["author"] == "system"
    assert items[-1]["author"] == "operator"
    assert items[-1]["message_id"] == reply_id

    relayed = bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "thanks!"})
    assert relayed.status_code == 201, relayed.text
    position(relayed)
    assert relayed.json()["author"] == "client"

    later = bot.get(f"/v1/chats/{chat_id}/messages", params={"after": reply_id})
    assert later.status_code == 200, later.text
    assert [(m["author"], m["text"]) for m in later.json()["items"]] == [("client", "thanks!")]

    closed = op.post(f"/v1/chats/{chat_id}/close", json={"reason": "resolved"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_at"] is not None
    close_position = position(closed)

    closed_tab = op.get("/v1/dashboard", params={"tab": "closed", "min_position": close_position})
    assert closed_tab.status_code == 200, closed_tab.text
    assert chat_id in [r["id"] for r in closed_tab.json()["items"]]
    mine_after = op.get("/v1/dashboard", params={"tab": "mine", "min_position": close_position})
    assert mine_after.status_code == 200, mine_after.text
    assert chat_id not in [r["id"] for r in mine_after.json()["items"]]

    rated = bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 5, "comment": "quick"})
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"] == 5
    position(rated)

    # The audit trail, in order, and the chat as it stood at version 2.
    auditor = setup.token("auditor")
    for reader in (auditor, setup.admin):
        events = reader.get(f"/v1/chats/{chat_id}/events")
        assert events.status_code == 200, events.text
        assert [e["type"] for e in events.json()["items"]] == [
            "ChatRequested",
            "Assigned",
            "Intercepted",
            "MessagePosted",  # the greeting
            "MessagePosted",
            "MessagePosted",
            "Closed",
            "Rated",
        ]
        assert [e["version"] for e in events.json()["items"]] == list(range(1, 9))
    past = auditor.get(f"/v1/chats/{chat_id}", params={"version": 2})
    assert past.status_code == 200, past.text
    assert past.json()["status"] == "assigned"
    assert past.json()["operator_id"] == operator["id"]
    assert past.json()["rating"] is None


def test_a_closed_chat_handed_off_again_is_a_new_chat(setup: Setup) -> None:
    group = setup.group()
    _, op = setup.operator(group["id"])
    bot = setup.bot()
    body = {"external_id": f"ext-{uuid.uuid4()}", "client": {"id": "c1"}, "group_id": group["id"]}
    first = bot.post("/v1/chats", json=body)
    assert first.status_code == 201, first.text
    closed = op.post(f"/v1/chats/{first.json()['id']}/close")
    assert closed.status_code == 200, closed.text

    second = bot.post("/v1/chats", json=body)
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    assert second.json()["status"] == "assigned"


def test_the_idempotency_key_returns_the_same_chat(setup: Setup) -> None:
    group = setup.group()
    setup.operator(group["id"])
    bot = setup.bot()
    key = f"key-{uuid.uuid4()}"
    first = bot.post(
        "/v1/chats",
        headers={"Idempotency-Key": key},
        json={
            "external_id": f"ext-{uuid.uuid4()}",
            "client": {"id": "c1"},
            "group_id": group["id"],
        },
    )
    assert first.status_code == 201, first.text
    retry = bot.post(
        "/v1/chats",
        headers={"Idempotency-Key": key},
        json={
            "external_id": f"ext-{uuid.uuid4()}",
            "client": {"id": "c1"},
            "group_id": group["id"],
        },
    )
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == first.json()["id"]
    position(retry)


def test_a_client_without_a_phone_is_labelled_by_number(setup: Setup) -> None:
    group = setup.group()
    _, op = setup.operator(group["id"])
    bot = setup.bot()
    handed = bot.post(
        "/v1/chats",
        json={
            "external_id": f"ext-{uuid.uuid4()}",
            "client": {"id": f"c-{uuid.uuid4()}"},
            "group_id": group["id"],
        },
    )
    assert handed.status_code == 201, handed.text
    mine = op.get("/v1/dashboard", params={"tab": "mine", "min_position": position(handed)})
    assert mine.status_code == 200, mine.text
    [row] = mine.json()["items"]
    assert row["client_label"].startswith("Client #")
    assert row["last_message"] is None
