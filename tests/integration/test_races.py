"""Invariants under real concurrency: threads sharing one application against real PostgreSQL.

Every racer waits at a barrier so that they really start together; outcomes are read back
from the aggregates and the event log, never from timing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

from application.auth import Principal
from application.errors import Conflict
from application.routing import Routing
from domain.chat import Chat
from domain.errors import AlreadyIntercepted, NotQueued
from infrastructure.bootstrap import Services
from projections.dashboard import Viewer

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")
SUPERVISOR = Viewer(None, True)
WAIT_S = 10

T = TypeVar("T")


def race(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(n)`` in ``count`` threads released together; each result or exception."""
    barrier = threading.Barrier(count)

    def racer(n: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(n)
        except Exception as error:  # collected: the test asserts on each racer's outcome
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(racer, range(count)))


def staff(container: Services, email: str, groups: list[UUID], **options: Any) -> Principal:
    app = container.app
    token = app.register_operator(
        actor=ADMIN.actor,
        first_name=email.split("@")[0].title(),
        last_name="Racer",
        email=email,
        group_ids=groups,
        **options,
    ).value[1]
    principal = app.authenticate(token)
    assert principal is not None and principal.operator_id is not None
    return principal


def working(container: Services, *operators: Principal) -> None:
    for operator in operators:
        done = container.app.set_status(operator.operator_id, "working", caller=operator)
    assert container.wait_for("directory", done.position, WAIT_S) is True


def settled(container: Services) -> int:
    """Wait until every read model, the dispatcher too, reaches a head that stays put."""
    for _round in range(20):
        head = container.app.head()
        assert head is not None
        for model in container.read_models:
            assert container.wait_for(model.name, head, WAIT_S) is True, model.name
        if container.app.head() == head:
            return head
    raise AssertionError("the log kept growing")


def chat_requests(container: Services) -> list[Chat.ChatRequested]:
    app = container.app
    topic = f"{Chat.ChatRequested.__module__}:{Chat.ChatRequested.__qualname__}"
    head = app.head() or 0
    notifications = app.recorder.select_notifications(start=1, limit=head, topics=[topic])
    return [app.mapper.to_domain_event(n) for n in notifications]


def test_parallel_handoffs_of_one_conversation_make_one_chat(container: Services) -> None:
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
    working(container, staff(container, "alice@example.com", [sales]))

    outcomes = race(
        20,
        lambda n: app.handoff(
            bot=BOT,
            external_id="conversation-42",
            client={"id": "c42"},
            group_id=sales,
        ),
    )

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []
    chat_ids = {o.value.id for o in outcomes}
    assert len(chat_ids) == 1
    assert sum(o.recorded for o in outcomes) == 1
    [chat_id] = chat_ids
    requests = [e for e in chat_requests(container) if e.external_id == "conversation-42"]
    assert [e.originator_id for e in requests] == [chat_id]
    assert app.get_operator(app.get_chat(chat_id).operator_id).chat_ids == [chat_id]

    assert container.wait_for("dashboard", max(o.position for o in outcomes), WAIT_S) is True
    rows, _ = container.dashboard.rows("all", SUPERVISOR, limit=100)
    assert [row["id"] for row in rows] == [chat_id]


def test_racing_intercepts_of_a_queued_chat_have_one_winner(container: Services) -> None:
    app = container.app
    billing = app.create_group(actor=ADMIN.actor, name="Billing", routing="manual").value.id
    operators = [staff(container, f"op{n}@example.com", [billing]) for n in range(8)]
    working(container, *operators)
    winners: Counter[UUID] = Counter()

    for trial in range(10):
        chat_id = app.handoff(
            bot=BOT,
            external_id=f"queued-{trial}",
            client={"id": f"c{trial}"},
            group_id=billing,
        ).value.id
        assert app.get_chat(chat_id).status == "queued"

        outcomes = race(
            len(operators), lambda n, chat_id=chat_id: app.intercept(chat_id, caller=operators[n])
        )

        won = [
            operators[n].operator_id
            for n, o in enumerate(outcomes)
            if not isinstance(o, BaseException)
        ]
        lost = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(won) == 1, outcomes
        assert all(isinstance(o, AlreadyIntercepted | NotQueued) for o in lost), lost
        chat = app.get_chat(chat_id)
        assert (chat.status, chat.operator_id) == ("active", won[0])
        winners[won[0]] += 1

    for operator in operators:
        held = app.get_operator(operator.operator_id).chat_ids
        assert len(held) == winners[operator.operator_id]
    assert sum(winners.values()) == 10


