"""Read models apply every event exactly once: across restarts, gaps, and rebuilds from scratch.

These tests build the process themselves, several times over one database, the way a
deployment restarts: a container that projects, one that only takes commands, another that
projects again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError, Tracking
from psycopg.rows import dict_row

from application.auth import Principal
from infrastructure.bootstrap import Services, build
from infrastructure.config import Config
from projections.dashboard import Viewer
from projections.machinery.readmodel import SCHEMA
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")
SUPERVISOR = Viewer(None, True)
WAIT_S = 10


@contextmanager
def running(database_url: str, clock: FakeClock, *, projections: bool = True) -> Iterator[Services]:
    # A small pool, as the integration conftest's: the server's connections are shared.
    settings = Config(DATABASE_URL=database_url, SWITCHBOARD_DB_POOL_SIZE=4)
    container = build(settings, clock=clock, run_projections=projections)
    # No scheduler: on the fake clock's time it would mark chats overdue between a test's
    # snapshots; these tests record every event themselves.
    container.scheduler = None
    container.start()
    try:
        yield container
    finally:
        container.stop()


def caught_up(container: Services) -> int:
    """Wait until every read model reaches a head that stays put; return that head.

    The dispatcher appends events of its own when it drains a queue, so the head is read
    again after the wait until no model has anything left to do.
    """
    for _round in range(20):
        head = container.app.head()
        assert head is not None
        for name in container.positions():  # the dispatcher's too, where it runs
            assert container.wait_for(name, head, WAIT_S) is True, name
        if container.app.head() == head:
            for model in container.read_models:
                assert model.position() == head, model.name
            return head
    raise AssertionError("the log kept growing")


def staff(app, email: str, groups: list[UUID], *, max_chats: int | None = None) -> Principal:
    token = app.register_operator(
        actor=ADMIN.actor,
        first_name=email.split("@")[0].title(),
        last_name="Tester",
        email=email,
        group_ids=groups,
        max_chats=max_chats,
    ).value[1]
    principal = app.authenticate(token)
    app.set_status(principal.operator_id, "working", caller=principal)
    return principal


def some_traffic(app, clock: FakeClock, prefix: str, groups: list[UUID], count: int) -> list[UUID]:
    """Handoffs into the groups in turn; every third chat closed, some with messages, and
    those still unanswered past their SL marked overdue."""
    chats = []
    for n in range(count):
        clock.advance(seconds=7)
        chat = app.handoff(
            bot=BOT,
            external_id=f"{prefix}-{n}",
            client={"id": f"{prefix}-client-{n % 4}"},
            group_id=groups[n % len(groups)],
        ).value
        chats.append(chat.id)
        if chat.operator_id is not None and n % 2:
            app.relay_client_message(chat.id, f"hello {n}", bot=BOT)
        if n % 3 == 0:
            app.close_chat(chat.id, caller=ADMIN, reason="test")
    # The scheduler's rule, run here at a known time: chats past their SL are marked overdue.
    for chat_id in chats:
        app.mark_overdue(chat_id)
    return chats


def assert_read_models_match_the_aggregates(container: Services, chats: list[UUID]) -> None:
    app = container.app
    operators, cursor = container.directory.operators(limit=1000)
    assert cursor is None
    assert operators
    for row in operators:
        operator = app.get_operator(row["id"])
        assert row["load"] == operator.load, row["email"]
        assert row["status"] == operator.status
        assert row["group_ids"] == operator.group_ids
        assert row["max_chats"] == operator.max_chats

    rows, cursor = container.dashboard.rows("all", SUPERVISOR, limit=1000)
    assert cursor is None
    assert sorted(row["id"] for row in rows) == sorted(chats)
    for row in rows:
        chat = app.get_chat(row["id"])
        assert row["status"] == chat.status
        assert row["operator_id"] == chat.operator_id
        assert row["group_id"] == chat.group_id
        assert row["closed_at"] == chat.closed_at
        assert row["overdue"] == chat.overdue

    # Every chat that is held counts once in its operator's load, never twice.
    held = sum(1 for row in rows if row["status"] in ("assigned", "active"))
    assert sum(row["load"] for row in operators) == held


def snapshot(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every read-model table, in a stable order."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        tables = [
            row["table_name"]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                (SCHEMA,),
            )
        ]
        return {
            table: conn.execute(f"SELECT * FROM {SCHEMA}.{table} ORDER BY 1, 2").fetchall()
            for table in tables
        }


def test_read_models_catch_up_after_a_gap_with_every_event_once(
    database_url: str, clock: FakeClock
) -> None:
    with running(database_url, clock) as first:
        app = first.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        support = app.create_group(actor=ADMIN.actor, name="Support").value.id
        staff(app, "alice@example.com", [sales], max_chats=4)
        staff(app, "bob@example.com", [sales, support], max_chats=4)
        chats = some_traffic(app, clock, "before", [sales, support], 8)
        caught_up(first)
        assert_read_models_match_the_aggregates(first, chats)
        positions_before = {model.name: model.position() for model in first.read_models}
        rows_before = len(first.dashboard.rows("all", SUPERVISOR, limit=1000)[0])

    # Commands go on while nothing projects.
    with running(database_url, clock, projections=False) as blind:
        app = blind.app
        carol = staff(app, "carol@example.com", [support], max_chats=3)
        chats += some_traffic(app, clock, "during", [support, sales], 9)
        app.set_status(carol.operator_id, "break", caller=carol)
        app.create_group(actor=ADMIN.actor, name="Returns")
        head_without_projections = app.head()
        assert {m.name: m.position() for m in blind.read_models} == positions_before
        assert len(blind.dashboard.rows("all", SUPERVISOR, limit=1000)[0]) == rows_before
        assert head_without_projections > max(positions_before.values())

    with running(database_url, clock) as last:
        assert caught_up(last) >= head_without_projections
        assert_read_models_match_the_aggregates(last, chats)
        assert sorted(g["name"] for g in last.directory.groups()) == ["Returns", "Sales", "Support"]
        # More traffic on the caught-up models still lands once.
        chats += some_traffic(last.app, clock, "after", [sales], 3)
        caught_up(last)
        assert_read_models_match_the_aggregates(last, chats)


def test_a_dropped_read_model_schema_is_rebuilt_to_the_same_rows(
    database_url: str, clock: FakeClock
) -> None:
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(
            actor=ADMIN.actor, name="Sales", sl_first_response_s=30, sl_next_response_s=45
        ).value.id
        gone = app.create_group(actor=ADMIN.actor, name="Gone").value.id
        alice = staff(app, "alice@example.com", [sales, gone], max_chats=3)
        staff(app, "bob@example.com", [sales], max_chats=2)
        chats = some_traffic(app, clock, "x", [sales], 7)
        app.handoff(bot=BOT, external_id="phone", client={"id": "p", "phone": "+15550100"})
        held = [
            c
            for c in chats
            if app.get_chat(c).is_open and app.get_chat(c).operator_id == alice.operator_id
        ]
        app.intercept(held[0], caller=alice)
        app.reply(held[0], "hi", caller=alice)
        # Past every SL: the open chats left unanswered are marked. (Which chats those are
        # depends on routing, which reads the directory as far as it has caught up: on a busy
        # machine the one chat past its SL above was sometimes the one answered just now.)
        clock.advance(seconds=31)
        for chat_id in chats:
            app.mark_overdue(chat_id)
        app.update_group(sales, actor=ADMIN.actor, sl_next_response_s=50)
        app.delete_group(gone, actor=ADMIN.actor)
        head = caught_up(container)
    before = snapshot(database_url)
    assert {"dashboard_chats", "operators", "groups"} <= set(before)
    assert len(before["dashboard_chats"]) == len(chats) + 1
    assert any(row["overdue"] for row in before["dashboard_chats"]), "marks are rebuilt too"

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")

    with running(database_url, clock) as rebuilt:
        assert caught_up(rebuilt) == head
    after = snapshot(database_url)
    assert set(after) == set(before)
    for table in before:
        assert after[table] == before[table], table


def test_a_standby_process_takes_over_the_projections_exactly_once(
    database_url: str, clock: FakeClock
) -> None:
    """Two `serve` processes on one database both run the runners; one leads at a time."""
    with contextlib.ExitStack() as leading:
        leader = leading.enter_context(running(database_url, clock))
        with running(database_url, clock) as standby:
            app = leader.app
            sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
            for n in range(3):
                staff(app, f"op{n}@example.com", [sales], max_chats=5)
            chats = some_traffic(app, clock, "a", [sales], 12)
            chats += some_traffic(standby.app, clock, "b", [sales], 12)
            caught_up(leader)
            caught_up(standby)
            assert_read_models_match_the_aggregates(standby, chats)
            for name in (model.name for model in leader.read_models):
                runners = [r for r in leader.runners + standby.runners if r.name == name]
                assert [r.standby for r in runners].count(False) == 1, name

            leading.close()  # the leading process goes away; the standby takes over
            chats += some_traffic(standby.app, clock, "c", [sales], 6)
            caught_up(standby)
            assert_read_models_match_the_aggregates(standby, chats)


def logged(app, after: int, upto: int) -> list[tuple[Any, Tracking]]:
    """The events in (after, upto] as a projection runner receives them."""
    notifications = app.recorder.select_notifications(
        start=after, stop=upto, limit=upto - after, inclusive_of_start=False
    )
    return [(app.mapper.to_domain_event(n), Tracking(app.name, n.id)) for n in notifications]


def test_a_batch_overlapping_another_process_commit_is_not_applied_twice(
    database_url: str, clock: FakeClock
) -> None:
    """Two processes follow the log; both are at position k, then two handoffs arrive.

    Process A takes the first handoff's events as a batch and commits. Process B, which read
    both handoffs before A committed, takes them as one batch. Exactly once means B's batch is
    refused (B then restarts from the committed position), never applied on top of A's.
    """
    with (
        running(database_url, clock, projections=False) as a,
        running(database_url, clock, projections=False) as b,
    ):
        app = a.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        alice = staff(app, "alice@example.com", [sales])
        k = app.head()
        a.directory.process_batch(logged(app, 0, k))
        one = app.handoff(bot=BOT, external_id="one", client={"id": "c1"}, group_id=sales)
        two = app.handoff(bot=BOT, external_id="two", client={"id": "c2"}, group_id=sales)
        assert one.value.operator_id == two.value.operator_id == alice.operator_id

        a.directory.process_batch(logged(app, k, one.position))
        with contextlib.suppress(PersistenceError):  # refused: B restarts from the position
            b.directory.process_batch(logged(app, k, two.position))

    with running(database_url, clock) as runner:
        caught_up(runner)
        [row], _ = runner.directory.operators()
        assert row["load"] == runner.app.get_operator(alice.operator_id).load == 2
