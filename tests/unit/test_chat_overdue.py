"""Overdue answers on the Chat aggregate: its running response clock (as ``domain.clocks`` runs
it), marked overdue at most once per clock, and when an overdue chat may move on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Snapshot

from domain.chat import Chat
from domain.chat_overdue import upcast_clocks
from domain.clocks import FIRST_RESPONSE, NEXT_RESPONSE, group_sl
from domain.group import Group

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BOT = "bot:webbot"
ANN, BOB = uuid4(), uuid4()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sl(first: int = 60, following: int = 120):
    """A group's service levels, as ``ServiceLevel``."""
    return lambda group_id, kind: first if kind == FIRST_RESPONSE else following


def requested(seconds: float = 0) -> Chat:
    return Chat.request(
        chat_id=uuid4(), at=at(seconds), actor=BOT, external_id="conv-1", client={"id": "c1"}
    )


def held(operator_id: UUID = ANN) -> Chat:
    """Assigned to Ann at +1 s and intercepted: the first-response clock runs since 0."""
    chat = requested()
    chat.assign(operator_id, None, at=at(1), actor="system")
    chat.intercept(operator_id, at=at(1), actor=f"operator:{operator_id}")
    return chat


def reply(chat: Chat, seconds: float) -> None:
    chat.reply(
        uuid4(), chat.operator_id, "answer", supervisor=False, at=at(seconds), actor="operator"
    )


def client(chat: Chat, seconds: float) -> None:
    chat.relay_client_message(uuid4(), "question", at=at(seconds), actor=BOT)


def overdue_events(chat: Chat) -> list[Chat.ResponseOverdue]:
    return [e for e in chat.collect_events() if isinstance(e, Chat.ResponseOverdue)]


def test_the_first_response_clock_is_marked_once_just_after_its_sl() -> None:
    chat = held()

    assert chat.due_at(sl(first=60)) == at(60)
    assert chat.mark_overdue(sl(first=60), at=at(60), actor="system") is False  # on time
    assert chat.mark_overdue(sl(first=60), at=at(60.001), actor="system") is True
    assert chat.mark_overdue(sl(first=60), at=at(3600), actor="system") is False  # once

    (event,) = overdue_events(chat)
    assert (event.clock, event.due_at, event.operator_id) == (FIRST_RESPONSE, at(60), ANN)
    assert (event.actor, event.timestamp) == ("system", at(60.001))
    assert chat.overdue is True


def test_the_answer_clears_the_mark_and_the_clients_next_turn_may_be_marked_again() -> None:
    chat = held()
    chat.mark_overdue(sl(), at=at(61), actor="system")
    reply(chat, 90)
    assert chat.overdue is False
    assert chat.due_at(sl()) is None, "no clock runs: the client's turn is answered"
    assert chat.mark_overdue(sl(), at=at(9999), actor="system") is False

    client(chat, 100)
    client(chat, 150)  # more messages in the same turn do not restart its clock
    assert chat.due_at(sl(following=120)) == at(220)
    assert chat.mark_overdue(sl(following=120), at=at(219), actor="system") is False
    assert chat.mark_overdue(sl(following=120), at=at(221), actor="system") is True
    assert chat.mark_overdue(sl(following=120), at=at(300), actor="system") is False

    first, second = overdue_events(chat)
    assert (first.clock, second.clock) == (FIRST_RESPONSE, NEXT_RESPONSE)
    assert second.due_at == at(220)


def test_a_muted_clients_messages_start_no_clock_to_mark() -> None:
    chat = held()
    reply(chat, 10)
    chat.mute(operator_id=ANN, supervisor=False, minutes=None, at=at(20), actor="operator")
    client(chat, 30)

    assert chat.due_at(sl()) is None
    assert chat.mark_overdue(sl(), at=at(86_400), actor="system") is False
    assert overdue_events(chat) == []


def test_a_closed_chat_is_never_marked() -> None:
    chat = held()
    chat.close(operator_id=ANN, supervisor=False, reason=None, at=at(30), actor="operator")

    assert chat.due_at(sl()) is None
    assert chat.mark_overdue(sl(), at=at(3600), actor="system") is False
    assert chat.overdue is False


def test_the_mark_is_made_against_the_sl_given_now() -> None:
    chat = held()
    assert chat.mark_overdue(sl(first=300), at=at(200), actor="system") is False
    assert chat.mark_overdue(sl(first=60), at=at(200), actor="system") is True


def test_a_reassignment_keeps_the_clock_and_its_mark() -> None:
    chat = held()
    chat.mark_overdue(sl(), at=at(61), actor="system")
    chat.reassign(operator_id=BOB, group_id=None, at=at(70), actor="system")

    assert chat.overdue is True
    assert chat.due_at(sl()) == at(60)
    assert chat.mark_overdue(sl(), at=at(500), actor="system") is False


def test_a_queued_chat_is_marked_with_nobody_holding_it() -> None:
    chat = requested()
    chat.queue(None, at=at(0), actor="system")

    assert chat.mark_overdue(sl(), at=at(61), actor="system") is True
    (event,) = overdue_events(chat)
    assert event.operator_id is None