def test_parallel_handoffs_never_overfill_an_operator(container: Services) -> None:
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
    operators = [staff(container, f"op{n}@example.com", [sales], max_chats=10) for n in range(3)]
    working(container, *operators)
    per_thread = 50

    def hand_off(thread: int) -> list[UUID]:
        chats = []
        for n in range(per_thread):
            external_id = f"t{thread}-{n}"
            for _attempt in range(20):  # as bots do: a handoff that gave up is sent again
                try:
                    done = app.handoff(
                        bot=BOT,
                        external_id=external_id,
                        client={"id": external_id},
                        group_id=sales,
                    )
                except Conflict:
                    continue
                chats.append(done.value.id)
                break
        return chats

    outcomes = race(4, hand_off)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []
    settled(container)  # a chat queued on a stale picture may still go to the dispatcher
    chat_ids = [chat_id for chats in outcomes for chat_id in chats]
    assert len(set(chat_ids)) == 4 * per_thread
    requests = Counter(e.external_id for e in chat_requests(container))
    assert len(requests) == 4 * per_thread
    assert set(requests.values()) == {1}  # a handoff that gave up left nothing behind

    chats = [app.get_chat(chat_id) for chat_id in chat_ids]
    assigned = {c.id: c.operator_id for c in chats if c.status == "assigned"}
    queued = [c for c in chats if c.status == "queued"]
    assert len(assigned) + len(queued) == len(chats)

    held: dict[UUID, list[UUID]] = {}
    for operator in operators:
        aggregate = app.get_operator(operator.operator_id)
        assert aggregate.load <= 10
        held[aggregate.id] = aggregate.chat_ids
    assert sum(len(ids) for ids in held.values()) == len(assigned)
    assert {c: o for o, ids in held.items() for c in ids} == assigned
    assert len(assigned) == 30  # every place taken, since there were chats to spare
    assert len(queued) == 4 * per_thread - 30

    assert settled(container) == app.head()
    directory, _ = container.directory.operators(limit=100)
    assert {row["id"]: row["load"] for row in directory} == {o: len(i) for o, i in held.items()}
    queue, _ = container.dashboard.rows("queue", SUPERVISOR, limit=1000)
    assert sorted(row["id"] for row in queue) == sorted(c.id for c in queued)


def test_parallel_handoffs_with_room_to_spare_all_succeed(container: Services) -> None:
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
    working(container, *(staff(container, f"op{n}@example.com", [sales]) for n in range(3)))

    def hand_off(thread: int) -> list[Exception]:
        failures = []
        for n in range(30):
            try:
                app.handoff(
                    bot=BOT,
                    external_id=f"t{thread}-{n}",
                    client={"id": f"c{thread}-{n}"},
                    group_id=sales,
                )
            except Conflict as error:
                failures.append(error)
        return failures

    outcomes = race(8, hand_off)
    assert [error for failures in outcomes for error in failures] == []


def test_parallel_handoffs_of_one_process_lose_no_races_while_operators_outnumber_them(
    container: Services, monkeypatch
) -> None:
    """Each handoff of the process gives its chat to an operator no other handoff of the
    process is giving one to right now: no two of them write the same operator's version."""
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
    operators = [staff(container, f"op{n}@example.com", [sales]) for n in range(10)]
    working(container, *operators)
    lost = []
    attempt = Routing.attempt

    def counted(self: Routing, number: int):
        if number > 1:  # a run after a lost race
            lost.append(number)
        return attempt(self, number)

    monkeypatch.setattr(Routing, "attempt", counted)

    def hand_off(thread: int) -> None:
        for n in range(12):
            app.handoff(
                bot=BOT,
                external_id=f"t{thread}-{n}",
                client={"id": f"c{thread}-{n}"},
                group_id=sales,
            )

    outcomes = race(8, hand_off)
    assert outcomes == [None] * 8
    assert lost == []
    loads = [app.get_operator(o.operator_id).load for o in operators]
    assert sum(loads) == 96
