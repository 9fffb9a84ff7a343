"""A chat's topic, close, rating, greeting and rating prompt over HTTP, each rule with its
status and problem+json ``code``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.lifecycle.helpers import (
    DEFAULT_GREETING,
    assert_problem,
    changed_settings,
    dashboard_ids,
    events_of,
    hand_off,
    messages_of,
    ok,
    operator_load,
)

# -- topic and subtopic ---------------------------------------------------------------------------


def test_the_operator_changes_topic_and_subtopic_partially(setup: Setup) -> None:
    group = setup.group()
    _, op = setup.operator(group["id"])
    chat = hand_off(setup.bot(), group, topic="billing", subtopic="refund").json()
    chat_id = chat["id"]

    only_subtopic = op.patch(f"/v1/chats/{chat_id}", json={"subtopic": "invoice"})
    body = ok(only_subtopic)
    assert (body["topic"], body["subtopic"]) == ("billing", "invoice")
    [row] = [
        r
        for r in ok(
            op.get("/v1/dashboard", params={"tab": "mine", "min_position": position(only_subtopic)})
        )["items"]
        if r["id"] == chat_id
    ]
    assert (row["topic"], row["subtopic"]) == ("billing", "invoice")

    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "delivery"}))
    assert (body["topic"], body["subtopic"]) == ("delivery", "invoice")
    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"subtopic": None}))
    assert (body["topic"], body["subtopic"]) == ("delivery", None)
    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": None, "subtopic": "late"}))
    assert (body["topic"], body["subtopic"]) == (None, "late")
    # An empty patch changes nothing and still answers with a position.
    nothing = op.patch(f"/v1/chats/{chat_id}", json={})
    assert (ok(nothing)["topic"], nothing.json()["subtopic"]) == (None, "late")
    position(nothing)
    assert ok(op.get(f"/v1/chats/{chat_id}"))["subtopic"] == "late"

    body = ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "t" * 200}))
    assert body["topic"] == "t" * 200
    changes = [e["data"] for e in events_of(setup.admin, chat_id) if e["type"] == "TopicChanged"]
    assert [(c["topic"], c["subtopic"]) for c in changes] == [
        ("billing", "invoice"),
        ("delivery", "invoice"),
        ("delivery", None),
        (None, "late"),
        ("t" * 200, "late"),
    ]


def test_a_topic_change_by_anyone_else_or_out_of_shape_is_refused(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id = held["id"]
    _, other = setup.operator(held["group"]["id"], working=False)
    assert_problem(other.patch(f"/v1/chats/{chat_id}", json={"topic": "x"}), 403, "not_assigned")
    for body in (
        {"topic": "t" * 201},
        {"subtopic": "s" * 201},
        {"topic": ""},
        {"topic": "   "},
        {"topic": 5},
        {"topic": "a\x00b"},
        {"colour": "red"},
    ):
        assert_problem(held["op"].patch(f"/v1/chats/{chat_id}", json=body), 422, "validation")
    assert ok(held["op"].get(f"/v1/chats/{chat_id}"))["topic"] is None

    supervisor = setup.token("supervisor")
    assert ok(supervisor.patch(f"/v1/chats/{chat_id}", json={"topic": "escalated"}))["topic"] == (
        "escalated"
    )


# -- close and rating -----------------------------------------------------------------------------


def test_a_close_may_need_a_topic_and_a_closed_chat_refuses_all_but_one_rating(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, op, bot = held["id"], held["op"], held["bot"]
    reply = ok(op.post(f"/v1/chats/{chat_id}/messages", json={"text": "done?"}), 201)
    assert_problem(bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 5}), 409, "chat_open")

    with changed_settings(setup.admin, require_topic_to_close=True) as changed:
        assert changed.json()["require_topic_to_close"] is True
        assert_problem(op.post(f"/v1/chats/{chat_id}/close"), 409, "topic_required")
        assert_problem(setup.admin.post(f"/v1/chats/{chat_id}/close"), 409, "topic_required")
        assert ok(op.get(f"/v1/chats/{chat_id}"))["status"] == "active"
        assert ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "billing"}))["topic"] == "billing"
        closed = op.post(f"/v1/chats/{chat_id}/close", json={"reason": "resolved"})
        body = ok(closed)
        at = position(closed)
        assert body["status"] == "closed"
        assert body["closed_at"] is not None
    assert operator_load(setup, held["operator"]["id"]) == 0
    assert chat_id in dashboard_ids(op, "closed", at)

    # The bot learns the chat is back with it.
    feed = ok(bot.get(f"/v1/chats/{chat_id}/messages"))
    assert feed["chat_status"] == "closed"

    supervisor = setup.token("supervisor")
    other, _ = setup.operator(working=True)
    refusals = [
        op.post(f"/v1/chats/{chat_id}/messages", json={"text": "one more thing"}),
        bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "hello?"}),
        bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "bot here", "author": "bot"}),
        op.post(f"/v1/chats/{chat_id}/mute"),
        op.post(f"/v1/chats/{chat_id}/unmute"),
        supervisor.post(f"/v1/chats/{chat_id}/mute", json={"minutes": 5}),
        supervisor.post(f"/v1/chats/{chat_id}/reassign", json={"operator_id": other["id"]}),
        supervisor.post(f"/v1/chats/{chat_id}/reassign", json={"group_id": held["group"]["id"]}),
        op.patch(f"/v1/chats/{chat_id}", json={"topic": "other"}),
        op.patch(f"/v1/chats/{chat_id}/messages/{reply['message_id']}", json={"text": "x"}),
        op.delete(f"/v1/chats/{chat_id}/messages/{reply['message_id']}"),
        op.post(f"/v1/chats/{chat_id}/close"),
        op.post(f"/v1/chats/{chat_id}/intercept"),
    ]
    for response in refusals:
        assert_problem(response, 409, "chat_closed")
    assert operator_load(setup, other["id"]) == 0

    for score in (0, 6, "five"):
        assert_problem(
            bot.post(f"/v1/chats/{chat_id}/rating", json={"score": score}), 422, "validation"
        )
    assert_problem(
        setup.bot().post(f"/v1/chats/{chat_id}/rating", json={"score": 5}), 403, "forbidden"
    )
    rated = bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 4, "comment": "fine"})
    assert ok(rated)["rating"] == 4
    position(rated)
    assert_problem(bot.post(f"/v1/chats/{chat_id}/rating", json={"score": 5}), 409, "already_rated")
    assert ok(bot.get(f"/v1/chats/{chat_id}"))["rating"] == 4

    # The client's next handoff is a new chat.
    again = bot.post(
        "/v1/chats",
        json={"external_id": held["chat"]["external_id"], "client": held["chat"]["client"]},
    )
    assert again.status_code == 201, again.text
    assert again.json()["id"] != chat_id
    assert again.json()["status"] in ("queued", "assigned")


# -- greeting and rating prompt -------------------------------------------------------------------


def _intercepted_messages(setup: Setup, first_name: str = "Zoë") -> list[dict[str, Any]]:
    group = setup.group()
    _, op = setup.operator(group["id"], first_name=first_name, last_name="Quist")
    bot = setup.bot()
    chat = hand_off(bot, group, transcript=[{"author": "client", "text": "help"}]).json()
    assert ok(op.post(f"/v1/chats/{chat['id']}/intercept"))["status"] == "active"
    return messages_of(bot, chat["id"])


def test_the_default_greeting_names_the_operator(setup: Setup) -> None:
    assert ok(setup.admin.get("/v1/settings"))["greeting_template"] == DEFAULT_GREETING
    messages = _intercepted_messages(setup)
    assert [m["author"] for m in messages] == ["client", "system"]
    assert "Zoë" in messages[-1]["text"]
    assert messages[-1]["text"] == DEFAULT_GREETING.format(first_name="Zoë")


def test_the_greeting_follows_the_company_template(setup: Setup) -> None:
    with changed_settings(
        setup.admin, greeting_template="Hi, I am {first_name} {last_name}"
    ) as changed:
        assert changed.json()["greeting_template"] == "Hi, I am {first_name} {last_name}"
        messages = _intercepted_messages(setup, first_name="Ivo")
    assert messages[-1]["author"] == "system"
    assert messages[-1]["text"] == "Hi, I am Ivo Quist"


def test_an_empty_greeting_sends_none(setup: Setup) -> None:
    with changed_settings(setup.admin, greeting_template=""):
        messages = _intercepted_messages(setup)
    assert [m["author"] for m in messages] == ["client"]


@pytest.mark.parametrize(
    "template",
    [
        "Hi {unknown}",
        "Hi {first_name} {email}",
        "{}",
        "{0}",
        "Hi {first_name!r}",
        "{first_name:>9}",
        "oops }",
        "{first_name.__class__}",
    ],
)
def test_a_greeting_with_other_fields_is_refused(setup: Setup, template: str) -> None:
    before = ok(setup.admin.get("/v1/settings"))
    try:
        assert_problem(
            setup.admin.put("/v1/settings", json={"greeting_template": template}),
            422,
            "validation",
        )
    finally:
        after = ok(setup.admin.get("/v1/settings"))
        if after != before:
            setup.admin.put("/v1/settings", json=before)
    assert after == before


def test_the_rating_prompt_is_posted_before_the_close(setup: Setup, held: dict[str, Any]) -> None:
    chat_id = held["id"]
    with changed_settings(
        setup.admin, rating_prompt=True, rating_prompt_text="How did we do? 1 to 5, please."
    ):
        closed = ok(held["op"].post(f"/v1/chats/{chat_id}/close"))
    assert closed["status"] == "closed"
    feed = ok(held["bot"].get(f"/v1/chats/{chat_id}/messages"))
    assert feed["chat_status"] == "closed"
    assert (feed["items"][-1]["author"], feed["items"][-1]["text"]) == (
        "system",
        "How did we do? 1 to 5, please.",
    )
    events = events_of(setup.admin, chat_id)
    assert [e["type"] for e in events[-2:]] == ["MessagePosted", "Closed"]
    assert events[-2]["data"]["text"] == "How did we do? 1 to 5, please."


def test_a_close_refused_for_want_of_a_topic_posts_no_rating_prompt(
    setup: Setup, held: dict[str, Any]
) -> None:
    chat_id, op = held["id"], held["op"]
    with changed_settings(setup.admin, rating_prompt=True, require_topic_to_close=True):
        assert_problem(op.post(f"/v1/chats/{chat_id}/close"), 409, "topic_required")
        assert [m["author"] for m in messages_of(held["bot"], chat_id)] == ["system"]
        ok(op.patch(f"/v1/chats/{chat_id}", json={"topic": "billing"}))
        ok(op.post(f"/v1/chats/{chat_id}/close"))
        prompt = ok(setup.admin.get("/v1/settings"))["rating_prompt_text"]
    texts = [m["text"] for m in messages_of(held["bot"], chat_id)]
    assert texts.count(prompt) == 1
    assert texts[-1] == prompt


def test_without_the_rating_prompt_the_close_posts_nothing(
    setup: Setup, held: dict[str, Any]
) -> None:
    assert ok(setup.admin.get("/v1/settings"))["rating_prompt"] is False
    ok(held["op"].post(f"/v1/chats/{held['id']}/close"))
    assert [m["author"] for m in messages_of(held["bot"], held["id"])] == ["system"]


def test_the_server_logged_no_errors(server: ServerProcess) -> None:
    """Last in the module: nothing sent above made the server log a traceback."""
    assert "Traceback" not in server.stderr()