def test_an_overdue_chat_may_move_once_per_clock_after_its_delay() -> None:
    chat = held()
    assert chat.overdue_move_due(sl(), 120, at=at(500)) is False, "not marked yet"
    chat.mark_overdue(sl(), at=at(61), actor="system")

    assert chat.overdue_move_due(sl(), 120, at=at(179)) is False
    assert chat.overdue_move_due(sl(), 120, at=at(180)) is True

    chat.reassign(operator_id=BOB, group_id=None, at=at(200), actor="system")
    assert chat.overdue_moved is True
    assert chat.overdue_move_due(sl(), 120, at=at(86_400)) is False, "moved once: it stays"

    reply(chat, 300)
    assert (chat.overdue, chat.overdue_moved) == (False, False)
    client(chat, 310)  # the next turn starts clean: marked, then moved again
    chat.mark_overdue(sl(), at=at(431), actor="system")
    assert chat.overdue_move_due(sl(), 120, at=at(550)) is True


def test_a_chat_reassigned_by_anyone_while_overdue_is_not_moved_by_the_engine() -> None:
    chat = held()
    chat.mark_overdue(sl(), at=at(61), actor="system")
    chat.reassign(operator_id=BOB, group_id=None, at=at(70), actor="supervisor")
    assert chat.overdue_move_due(sl(), 1, at=at(9999)) is False


def test_a_chat_that_came_from_the_queue_after_its_sl_gets_the_whole_delay() -> None:
    chat = requested()
    chat.queue(None, at=at(0), actor="system")
    chat.mark_overdue(sl(), at=at(61), actor="system")
    chat.assign(ANN, None, at=at(300), actor="system")
    assert chat.overdue_move_due(sl(), 120, at=at(419)) is False
    assert chat.overdue_move_due(sl(), 120, at=at(420)) is True


def test_a_queued_overdue_chat_has_nobody_to_move_it_from() -> None:
    chat = requested()
    chat.queue(None, at=at(0), actor="system")
    chat.mark_overdue(sl(), at=at(61), actor="system")
    assert chat.overdue_move_due(sl(), 1, at=at(9999)) is False


def test_the_clock_and_its_mark_survive_rebuilding_from_events_and_snapshots() -> None:
    chat = held()
    reply(chat, 10)
    client(chat, 20)
    chat.mark_overdue(sl(), at=at(200), actor="system")
    events = chat.collect_events()

    rebuilt = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    restored = Snapshot.take(chat).mutate(None)

    for copy in (rebuilt, restored):
        assert (copy.clock_kind, copy.clock_started_at) == (NEXT_RESPONSE, at(20))
        assert (copy.operator_replied, copy.overdue, copy.overdue_moved) == (True, True, False)


@pytest.mark.parametrize(
    "authors, expected",
    [
        ([], (FIRST_RESPONSE, 0)),
        (["client", "bot"], (FIRST_RESPONSE, 0)),
        (["client", "operator"], (None, None)),
        (["operator", "client", "client"], (NEXT_RESPONSE, 2)),
        (["operator", "client", "operator", "system"], (None, None)),
    ],
)
def test_a_snapshot_from_before_the_clock_gets_the_clock_its_messages_show(
    authors, expected
) -> None:
    state = {
        "_created_on": at(0),
        "status": "active",
        "messages": [{"author": a, "at": at(n + 1)} for n, a in enumerate(authors)],
    }
    upcast_clocks(state)
    kind, started = expected
    assert state["clock_kind"] == kind
    assert state["clock_started_at"] == (None if started is None else at(started))
    assert state["operator_replied"] is ("operator" in authors)
    assert (state["overdue"], state["overdue_moved"]) == (False, False)


def test_a_closed_chats_old_snapshot_has_no_clock() -> None:
    state = {"_created_on": at(0), "status": "closed", "messages": []}
    upcast_clocks(state)
    assert state["clock_kind"] is None


def test_a_groups_service_levels_apply_and_the_defaults_without_a_group() -> None:
    group = Group.create(
        group_id=uuid4(),
        name="Sales",
        at=at(0),
        actor="admin",
        sl_first_response_s=30,
        sl_next_response_s=45,
    )
    assert group_sl(group)(group.id, FIRST_RESPONSE) == 30
    assert group_sl(group)(group.id, NEXT_RESPONSE) == 45
    assert group_sl(None)(None, FIRST_RESPONSE) == 60
    assert group_sl(None)(None, NEXT_RESPONSE) == 120


def test_a_version_2_snapshot_of_a_waiting_chat_loads_with_its_clock_running() -> None:
    chat = held()
    reply(chat, 10)
    client(chat, 20)
    chat.collect_events()
    taken = Snapshot.take(chat)
    kept = ("clock_kind", "clock_started_at", "operator_replied", "overdue", "overdue_moved")
    state = {k: v for k, v in taken.state.items() if k not in kept}
    old = Snapshot(
        originator_id=taken.originator_id,
        originator_version=taken.originator_version,
        timestamp=taken.timestamp,
        topic=taken.topic,
        state={**state, "class_version": 2},
    )

    loaded = old.mutate(None)

    assert (loaded.clock_kind, loaded.clock_started_at) == (NEXT_RESPONSE, at(20))
    assert loaded.mark_overdue(sl(following=120), at=at(141), actor="system") is True


def test_the_audit_timeline_reads_the_mark_plainly() -> None:
    from infrastructure.audit import timeline

    chat = held()
    chat.collect_events()
    chat.mark_overdue(sl(), at=at(61), actor="system")

    (line,) = timeline(chat.collect_events())
    assert "ResponseOverdue" in line and "system" in line
    summary = f"first response overdue: due 2026-03-02 09:01:00Z, held by operator {ANN}"
    assert line.endswith(summary)
