"""Chat detail: messages, the client, and the same client's previous dialogs."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import Setup, position


def test_chat_detail_lists_the_clients_previous_dialogs(setup: Setup) -> None:
    group = setup.group()
    _, op = setup.operator(group["id"])
    bot = setup.bot()
    client = {"id": f"client-{uuid.uuid4().hex[:8]}", "channel": "telegram"}

    def handoff(**extra) -> dict:
        body = {"external_id": f"ext-{uuid.uuid4()}", "client": client, "group_id": group["id"]}
        response = bot.post("/v1/chats", json={**body, **extra})
        assert response.status_code == 201, response.text
        return response.json()

    first = handoff(topic="billing")
    assert op.post(f"/v1/chats/{first['id']}/close").status_code == 200
    # The same client id on another channel is another person.
    bot.post(
        "/v1/chats",
        json={"external_id": f"ext-{uuid.uuid4()}", "client": {**client, "channel": "web"}},
    )
    second = bot.post(
        "/v1/chats",
        json={"external_id": f"ext-{uuid.uuid4()}", "client": client, "group_id": group["id"]},
    )
    reached = position(second)
    second = second.json()

    detail = op.get(f"/v1/chats/{second['id']}", params={"min_position": reached})

    assert detail.status_code == 200, detail.text
    previous = detail.json()["previous_chats"]
    assert [(p["id"], p["status"], p["topic"]) for p in previous] == [
        (first["id"], "closed", "billing")
    ]
    assert previous[0]["closed_by"] == {"kind": "operator", "id": first["operator_id"]}
    assert previous[0]["close_reason"] is None
    assert detail.json()["client"] == client
    # Bots see the chat, not the client's other dialogs.
    assert bot.get(f"/v1/chats/{second['id']}").json()["previous_chats"] == []


def test_previous_dialogs_of_a_client_without_a_channel(setup: Setup) -> None:
    bot = setup.bot()
    client = {"id": f"client-{uuid.uuid4().hex[:8]}"}
    first = bot.post("/v1/chats", json={"external_id": "a", "client": client}).json()
    second = bot.post("/v1/chats", json={"external_id": "b", "client": client})
    reached = position(second)

    detail = setup.admin.get(f"/v1/chats/{second.json()['id']}", params={"min_position": reached})

    assert detail.status_code == 200, detail.text
    assert [p["id"] for p in detail.json()["previous_chats"]] == [first["id"]]
