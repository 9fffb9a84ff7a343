"""Helpers of the Events tests: fast retry settings, a chat's whole story, webhooks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position, serving
from tests.e2e.lifecycle.helpers import named_token, ok

T = TypeVar("T")

# Retries in fractions of a second, so the tests run in seconds; local receivers allowed.
FAST_WEBHOOKS = {
    "SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "true",
    "SWITCHBOARD_WEBHOOK_TIMEOUT_S": "1",
    "SWITCHBOARD_WEBHOOK_RETRY_FIRST_S": "0.1",
    "SWITCHBOARD_WEBHOOK_RETRY_FACTOR": "1.5",
    "SWITCHBOARD_WEBHOOK_RETRY_MAX_S": "0.5",
    "SWITCHBOARD_WEBHOOK_ATTEMPTS": "30",
}


def webhook_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AbstractContextManager[ServerProcess]:
    """A ``switchboard serve`` whose webhook sender may reach this machine's receivers and
    retries quickly (``FAST_WEBHOOKS``)."""
    return serving(database_url, tmp_path_factory, **FAST_WEBHOOKS)


# Every Event type one chat's story below gives.
STORY_TYPES = {
    "chat.assigned",
    "chat.intercepted",
    "message.created",
    "message.edited",
    "message.deleted",
    "chat.muted",
    "chat.unmuted",
    "chat.closed",
    "chat.rated",
}


def bot_and_operator(setup: Setup) -> tuple[str, httpx.Client, dict[str, Any], httpx.Client]:
    """A bot with a known name, and a working operator of a fresh group."""
    group = setup.group()
    operator, staff = setup.operator(group["id"])
    name, bot = named_token(setup, "bot")
    bot.group_id = group["id"]  # type: ignore[attr-defined]
    return name, bot, operator, staff


def handoff(bot: httpx.Client) -> dict[str, Any]:
    response = bot.post(
        "/v1/chats",
        json={
            "external_id": f"conv-{uuid.uuid4().hex[:10]}",
            "client": {"id": f"client-{uuid.uuid4().hex[:8]}"},
            "group_id": bot.group_id,  # type: ignore[attr-defined]
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def story(bot: httpx.Client, staff: httpx.Client, *, messages: int = 2) -> tuple[str, int]:
    """A chat from handoff to rating, touching every Event type it can; its id and the
    position its last command reached."""
    chat = handoff(bot)
    chat_id = chat["id"]
    ok(staff.post(f"/v1/chats/{chat_id}/intercept"))
    for n in range(messages):
        ok(bot.post(f"/v1/chats/{chat_id}/messages", json={"text": f"client {n}"}), 201)
        reply = ok(staff.post(f"/v1/chats/{chat_id}/messages", json={"text": f"reply {n}"}), 201)
    ok(staff.patch(f"/v1/chats/{chat_id}/messages/{reply['message_id']}", json={"text": "fixed"}))
    ok(staff.delete(f"/v1/chats/{chat_id}/messages/{reply['message_id']}"))
    ok(staff.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 5}))
    ok(staff.post(f"/v1/chats/{chat_id}/unmute"))
    ok(staff.post(f"/v1/chats/{chat_id}/close", json={"reason": "done"}))
    last = bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 5})
    assert last.status_code == 200, last.text
    return chat_id, position(last)


def register(admin: httpx.Client, url: str, **fields: Any) -> dict[str, Any]:
    response = admin.post("/v1/webhooks", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    position(response)
    return response.json()


def feed(client: httpx.Client, after: int = 0, **params: Any) -> dict[str, Any]:
    return ok(client.get("/v1/events", params={"after": after, "limit": 500, **params}))


def all_events(client: httpx.Client, upto: int) -> list[dict[str, Any]]:
    """Every Event the caller may read, once the read model has reached ``upto``."""
    found, after = [], 0
    while True:
        page = feed(client, after, wait=5)
        found += page["items"]
        after = page["next_after"]
        if after >= upto:
            return found


def eventually(check: Callable[[], T | None], timeout: float = 10.0) -> T:
    """What ``check`` gives once it gives something: for the sender's bookkeeping, which
    follows the receiver's answer by a moment and has no log position to wait on."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"{check.__name__} did not hold within {timeout:g} s"
            return value
        time.sleep(0.05)
