"""The chat lifecycle on real PostgreSQL: the dashboard follows it, the scheduler acts on time."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from application.auth import Principal
from infrastructure.bootstrap import Services, build
from infrastructure.config import Config
from infrastructure.scheduler import LOCK_KEY
from projections.dashboard import Viewer
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")
SUPERVISOR = Viewer(operator_id=None, supervises=True)


def settle(container: Services) -> None:
    """Every read model (and the dispatcher, whose assignments add events) at the head."""
    for _ in range(20):
        head = container.app.head() or 0
        for name in ("directory", "dashboard", "dispatcher"):
            assert container.wait_for(name, head, 10), f"{name} did not reach {head}"
        if (container.app.head() or 0) == head:
            return
    pytest.fail("the log kept growing")


def working_operator(container: Services, group_id, email: str) -> Principal:
    operator, token = container.app.register_operator(
        actor=ADMIN.actor, first_name="Ann", last_name="Lee", email=email, group_ids=[group_id]
    ).value
    caller = container.app.authenticate(token)
    container.app.set_status(operator.id, "working", caller=caller)
    return caller


def row(container: Services, chat_id) -> dict:
    rows, _ = container.dashboard.rows("all", SUPERVISOR, limit=500)
    return next(r for r in rows if r["id"] == chat_id)


@pytest.fixture
def team(container: Services):
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales", sl_next_response_s=30).value
    vip = app.create_group(actor=ADMIN.actor, name="VIP", sl_next_response_s=300).value
    anna = working_operator(container, sales.id, "anna@example.com")
    return app, sales, vip, anna


def test_the_dashboard_follows_mute_topic_reassign_and_edits(container, clock, team) -> None:
    app, sales, vip, anna = team
    chat = app.handoff(bot=BOT, external_id="c1", client={"id": "1"}, group_id=sales.id).value
    app.intercept(chat.id, caller=anna)
    reply = app.reply(chat.id, "one moment", caller=anna).value
    app.mute(chat.id, caller=anna, minutes=10)
    app.change_topic(chat.id, caller=anna, topic="billing", subtopic="refund")
    app.edit_message(chat.id, reply["id"], "one moment, please", caller=anna)
    settle(container)

    shown = row(container, chat.id)
    assert shown["muted"] is True
    assert shown["muted_until"] == clock.now() + timedelta(minutes=10)
    assert (shown["topic"], shown["subtopic"]) == ("billing", "refund")
    assert shown["last_message_text"] == "one moment, please"
    assert shown["status"] == "active"

    # A muted client's message starts no response clock.
    app.relay_client_message(chat.id, "spam spam", bot=BOT)
    settle(container)
    assert row(container, chat.id)["waiting_since"] is None

    app.unmute(chat.id, caller=anna)
    clock.advance(seconds=5)
    app.relay_client_message(chat.id, "real question", bot=BOT)
    settle(container)
    waiting = row(container, chat.id)
    assert waiting["muted"] is False
    assert waiting["waiting_since"] == clock.now()
    assert waiting["sl_due_at"] == clock.now() + timedelta(seconds=30)

    # Reassigned to another group: the clock keeps running, due by the new group's SL.
    ben = working_operator(container, vip.id, "ben@example.com")
    app.reassign(chat.id, caller=ADMIN, group_id=vip.id)
    settle(container)
    moved = row(container, chat.id)
    assert moved["operator_id"] == ben.operator_id
    assert moved["group_id"] == vip.id
    assert moved["status"] == "active"  # the bot is long out of it
    assert moved["waiting_since"] == waiting["waiting_since"]
    assert moved["sl_due_at"] == waiting["waiting_since"] + timedelta(seconds=300)
    loads = {r["id"]: r["load"] for r in container.directory.operators()[0]}
    assert loads == {anna.operator_id: 0, ben.operator_id: 1}


def test_the_scheduler_lifts_a_timed_mute_when_its_time_is_up(container, clock, team) -> None:
    app, sales, _, anna = team
    chat = app.handoff(bot=BOT, external_id="c1", client={"id": "1"}, group_id=sales.id).value
    app.intercept(chat.id, caller=anna)
    app.mute(chat.id, caller=anna, minutes=5)
    settle(container)

    clock.advance(minutes=4, seconds=59)
    assert container.scheduler.tick().mutes_lifted == 0
    clock.advance(seconds=1)
    assert container.scheduler.tick().mutes_lifted == 1
    settle(container)
    assert container.scheduler.tick().total == 0  # never twice
    assert app.get_chat(chat.id).muted is False
    assert row(container, chat.id)["muted"] is False
    events = [type(e).__name__ for e in app.chat_events(chat.id)]
    assert events.count("Unmuted") == 1


def test_the_scheduler_closes_quiet_chats_and_frees_the_operator(container, clock, team) -> None:
    app, sales, _, anna = team
    quiet = app.handoff(bot=BOT, external_id="q", client={"id": "1"}, group_id=sales.id).value
    waiting = app.handoff(bot=BOT, external_id="w", client={"id": "2"}, group_id=sales.id).value
    for chat in (quiet, waiting):
        app.intercept(chat.id, caller=anna)
        app.reply(chat.id, "hello", caller=anna)
    app.relay_client_message(waiting.id, "still there?", bot=BOT)  # the client waits on us
    settle(container)

    clock.advance(minutes=14)
    assert container.scheduler.tick().chats_closed == 0
    clock.advance(minutes=1)
    assert container.scheduler.tick().chats_closed == 1
    settle(container)
    assert container.scheduler.tick().chats_closed == 0

    closed = app.get_chat(quiet.id)
    assert (closed.status, closed.closed_by, closed.close_reason) == (
        "closed",
        {"kind": "system"},
        "inactivity",
    )
    assert app.get_chat(waiting.id).status == "active"
    assert app.get_operator(anna.operator_id).load == 1


def test_the_scheduler_marks_idle_operators_absent(container, clock, team) -> None:
    app, sales, _, anna = team
    app.change_settings({"absent_after_minutes": 10}, actor=ADMIN.actor)
    ben = working_operator(container, sales.id, "ben@example.com")
    chat = app.handoff(bot=BOT, external_id="c", client={"id": "1"}, group_id=sales.id).value
    holder = anna if app.get_chat(chat.id).operator_id == anna.operator_id else ben
    other = ben if holder is anna else anna
    settle(container)

    clock.advance(minutes=9)
    app.intercept(chat.id, caller=holder)  # activity keeps the holder present
    settle(container)
    clock.advance(minutes=1)
    assert container.scheduler.tick().operators_absent == 1
    settle(container)
    assert app.get_operator(other.operator_id).status == "absent"
    assert app.get_operator(holder.operator_id).status == "working"
    clock.advance(minutes=10)
    assert container.scheduler.tick().operators_absent == 1
    settle(container)
    assert app.get_operator(holder.operator_id).status == "absent"
    assert app.get_operator(holder.operator_id).load == 1  # absent keeps its chats


def test_an_operator_registered_with_their_own_idle_limit_is_marked_absent_by_it(
    container, clock, team
) -> None:
    """``auto_logout_s`` given at registration counts, with no company limit at all."""
    app, sales, _, _ = team
    operator, token = app.register_operator(
        actor=ADMIN.actor,
        first_name="Ida",
        last_name="Idle",
        email="ida@example.com",
        group_ids=[sales.id],
        auto_logout_s=120,
    ).value
    app.set_status(operator.id, "working", caller=app.authenticate(token))
    settle(container)
    assert app.company_settings()["absent_after_minutes"] is None
    clock.advance(seconds=119)
    assert container.scheduler.tick().operators_absent == 0
    clock.advance(seconds=2)
    assert container.scheduler.tick().operators_absent == 1
    assert app.get_operator(operator.id).status == "absent"


def scheduler_lock_holders(services: Services) -> int:
    """Sessions holding the scheduler's advisory lock (the active scheduler's) in this
    database: advisory locks are per database, and other tests' servers hold theirs."""
    with services.database.connect(autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 "
            "AND objid = %s::bigint::oid AND objsubid = 1 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (LOCK_KEY,),
        ).fetchone()[0]


