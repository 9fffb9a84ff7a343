"""Overdue answers over HTTP, against a server whose scheduler runs every second: a chat left
unanswered past its group's SL is ``overdue`` on its dashboard row (live on the stream too),
comes to the bot as ``chat.overdue``, reads plainly in the audit trail, and with
``reassign_overdue_after_s`` moves on to the other operator of its group."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.lifecycle.helpers import _at, changed_settings, events_of, hand_off, named_token, ok
from tests.e2e.sse import StreamReader, about

# The scheduler passes each second; the dashboard it reads follows within a moment.
SCHEDULER_WAIT_S = 20.0


def first_event(bot: httpx.Client, after: int, wanted: Callable[[dict[str, Any]], bool]) -> dict:
    """The first Event after ``after`` that is ``wanted``, long-polling the bot's feed."""
    deadline = time.monotonic() + SCHEDULER_WAIT_S
    while time.monotonic() < deadline:
        page = ok(bot.get("/v1/events", params={"after": after, "wait": 2, "limit": 500}))
        found = [item for item in page["items"] if wanted(item)]
        if found:
            return found[0]
        after = page["next_after"]
    raise AssertionError(f"no such Event within {SCHEDULER_WAIT_S:g} s")


def of_chat(chat_id: str, kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda item: item["type"] == kind and item["chat_id"] == chat_id


def row_of(client: httpx.Client, chat_id: str, min_position: int) -> dict[str, Any]:
    page = ok(client.get("/v1/dashboard", params={"tab": "all", "min_position": min_position}))
    (row,) = [r for r in page["items"] if r["id"] == chat_id]
    return row


def test_an_overdue_chat_is_marked_on_its_row_live_and_for_the_bot(
    server: ServerProcess, setup: Setup
) -> None:
    group = setup.group(sl_first_response_s=1)
    operator, op = setup.operator(group["id"])
    _, bot = named_token(setup, "bot")
    token = op.headers["Authorization"].removeprefix("Bearer ")

    with StreamReader(server.base_url, token) as stream:
        handed = hand_off(bot, group)
        chat = handed.json()
        assert chat["operator_id"] == operator["id"]
        assert row_of(setup.admin, chat["id"], position(handed))["overdue"] is False
        (*_, live) = stream.until(
            lambda e: about(chat["id"])(e) and e.data["overdue"], timeout=SCHEDULER_WAIT_S
        )
    assert live.data["operator_id"] == operator["id"]

    event = first_event(bot, position(handed), of_chat(chat["id"], "chat.overdue"))
    assert event["data"] == {
        "clock": "first_response",
        "due_at": event["data"]["due_at"],
    }
    assert _at(event["data"]["due_at"]) == _at(chat["requested_at"]) + timedelta(seconds=1)
    assert event["operator"]["id"] == operator["id"]
    assert row_of(setup.admin, chat["id"], event["position"])["overdue"] is True

    (audit,) = [e for e in events_of(setup.admin, chat["id"]) if e["type"] == "ResponseOverdue"]
    assert audit["actor"] == "system"
    assert audit["data"]["clock"] == "first_response"
    assert audit["data"]["operator_id"] == operator["id"]

    # The answer ends the client's wait: the row is no longer overdue.
    ok(op.post(f"/v1/chats/{chat['id']}/intercept"))
    answered = op.post(f"/v1/chats/{chat['id']}/messages", json={"text": "Sorry for the wait"})
    assert answered.status_code == 201, answered.text
    assert row_of(setup.admin, chat["id"], position(answered))["overdue"] is False


def test_a_chat_still_unanswered_moves_to_the_other_operator_of_its_group(setup: Setup) -> None:
    group = setup.group(sl_first_response_s=1)
    first, _ = setup.operator(group["id"])
    _, bot = named_token(setup, "bot")
    with changed_settings(setup.admin, reassign_overdue_after_s=1):
        handed = hand_off(bot, group)
        chat = handed.json()
        assert chat["operator_id"] == first["id"]
        second, _ = setup.operator(group["id"])
        setup.operator(setup.group()["id"])  # free, but of another group: never chosen

        overdue = first_event(bot, position(handed), of_chat(chat["id"], "chat.overdue"))
        moved = first_event(bot, overdue["position"], of_chat(chat["id"], "chat.reassigned"))

    assert moved["operator"]["id"] == second["id"]
    assert moved["data"] == {"group_id": group["id"], "from_operator_id": first["id"]}
    row = row_of(setup.admin, chat["id"], moved["position"])
    assert (row["operator_id"], row["overdue"]) == (second["id"], True)
    assert ok(setup.admin.get(f"/v1/operators/{first['id']}"))["load"] == 0
    trail = [(e["type"], e["actor"]) for e in events_of(setup.admin, chat["id"])]
    assert trail[-2:] == [("ResponseOverdue", "system"), ("Reassigned", "system")]


def test_the_setting_is_validated_and_listed(setup: Setup) -> None:
    for bad in (0, -1, 1.5, "60", True, 7 * 86_400 + 1):
        answer = setup.admin.put("/v1/settings", json={"reassign_overdue_after_s": bad})
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["code"] == "validation"
    assert ok(setup.admin.get("/v1/settings"))["reassign_overdue_after_s"] is None
