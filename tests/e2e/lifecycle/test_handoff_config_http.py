"""Handoffs as bot platforms configure them, over HTTP: a group by name, the default group, a
preferred operator, the client's profile, who closed a chat, attachments and buttons; every
bad input a 422 problem that records nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Setup, position
from tests.e2e.lifecycle.helpers import (
    assert_problem,
    changed_settings,
    hand_off,
    messages_of,
    ok,
)

PHOTO = {
    "url": "https://cdn.example.com/f/photo-1.jpg",
    "name": "photo-1.jpg",
    "mime": "image/jpeg",
}


def body(**fields: Any) -> dict[str, Any]:
    return {
        "external_id": f"ext-{uuid.uuid4()}",
        "client": {"id": f"client-{uuid.uuid4().hex[:8]}"},
        **fields,
    }


def refused_and_unrecorded(
    bot: httpx.Client, handoff: dict[str, Any], status: int, code: str
) -> None:
    """The handoff is refused, and nothing was recorded: the same conversation, made valid,
    is a new chat (201), not the same one again (200)."""
    assert_problem(bot.post("/v1/chats", json=handoff), status, code)
    valid = {k: v for k, v in handoff.items() if k in ("external_id",)}
    ok(bot.post("/v1/chats", json=body(**valid)), 201)


# -- a group by name, the default group, a preferred operator -------------------------------------


def test_a_bot_lists_the_groups_and_hands_off_to_one_by_name(setup: Setup) -> None:
    group = setup.group()
    operator, _ = setup.operator(group["id"])
    bot = setup.bot()

    listed = ok(bot.get("/v1/groups", params={"min_position": 0}))
    assert group["name"] in [g["name"] for g in listed["items"]]
    assert ok(bot.get(f"/v1/groups/{group['id']}"))["name"] == group["name"]
    chat = ok(bot.post("/v1/chats", json=body(group=group["name"].upper())), 201)

    assert (chat["group_id"], chat["operator_id"]) == (group["id"], operator["id"])


def test_bots_still_may_not_change_groups(setup: Setup) -> None:
    group = setup.group()
    bot = setup.bot()

    assert_problem(bot.patch(f"/v1/groups/{group['id']}", json={"name": "x"}), 403, "forbidden")
    assert_problem(bot.delete(f"/v1/groups/{group['id']}"), 403, "forbidden")


def test_an_unknown_group_name_or_operator_is_an_unknown_reference(setup: Setup) -> None:
    bot = setup.bot()

    refused_and_unrecorded(bot, body(group=f"no such {uuid.uuid4()}"), 422, "unknown_reference")
    refused_and_unrecorded(bot, body(operator_id=str(uuid.uuid4())), 422, "unknown_reference")


def test_group_and_group_id_must_agree(setup: Setup) -> None:
    sales, support = setup.group(), setup.group()
    bot = setup.bot()

    agreed = body(group=sales["name"], group_id=sales["id"])
    assert ok(bot.post("/v1/chats", json=agreed), 201)["group_id"] == sales["id"]
    refused_and_unrecorded(
        bot, body(group=sales["name"], group_id=support["id"]), 422, "validation"
    )


def test_the_preferred_operator_gets_the_chat_else_the_group_does(setup: Setup) -> None:
    sales, other = setup.group(), setup.group()
    member, _ = setup.operator(sales["id"])
    preferred, preferred_client = setup.operator(other["id"])
    bot = setup.bot()

    first = ok(
        bot.post("/v1/chats", json=body(group_id=sales["id"], operator_id=preferred["id"])), 201
    )
    ok(preferred_client.put(f"/v1/operators/{preferred['id']}/status", json={"status": "break"}))
    second = ok(
        bot.post("/v1/chats", json=body(group_id=sales["id"], operator_id=preferred["id"])), 201
    )

    assert (first["operator_id"], first["group_id"]) == (preferred["id"], sales["id"])
    assert second["operator_id"] == member["id"]


def test_a_handoff_naming_no_group_goes_to_the_default_group(setup: Setup) -> None:
    group = setup.group()
    operator, _ = setup.operator(group["id"])
    bot = setup.bot()

    with changed_settings(setup.admin, default_group_id=group["id"]) as changed:
        assert changed.json()["default_group_id"] == group["id"]
        chat = ok(bot.post("/v1/chats", json=body()), 201)
        deleted = setup.admin.delete(f"/v1/groups/{group['id']}")
        assert deleted.status_code == 204, deleted.text
        after = ok(bot.post("/v1/chats", json=body()), 201)

    assert (chat["group_id"], chat["operator_id"]) == (group["id"], operator["id"])
    assert after["group_id"] is None


def test_the_default_group_must_be_a_group(setup: Setup) -> None:
    before = ok(setup.admin.get("/v1/settings"))

    answer = setup.admin.put("/v1/settings", json={"default_group_id": str(uuid.uuid4())})
    assert_problem(answer, 422, "unknown_reference")
    assert_problem(
        setup.admin.put("/v1/settings", json={"default_group_id": "sales"}), 422, "validation"
    )

    assert ok(setup.admin.get("/v1/settings")) == before


# -- the client's profile -------------------------------------------------------------------------


def test_the_clients_profile_is_shown_as_the_bot_sent_it(setup: Setup) -> None:
    bot = setup.bot()
    client = {
        "id": f"tg-{uuid.uuid4().hex[:8]}",
        "name": "Ann",
        "username": "ann_k",
        "email": "ann@example.com",
        "photo_url": "https://cdn.example.com/ann.png",
        "channel": "telegram",
        "custom": {"plan": "gold", "city": "Oslo"},
    }

    chat = ok(bot.post("/v1/chats", json=body(client=client)), 201)

    assert chat["client"] == client
    assert ok(bot.get(f"/v1/chats/{chat['id']}"))["client"] == client


@pytest.mark.parametrize(
    "client",
    [
        {"email": "not-an-address"},
        {"photo_url": "ftp://example.com/ann.png"},
        {"username": ""},
        {"custom": {"plan": 5}},
        {"custom": {"": "x"}},
        {"custom": {f"k{n}": "v" for n in range(51)}},
        {"custom": "gold"},
    ],
    ids=repr,
)
def test_a_bad_client_profile_is_refused(setup: Setup, client: dict[str, Any]) -> None:
    bad = body()
    bad["client"] |= client
    refused_and_unrecorded(setup.bot(), bad, 422, "validation")


# -- who closed a chat ----------------------------------------------------------------------------


def test_closed_by_and_close_reason_are_shown_wherever_the_chat_is(
    setup: Setup, held: dict[str, Any]
) -> None:
    answer = held["op"].post(f"/v1/chats/{held['id']}/close", json={"reason": "solved"})
    closed = ok(answer)
    by_operator = {"kind": "operator", "id": held["operator"]["id"]}
    assert (closed["closed_by"], closed["close_reason"]) == (by_operator, "solved")
    detail = ok(held["bot"].get(f"/v1/chats/{held['id']}"))
    assert (detail["closed_by"], detail["close_reason"]) == (by_operator, "solved")
    params = {"group_id": held["group"]["id"], "min_position": position(answer)}
    (row,) = ok(setup.admin.get("/v1/history", params=params))["items"]
    assert (row["closed_by"], row["close_reason"]) == (by_operator, "solved")

    other = hand_off(held["bot"], held["group"]).json()
    assert (other["closed_by"], other["close_reason"]) == (None, None)
    by_admin = ok(setup.admin.post(f"/v1/chats/{other['id']}/close", json={"reason": "spam"}))
    assert by_admin["closed_by"] == {"kind": "supervisor", "id": None}


# -- attachments and buttons ----------------------------------------------------------------------


def test_attachments_and_buttons_go_both_ways(setup: Setup, held: dict[str, Any]) -> None:
    bot, op, chat_id = held["bot"], held["op"], held["id"]

    sent = bot.post(f"/v1/chats/{chat_id}/messages", json={"attachments": [PHOTO | {"size": 10}]})
    photo = ok(sent, 201)
    asked = op.post(
        f"/v1/chats/{chat_id}/messages",
        json={
            "text": "Is this the one?",
            "attachments": [{"url": "https://files.example.com/invoice.pdf"}],
            "buttons": [{"text": "Yes", "value": "yes"}, {"text": "No"}],
        },
    )
    question = ok(asked, 201)
    pressed = ok(
        bot.post(f"/v1/chats/{chat_id}/messages", json={"text": "Yes", "button_value": "yes"}), 201
    )

    assert (photo["text"], photo["attachments"]) == ("", [PHOTO | {"size": 10}])
    assert question["buttons"] == [{"text": "Yes", "value": "yes"}, {"text": "No", "value": "No"}]
    assert pressed["button_value"] == "yes"
    seen = {m["message_id"]: m for m in messages_of(bot, chat_id)}
    assert seen[question["message_id"]]["attachments"] == [
        {"url": "https://files.example.com/invoice.pdf", "name": None, "mime": None, "size": None}
    ]
    assert seen[question["message_id"]]["buttons"] == question["buttons"]
    assert seen[pressed["message_id"]]["button_value"] == "yes"
    detail = {m["message_id"]: m for m in ok(op.get(f"/v1/chats/{chat_id}"))["messages"]}
    assert detail[photo["message_id"]]["attachments"] == photo["attachments"]


def test_an_attachment_only_message_is_previewed_and_found_by_its_name(
    setup: Setup, held: dict[str, Any]
) -> None:
    name = f"scan-{uuid.uuid4().hex[:8]}.pdf"
    sent = held["bot"].post(
        f"/v1/chats/{held['id']}/messages",
        json={"attachments": [{"url": f"https://cdn.example.com/{name}", "name": name}]},
    )
    assert sent.status_code == 201, sent.text
    reached = position(sent)

    mine = ok(held["op"].get("/v1/dashboard", params={"tab": "mine", "min_position": reached}))
    row = next(r for r in mine["items"] if r["id"] == held["id"])
    found = ok(setup.admin.get("/v1/history", params={"q": name, "min_position": reached}))

    assert row["last_message"]["text"] == name
    assert [r["id"] for r in found["items"]] == [held["id"]]


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("bot", {"text": ""}),
        ("bot", {"text": "  ", "attachments": []}),
        ("bot", {"attachments": [{"name": "no-url.pdf"}]}),
        ("bot", {"attachments": [{"url": "ftp://example.com/x"}]}),
        ("bot", {"attachments": [{"url": "https://example.com/x", "size": -1}]}),
        ("bot", {"attachments": [PHOTO] * 11}),
        ("bot", {"text": "hi", "buttons": [{"text": "Yes"}]}),
        ("bot", {"text": "hi", "author": "bot", "button_value": "yes"}),
        ("bot", {"text": "Yes", "button_value": ""}),
        ("op", {"text": "pick", "buttons": [{"value": "no text"}]}),
        ("op", {"text": "pick", "buttons": [{"text": ""}]}),
        ("op", {"text": "pick", "buttons": [{"text": "ok"}] * 21}),
        ("op", {"text": "hi", "button_value": "yes"}),
    ],
    ids=repr,
)
def test_bad_message_content_is_refused_and_records_nothing(
    held: dict[str, Any], who: str, message: dict[str, Any]
) -> None:
    before = messages_of(held["bot"], held["id"])

    assert_problem(
        held[who].post(f"/v1/chats/{held['id']}/messages", json=message), 422, "validation"
    )

    assert messages_of(held["bot"], held["id"]) == before
