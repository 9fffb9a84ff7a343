"""Helpers of the chat lifecycle tests over HTTP: handoffs, loads, settings changed and put back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Setup, position

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}
DEFAULT_GREETING = "Hello! My name is {first_name}. How can I help you?"
SETTINGS_FIELDS = {
    "greeting_template",
    "require_topic_to_close",
    "rating_prompt",
    "rating_prompt_text",
    "operators_may_reassign",
    "inactivity_close_minutes",
    "absent_after_minutes",
    "forbid_message_edits",
    "forbid_message_deletes",
    "operators_may_block_clients",
    "language",
    "texts",
    "notify_operator_change",
    "default_group_id",
    "reassign_overdue_after_s",
}
# Bounded wait for the queue dispatcher, which has no min_position of its own.
DISPATCHER_WAIT_S = 10.0
# Handoffs racing a member's turn to working, in test_a_handoff_right_after_a_member_...
ROUTING_ROUNDS = 40
# Server and tests share one machine clock; this much slack covers the request's own time.
CLOCK_SLACK = timedelta(seconds=2)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["detail"]
    return body


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- helpers --------------------------------------------------------------------------------------


def named_token(setup: Setup, role: str) -> tuple[str, httpx.Client]:
    """A token of ``role`` with a known name (events name their actor ``role:name``)."""
    name = f"{role}-{uuid.uuid4().hex[:12]}"
    response = setup.admin.post("/v1/tokens", json={"role": role, "name": name})
    assert response.status_code == 201, response.text
    position(response)
    return name, setup.make_client(response.json()["token"])


def hand_off(bot: httpx.Client, group: dict[str, Any] | None, **fields: Any) -> httpx.Response:
    body = {
        "external_id": f"ext-{uuid.uuid4()}",
        "client": {"id": f"client-{uuid.uuid4().hex[:8]}", "name": "Ann"},
        **fields,
    }
    if group is not None:
        body["group_id"] = group["id"]
    response = bot.post("/v1/chats", json=body)
    assert response.status_code == 201, response.text
    position(response)
    return response


def operator_load(setup: Setup, operator_id: str) -> int:
    """The operator's load as its aggregate has it (the write model, no waiting)."""
    return ok(setup.admin.get(f"/v1/operators/{operator_id}"))["load"]


def directory_loads(setup: Setup, group_id: str, min_position: int) -> dict[str, int]:
    """Operators' loads as the directory read model has them once it reached ``min_position``."""
    listed = ok(
        setup.admin.get(
            "/v1/operators", params={"group_id": group_id, "min_position": min_position}
        )
    )
    return {row["id"]: row["load"] for row in listed["items"]}


def dashboard_ids(client: httpx.Client, tab: str, min_position: int) -> list[str]:
    page = ok(client.get("/v1/dashboard", params={"tab": tab, "min_position": min_position}))
    return [row["id"] for row in page["items"]]


def events_of(reader: httpx.Client, chat_id: str) -> list[dict[str, Any]]:
    return ok(reader.get(f"/v1/chats/{chat_id}/events"))["items"]


def messages_of(client: httpx.Client, chat_id: str) -> list[dict[str, Any]]:
    return ok(client.get(f"/v1/chats/{chat_id}/messages"))["items"]


@contextmanager
def changed_settings(admin: httpx.Client, **changes: Any) -> Iterator[httpx.Response]:
    """PUT ``changes`` to the company settings; put every setting back as it was on exit."""
    before = ok(admin.get("/v1/settings"))
    try:
        response = admin.put("/v1/settings", json=changes)
        assert response.status_code == 200, response.text
        yield response
    finally:
        restored = admin.put("/v1/settings", json=before)
        assert restored.status_code == 200, restored.text
        assert restored.json() == before


def routing_sees_everything(setup: Setup) -> None:
    """Wait until the directory, which routing reads, has caught up with the whole log."""
    head = ok(setup.admin.get("/readyz"))["position"]
    ok(setup.admin.get("/v1/operators", params={"limit": 1, "min_position": head}))


def wait_for_dispatcher(client: httpx.Client, reached: int) -> None:
    """Until the queue dispatcher has handled every event up to ``reached`` (via /readyz)."""
    deadline = time.monotonic() + DISPATCHER_WAIT_S
    while True:
        ready = client.get("/readyz").json()
        if ready["position"] - ready["lag"]["dispatcher"] >= reached:
            return
        assert time.monotonic() < deadline, f"dispatcher did not reach {reached}: {ready}"
        time.sleep(0.05)
