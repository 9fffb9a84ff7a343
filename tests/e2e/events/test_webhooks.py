"""Webhooks over HTTP, to real receivers: retries, order per chat, signatures, 410, replay,
the delivery log, and bad input refused with nothing recorded."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Setup, position
from tests.e2e.events.helpers import (
    STORY_TYPES,
    all_events,
    bot_and_operator,
    eventually,
    register,
    story,
    webhook_server,
)
from tests.e2e.lifecycle.helpers import assert_problem, ok
from tests.e2e.receiver import Receiver

DELIVERY_WAIT_S = 30.0


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with webhook_server(module_database_url, tmp_path_factory) as process:
        yield process


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(hang_s=1.5).start()
    yield receiver
    receiver.stop()


def first_acceptances(receiver: Receiver) -> list[dict[str, Any]]:
    """Each Event once, in the order the receiver first accepted it."""
    seen, order = set(), []
    for event in receiver.accepted():
        if event["id"] not in seen:
            seen.add(event["id"])
            order.append(event)
    return order


def test_a_failing_hanging_then_recovering_receiver_gets_every_event_in_order_per_chat(
    setup: Setup, receiver: Receiver
) -> None:
    bot_name, bot, _, staff = bot_and_operator(setup)
    # The first answers fail, one hangs past the sender's timeout, then all is well.
    answers = iter([500, 503, "hang", 502, 429, 500])
    lock = threading.Lock()

    def answer(event: dict[str, Any]) -> int | str:
        with lock:
            return next(answers, 200)

    receiver.answer = answer
    hook = register(setup.admin, receiver.url, bot=bot_name, description="connector")
    assert hook["secret"].startswith("whsec_")
    receiver.secret = hook["secret"]

    stories = [story(bot, staff) for _ in range(2)]
    expected = all_events(bot, max(p for _, p in stories))
    assert {e["type"] for e in expected} == STORY_TYPES
    ids = {e["id"] for e in expected}
    assert receiver.wait_for(
        lambda got: ids <= {d.event["id"] for d in got if d.answered == 200}, DELIVERY_WAIT_S
    ), f"missing: {ids - {e['id'] for e in receiver.accepted()}}"

    assert all(d.valid for d in receiver.requests), "every delivery verifies"
    assert all(d.headers["webhook-id"] == d.event["id"] for d in receiver.requests)
    by_id = {e["id"]: e for e in expected}
    for event in receiver.accepted():
        assert event == by_id[event["id"]], "the pushed Event is the Event of the feed"
    per_chat: dict[str, list[int]] = defaultdict(list)
    for event in first_acceptances(receiver):
        per_chat[event["chat_id"]].append(event["position"])
    assert set(per_chat) == {chat_id for chat_id, _ in stories}
    for positions in per_chat.values():
        assert positions == sorted(positions), "a chat's Events arrive in log order"

    def all_delivered() -> list[dict[str, Any]] | None:
        log = ok(setup.admin.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 500}))
        done = all(row["status"] == "delivered" and row["delivered_at"] for row in log["items"])
        return log["items"] if done else None

    rows = eventually(all_delivered)
    assert {row["event_id"] for row in rows} == ids
    retried = [row for row in rows if row["attempts"] > 1]
    assert retried, "the failures were retried"
    assert any(row["last_error"] for row in retried), "the log tells what went wrong"
    pending = ok(setup.admin.get(f"/v1/webhooks/{hook['id']}/deliveries?status=pending"))
    assert pending["items"] == []


def test_the_events_of_a_chat_carry_their_data(setup: Setup, receiver: Receiver) -> None:
    bot_name, bot, operator, staff = bot_and_operator(setup)
    hook = register(
        setup.admin, receiver.url, bot=bot_name, events=["chat.closed", "message.edited"]
    )
    receiver.secret = hook["secret"]
    chat_id, _ = story(bot, staff)
    assert receiver.wait_for(lambda got: len(got) >= 2, DELIVERY_WAIT_S)
    events = {d.event["type"]: d.event for d in receiver.requests}
    assert set(events) == {"chat.closed", "message.edited"}, "only the types asked for"
    closed = events["chat.closed"]
    assert closed["chat_id"] == chat_id and closed["bot"] == bot_name
    assert closed["data"] == {
        "closed_by": {"kind": "operator", "id": operator["id"]},
        "reason": "done",
    }
    assert closed["operator"] == {"id": operator["id"], "first_name": operator["first_name"]}
    edited = events["message.edited"]["data"]
    shown = ok(bot.get(f"/v1/chats/{chat_id}/messages"))["items"]
    message = next(m for m in shown if m["message_id"] == edited["message_id"])
    # Shown now, it is deleted; when edited, it read "fixed" and was not.
    assert edited == {**message, "text": "fixed", "deleted": False}


def test_gone_disables_the_webhook(setup: Setup, receiver: Receiver) -> None:
    bot_name, bot, _, staff = bot_and_operator(setup)
    receiver.answer = lambda event: 410
    hook = register(setup.admin, receiver.url, bot=bot_name)
    receiver.secret = hook["secret"]
    story(bot, staff, messages=1)
    assert receiver.wait_for(lambda got: len(got) >= 1, DELIVERY_WAIT_S)

    def disabled() -> bool:
        return not ok(setup.admin.get(f"/v1/webhooks/{hook['id']}"))["active"]

    eventually(disabled)
    failed = ok(setup.admin.get(f"/v1/webhooks/{hook['id']}/deliveries?status=failed"))["items"]
    assert [row["last_status_code"] for row in failed] == [410]
    assert len(receiver.requests) == 1, "nothing more is sent to a webhook that is gone"


def test_replay_sends_again_from_a_position(setup: Setup, receiver: Receiver) -> None:
    bot_name, bot, _, staff = bot_and_operator(setup)
    hook = register(setup.admin, receiver.url, bot=bot_name)
    receiver.secret = hook["secret"]
    _, upto = story(bot, staff, messages=1)
    expected = all_events(bot, upto)
    assert receiver.wait_for(lambda got: len(got) >= len(expected), DELIVERY_WAIT_S)
    middle = expected[len(expected) // 2]["position"]
    again = [e["id"] for e in expected if e["position"] >= middle]

    response = setup.admin.post(f"/v1/webhooks/{hook['id']}/replay", json={"from_position": middle})
    assert response.status_code == 202, response.text
    position(response)
    total = len(expected) + len(again)
    assert receiver.wait_for(lambda got: len(got) >= total, DELIVERY_WAIT_S)
    assert [d.event["id"] for d in receiver.requests[len(expected) :]] == again
    assert all(d.valid for d in receiver.requests)


def test_webhooks_are_listed_changed_and_deleted_without_their_secret(
    setup: Setup, receiver: Receiver
) -> None:
    hook = register(setup.admin, receiver.url, events=["chat.closed"])
    changed = setup.admin.patch(
        f"/v1/webhooks/{hook['id']}", json={"events": ["chat.rated"], "active": False}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["chat.rated"] and not changed.json()["active"]
    listed = ok(setup.admin.get("/v1/webhooks", params={"min_position": position(changed)}))
    mine = next(row for row in listed["items"] if row["id"] == hook["id"])
    assert mine["events"] == ["chat.rated"] and "secret" not in mine
    assert "secret" not in ok(setup.admin.get(f"/v1/webhooks/{hook['id']}"))
    deleted = setup.admin.delete(f"/v1/webhooks/{hook['id']}")
    assert deleted.status_code == 204
    assert_problem(setup.admin.get(f"/v1/webhooks/{hook['id']}"), 404, "not_found")
    listed = ok(setup.admin.get("/v1/webhooks", params={"min_position": position(deleted)}))
    assert hook["id"] not in {row["id"] for row in listed["items"]}


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/hook"},
        {"url": "https://user:secret@example.com/hook"},
        {"url": "not a url"},
        {"url": "https:///no-host"},
        {"url": "https://example.com/hook", "events": ["chat.exploded"]},
        {"url": "https://example.com/hook", "colour": "red"},
    ],
)
def test_bad_webhooks_are_refused_and_nothing_is_recorded(
    setup: Setup, body: dict[str, Any]
) -> None:
    head = position(setup.admin.post("/v1/groups", json={"name": f"g-{setup.suffix}-{id(body)}"}))
    assert_problem(setup.admin.post("/v1/webhooks", json=body), 422, "validation")
    after = position(setup.admin.post("/v1/groups", json={"name": f"h-{setup.suffix}-{id(body)}"}))
    assert after - head == 2, "nothing but the second group was recorded in between"
    listed = ok(setup.admin.get("/v1/webhooks", params={"min_position": after, "limit": 500}))
    assert body["url"] not in {row["url"] for row in listed["items"]}


def test_only_admins_manage_webhooks(setup: Setup) -> None:
    _, bot, _, staff = bot_and_operator(setup)
    for client in (bot, staff):
        assert_problem(client.get("/v1/webhooks"), 403, "forbidden")
        assert_problem(
            client.post("/v1/webhooks", json={"url": "https://example.com/x"}), 403, "forbidden"
        )
