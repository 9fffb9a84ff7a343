"""The bot's feed over HTTP: what each role sees, paging, and the long poll's timing."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest

from tests.e2e.conftest import Setup, position
from tests.e2e.events.helpers import STORY_TYPES, all_events, bot_and_operator, feed, handoff, story
from tests.e2e.lifecycle.helpers import assert_problem, ok

WAKE_LIMIT_S = 0.1


def test_a_bot_reads_the_events_of_its_own_chats_in_log_order(setup: Setup) -> None:
    bot_name, bot, operator, staff = bot_and_operator(setup)
    _, other, _, other_staff = bot_and_operator(setup)
    mine, upto = story(bot, staff)
    theirs, their_upto = story(other, other_staff)
    events = all_events(bot, max(upto, their_upto))
    assert {e["chat_id"] for e in events} == {mine}
    assert {e["type"] for e in events} == STORY_TYPES
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    assert all(e["bot"] == bot_name and e["id"].startswith("evt_") for e in events)
    assigned = next(e for e in events if e["type"] == "chat.assigned")
    assert assigned["operator"] == {"id": operator["id"], "first_name": operator["first_name"]}

    seen_by_auditor = all_events(setup.token("auditor"), max(upto, their_upto))
    assert {mine, theirs} <= {e["chat_id"] for e in seen_by_auditor}
    again = [e for e in all_events(setup.admin, upto) if e["chat_id"] == mine]
    assert again == events, "the same facts, with the same ids, every time"


def test_pages_follow_on_with_next_after(setup: Setup) -> None:
    _, bot, _, staff = bot_and_operator(setup)
    _, upto = story(bot, staff)
    everything = all_events(bot, upto)
    pages, after = [], 0
    while True:
        page = ok(bot.get("/v1/events", params={"after": after, "limit": 3}))
        if not page["items"]:
            break
        pages += page["items"]
        after = page["next_after"]
    assert pages == everything


def test_other_roles_may_not_read_the_feed(setup: Setup) -> None:
    _, _, _, staff = bot_and_operator(setup)
    assert_problem(staff.get("/v1/events"), 403, "forbidden")
    assert_problem(setup.token("analyst").get("/v1/events"), 403, "forbidden")
    assert_problem(setup.admin.get("/v1/events", params={"wait": 31}), 422, "validation")
    assert_problem(setup.admin.get("/v1/events", params={"after": -1}), 422, "validation")


def test_an_empty_answer_is_held_for_wait_seconds(setup: Setup) -> None:
    _, bot, _, _ = bot_and_operator(setup)
    head = ok(bot.get("/v1/events"))["next_after"]
    started = time.monotonic()
    page = ok(bot.get("/v1/events", params={"after": head, "wait": 1}))
    held = time.monotonic() - started
    assert page["items"] == [] and page["next_after"] >= head
    assert 1.0 <= held < 1.5, held
    started = time.monotonic()
    ok(bot.get("/v1/events", params={"after": head, "wait": 0}))
    assert time.monotonic() - started < 0.5, "wait=0 answers at once"


@pytest.mark.alone
def test_the_long_poll_wakes_within_100_ms_of_a_commit(setup: Setup) -> None:
    _, bot, _, staff = bot_and_operator(setup)
    chat = handoff(bot)
    upto = position(staff.post(f"/v1/chats/{chat['id']}/intercept"))
    lags, after = [], 0
    for n in range(7):
        # Catch up with everything before this round, so the poll below waits for the reply.
        while after < upto:
            after = feed(bot, after, wait=5)["next_after"]
        answer: dict[str, Any] = {}

        def poll(after: int = after, answer: dict[str, Any] = answer) -> None:
            answer["page"] = ok(bot.get("/v1/events", params={"after": after, "wait": 10}))
            answer["at"] = time.monotonic()

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)  # the poll is waiting: it is what this test measures
        assert poller.is_alive(), "the poll waited"
        reply = staff.post(f"/v1/chats/{chat['id']}/messages", json={"text": f"reply {n}"})
        committed = time.monotonic()
        assert reply.status_code == 201, reply.text
        poller.join(timeout=10)
        assert [e["type"] for e in answer["page"]["items"]] == ["message.created"]
        assert answer["page"]["items"][0]["position"] == position(reply)
        lags.append(max(0.0, answer["at"] - committed))
        upto = position(reply)
    assert statistics.median(lags) <= WAKE_LIMIT_S, lags
    assert max(lags) <= 1.0, lags


def test_a_deployment_refuses_webhooks_to_private_and_loopback_addresses(setup: Setup) -> None:
    """This server has a DATABASE_URL and no SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE: refused."""
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.0.0.7/hook"):
        body = assert_problem(
            setup.admin.post("/v1/webhooks", json={"url": url}), 422, "validation"
        )
        assert "private or loopback" in body["detail"] or "loopback" in body["detail"]
    hook = setup.admin.post("/v1/webhooks", json={"url": "https://hooks.example.com/x"})
    assert hook.status_code == 201, hook.text
    moved = setup.admin.patch(f"/v1/webhooks/{hook.json()['id']}", json={"url": "http://[::1]/x"})
    assert_problem(moved, 422, "validation")
    assert ok(setup.admin.get(f"/v1/webhooks/{hook.json()['id']}"))["url"] == (
        "https://hooks.example.com/x"
    )
