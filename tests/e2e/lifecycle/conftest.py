"""Fixtures of the chat lifecycle tests over HTTP.

The settings are company-wide and each module shares one server: every test that changes them
puts them back (``changed_settings``), and after each test the open chats are closed and the
working operators sent offline, so no test's routing meets another's operators or queues.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Setup
from tests.e2e.lifecycle.helpers import hand_off, named_token, ok


@pytest.fixture(autouse=True)
def tidy(setup: Setup) -> Iterator[None]:
    """After each test: no open chat (no queue to drain) and nobody working (nobody to route to),
    so the next test's routing sees only its own operators."""
    yield
    head = ok(setup.admin.get("/readyz"))["position"]
    cursor = None
    while True:
        params = {"tab": "all", "limit": 500, "min_position": head}
        page = ok(
            setup.admin.get(
                "/v1/dashboard", params={**params, "cursor": cursor} if cursor else params
            )
        )
        for row in page["items"]:
            if row["status"] != "closed":
                closed = setup.admin.post(f"/v1/chats/{row['id']}/close")
                assert closed.status_code in (200, 409), closed.text
        cursor = page["next_cursor"]
        if cursor is None:
            break
    head = ok(setup.admin.get("/readyz"))["position"]
    working = ok(
        setup.admin.get(
            "/v1/operators", params={"status": "working", "limit": 500, "min_position": head}
        )
    )
    for row in working["items"]:
        off = setup.admin.put(f"/v1/operators/{row['id']}/status", json={"status": "offline"})
        assert off.status_code == 200, off.text


@pytest.fixture
def held(setup: Setup) -> dict[str, Any]:
    """A chat intercepted by the only working operator of a fresh group."""
    group = setup.group()
    operator, op = setup.operator(group["id"], first_name="Zoë", last_name="Quist")
    bot_name, bot = named_token(setup, "bot")
    chat = hand_off(bot, group).json()
    assert chat["operator_id"] == operator["id"]
    intercepted = op.post(f"/v1/chats/{chat['id']}/intercept")
    assert intercepted.status_code == 200, intercepted.text
    assert intercepted.json()["status"] == "active"
    return {
        "chat": intercepted.json(),
        "id": chat["id"],
        "group": group,
        "operator": operator,
        "op": op,
        "bot": bot,
        "bot_name": bot_name,
    }