def test_two_schedulers_on_one_database_act_once(database_url: str) -> None:
    """A second process's scheduler stands by while the first holds the lock."""
    clock = FakeClock()
    settings = Config(
        DATABASE_URL=database_url,
        SWITCHBOARD_SCHEDULER_INTERVAL_S=0.05,
        SWITCHBOARD_DB_POOL_SIZE=4,
    )
    first, second = build(settings, clock=clock), build(settings, clock=clock)
    for process in (first, second):
        process.start()
    try:
        app = first.app
        group = app.create_group(actor=ADMIN.actor, name="Sales").value
        anna = working_operator(first, group.id, "anna@example.com")
        chats = [
            app.handoff(
                bot=BOT, external_id=f"c{n}", client={"id": str(n)}, group_id=group.id
            ).value
            for n in range(5)
        ]
        for chat in chats:
            app.intercept(chat.id, caller=anna)
            app.mute(chat.id, caller=anna, minutes=1)
        settle(first)
        for _ in range(100):  # both threads have had their first try at the lock
            holders = scheduler_lock_holders(first)
            if holders == 1:
                break
            threading.Event().wait(0.05)
        assert holders == 1, "exactly one scheduler is active"

        clock.advance(minutes=1)
        done = threading.Event()

        def all_unmuted() -> bool:
            return not any(app.get_chat(chat.id).muted for chat in chats)

        for _ in range(200):
            if all_unmuted():
                done.set()
                break
            threading.Event().wait(0.05)
        assert done.is_set(), "the active scheduler did not lift the mutes"
        settle(first)
        for chat in chats:
            names = [type(e).__name__ for e in app.chat_events(chat.id)]
            assert names.count("Unmuted") == 1
    finally:
        for process in (first, second):
            process.stop()
