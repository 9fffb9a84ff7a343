"""Queues drain by themselves when room appears, driven by the events, oldest first."""

from __future__ import annotations

import pytest

from application.auth import Principal
from domain.chat import Chat
from infrastructure.bootstrap import Services
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")


def settle(container: Services) -> None:
    """Wait until every read model and the dispatcher have seen the whole log, repeatedly,
    since the dispatcher's own assignments add events."""
    for _ in range(20):
        head = container.app.head() or 0
        for name in ("directory", "dashboard", "dispatcher"):
            assert container.wait_for(name, head, 10), f"{name} did not reach {head}"
        if (container.app.head() or 0) == head:
            return
    pytest.fail("the log kept growing")


def chat(container: Services, chat_id) -> Chat:
    return container.app.get_chat(chat_id)


def make_operator(container: Services, group_id, *, max_chats: int = 300):
    operator, token = container.app.register_operator(
        actor=ADMIN.actor,
        first_name="Ann",
        last_name="Lee",
        email=f"{group_id}-{max_chats}@example.com",
        group_ids=[group_id],
        max_chats=max_chats,
    ).value
    return operator.id, container.app.authenticate(token)


def test_a_queued_chat_goes_to_an_operator_who_starts_working(container: Services) -> None:
    app = container.app
    group = app.create_group(actor=ADMIN.actor, name="Support").value
    operator_id, caller = make_operator(container, group.id)
    first = app.handoff(bot=BOT, external_id="a", client={"id": "1"}, group_id=group.id).value
    second = app.handoff(bot=BOT, external_id="b", client={"id": "2"}, group_id=group.id).value
    assert first.status == second.status == "queued"

    app.set_status(operator_id, "working", caller=caller)
    settle(container)

    assert chat(container, first.id).operator_id == operator_id
    assert chat(container, second.id).operator_id == operator_id
    assert app.get_operator(operator_id).load == 2


def test_closing_a_chat_makes_room_for_the_oldest_queued_one(
    container: Services, clock: FakeClock
) -> None:
    app = container.app
    group = app.create_group(actor=ADMIN.actor, name="Sales").value
    operator_id, caller = make_operator(container, group.id, max_chats=1)
    app.set_status(operator_id, "working", caller=caller)
    held = app.handoff(bot=BOT, external_id="held", client={"id": "1"}, group_id=group.id).value
    clock.advance(seconds=1)
    older = app.handoff(bot=BOT, external_id="older", client={"id": "2"}, group_id=group.id).value
    clock.advance(seconds=1)
    younger = app.handoff(bot=BOT, external_id="young", client={"id": "3"}, group_id=group.id)
    assert held.operator_id == operator_id
    assert older.status == younger.value.status == "queued"

    app.close_chat(held.id, caller=caller, reason="done")
    settle(container)

    assert chat(container, older.id).operator_id == operator_id
    assert chat(container, younger.value.id).status == "queued"
    assert app.get_operator(operator_id).load == 1


def test_a_manual_group_is_never_drained(container: Services) -> None:
    app = container.app
    group = app.create_group(actor=ADMIN.actor, name="VIP", routing="manual").value
    operator_id, caller = make_operator(container, group.id)
    waiting = app.handoff(bot=BOT, external_id="vip", client={"id": "1"}, group_id=group.id).value
    app.set_status(operator_id, "working", caller=caller)
    settle(container)
    assert chat(container, waiting.id).status == "queued"


def test_a_raised_capacity_drains_the_queue(container: Services) -> None:
    app = container.app
    group = app.create_group(actor=ADMIN.actor, name="Billing").value
    operator_id, caller = make_operator(container, group.id, max_chats=0)
    app.set_status(operator_id, "working", caller=caller)
    waiting = app.handoff(bot=BOT, external_id="w", client={"id": "1"}, group_id=group.id).value
    assert waiting.status == "queued"
    app.update_operator(operator_id, actor=ADMIN.actor, max_chats=5)
    settle(container)
    assert chat(container, waiting.id).operator_id == operator_id
