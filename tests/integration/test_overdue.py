"""Overdue answers on real PostgreSQL: the scheduler's rule finds overdue chats through the
dashboard, marks each once per clock (the row shows it until the answer or the close), and
moves a chat still unanswered to another operator of its group."""

from __future__ import annotations

import pytest

from infrastructure.bootstrap import Services
from tests.integration.test_lifecycle import ADMIN, BOT, row, settle, working_operator


@pytest.fixture
def team(container: Services):
    """Anna works in Sales (first response 60 s, next response 30 s); VIP is another group."""
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales", sl_next_response_s=30).value
    vip = app.create_group(actor=ADMIN.actor, name="VIP").value
    anna = working_operator(container, sales.id, "anna@example.com")
    return app, sales, vip, anna


def overdue_names(container: Services, chat_id) -> list[str]:
    return [
        e.clock for e in container.app.chat_events(chat_id) if type(e).__name__ == "ResponseOverdue"
    ]


def test_the_scheduler_marks_each_clock_once_and_the_row_shows_it_until_answered(
    container, clock, team
) -> None:
    app, sales, _, anna = team
    chat = app.handoff(bot=BOT, external_id="c1", client={"id": "1"}, group_id=sales.id).value
    app.intercept(chat.id, caller=anna)
    settle(container)

    clock.advance(seconds=60)
    assert container.scheduler.tick().chats_overdue == 0  # due, not past
    clock.advance(seconds=1)
    assert container.scheduler.tick().chats_overdue == 1
    assert container.scheduler.tick().chats_overdue == 0  # the dashboard lags: the chat says no
    settle(container)
    assert container.scheduler.tick().total == 0
    shown = row(container, chat.id)
    assert shown["overdue"] is True
    assert overdue_names(container, chat.id) == ["first_response"]

    app.reply(chat.id, "Sorry for the wait", caller=anna)
    settle(container)
    assert row(container, chat.id)["overdue"] is False

    app.relay_client_message(chat.id, "And now?", bot=BOT)
    clock.advance(seconds=31)
    settle(container)
    assert container.scheduler.tick().chats_overdue == 1  # the client's next turn
    settle(container)
    assert row(container, chat.id)["overdue"] is True
    assert overdue_names(container, chat.id) == ["first_response", "next_response"]

    app.close_chat(chat.id, caller=anna, reason=None)
    settle(container)
    closed = row(container, chat.id)
    assert (closed["overdue"], closed["sl_due_at"]) == (False, None)
    clock.advance(hours=1)
    assert container.scheduler.tick().total == 0


def test_the_scheduler_moves_an_overdue_chat_to_another_operator_of_its_group(
    container, clock, team
) -> None:
    app, sales, vip, anna = team
    app.change_settings({"reassign_overdue_after_s": 60}, actor=ADMIN.actor)
    chat = app.handoff(bot=BOT, external_id="c1", client={"id": "1"}, group_id=sales.id).value
    assert chat.operator_id == anna.operator_id
    ben = working_operator(container, sales.id, "ben@example.com")
    working_operator(container, vip.id, "vera@example.com")  # another group: never chosen
    settle(container)

    clock.advance(seconds=61)
    assert container.scheduler.tick().chats_overdue == 1
    settle(container)
    clock.advance(seconds=58)  # 59 s past the SL
    assert container.scheduler.tick().overdue_reassigned == 0
    clock.advance(seconds=1)
    assert container.scheduler.tick().overdue_reassigned == 1
    settle(container)

    moved = row(container, chat.id)
    assert (moved["operator_id"], moved["group_id"]) == (ben.operator_id, sales.id)
    assert moved["overdue"] is True
    clock.advance(minutes=10)
    assert container.scheduler.tick().total == 0, "moved once: it stays with Ben"
    loads = {r["id"]: r["load"] for r in container.directory.operators()[0]}
    assert (loads[anna.operator_id], loads[ben.operator_id]) == (0, 1)
    last = app.chat_events(chat.id)[-1]
    assert (type(last).__name__, last.actor) == ("Reassigned", "system")


def test_with_nobody_else_free_the_chat_stays_and_a_later_pass_moves_it(
    container, clock, team
) -> None:
    app, sales, _, anna = team
    app.change_settings({"reassign_overdue_after_s": 1}, actor=ADMIN.actor)
    chat = app.handoff(bot=BOT, external_id="c1", client={"id": "1"}, group_id=sales.id).value
    settle(container)
    clock.advance(seconds=61)
    assert container.scheduler.tick().chats_overdue == 1
    settle(container)
    clock.advance(minutes=5)
    before = app.head()

    assert container.scheduler.tick().total == 0
    assert container.scheduler.tick().total == 0
    assert app.head() == before, "nothing recorded while nobody else has room"
    assert app.get_chat(chat.id).operator_id == anna.operator_id

    ben = working_operator(container, sales.id, "ben@example.com")
    settle(container)
    assert container.scheduler.tick().overdue_reassigned == 1
    assert app.get_chat(chat.id).operator_id == ben.operator_id
