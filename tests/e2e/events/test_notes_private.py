"""Private notes (and a reassign's comment) never reach the bot's Events."""

from __future__ import annotations

import json

from tests.e2e.conftest import Setup, position
from tests.e2e.events.helpers import all_events, bot_and_operator, handoff
from tests.e2e.lifecycle.helpers import ok


def test_notes_never_reach_the_bots_feed(setup: Setup) -> None:
    _, bot, _, staff = bot_and_operator(setup)
    chat_id = handoff(bot)["id"]  # the group's one operator gets it
    ok(staff.post(f"/v1/chats/{chat_id}/intercept"))
    other, _ = setup.operator(bot.group_id)  # type: ignore[attr-defined]
    ok(staff.post(f"/v1/chats/{chat_id}/notes", json={"text": "secret-note-7"}), 201)
    body = {"operator_id": other["id"], "comment": "secret-comment-8"}
    last = setup.admin.post(f"/v1/chats/{chat_id}/reassign", json=body)
    assert last.status_code == 200, last.text

    events = [e for e in all_events(bot, position(last)) if e["chat_id"] == chat_id]

    assert events, "the chat's other facts do reach the bot"
    seen = json.dumps(events)
    assert "secret-note-7" not in seen and "secret-comment-8" not in seen
    assert not any("note" in e["type"] for e in events)
