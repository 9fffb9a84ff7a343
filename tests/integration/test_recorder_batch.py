"""Group commit through the application: commands that meet in one batch on the same
aggregate version. Exactly one wins, the rest of the batch commits, and the loser's retry
answers on the state that won.

The recorder's leader is made to wait for company (``gather_s``), so that the racers'
appends really share one batch; its statistics show that they did.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.errors import AlreadyIntercepted, NotQueued
from infrastructure.bootstrap import Services
from infrastructure.recorder import GroupCommitRecorder, GroupStatistics, VersionTaken
from tests.integration.test_races import ADMIN, BOT, race, settled, staff, working
from tests.integration.test_recorder_tailing import recorder_for


@pytest.fixture
def gathering(monkeypatch: pytest.MonkeyPatch) -> None:
    # Long enough for three threads' loads and routing, on two busy cores.
    monkeypatch.setattr(GroupCommitRecorder, "gather_s", 0.5)


def statistics(container: Services) -> GroupStatistics:
    recorder = container.app.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    return recorder.statistics


def test_two_handoffs_to_one_operator_in_one_batch_one_wins_the_other_queues(
    container: Services, gathering: None
) -> None:
    app = container.app
    sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
    support = app.create_group(actor=ADMIN.actor, name="Support").value.id
    alice = staff(container, "alice@example.com", [sales], max_chats=1)
    bob = staff(container, "bob@example.com", [support], max_chats=1)
    working(container, alice, bob)
    settled(container)
    before = GroupStatistics(**vars(statistics(container)))

    groups = [sales, sales, support]
    outcomes = race(
        3,
        lambda n: app.handoff(
            bot=BOT, external_id=f"conversation-{n}", client={"id": f"c{n}"}, group_id=groups[n]
        ),
    )

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    after = statistics(container)
    assert after.largest >= 3, "the three appends never shared a batch"
    assert after.conflicts - before.conflicts == 1
    chats = [app.get_chat(o.value.id) for o in outcomes]
    sales_chats = chats[:2]
    assert sorted(c.status for c in sales_chats) == ["assigned", "queued"]
    [won] = [c for c in sales_chats if c.status == "assigned"]
    assert won.operator_id == alice.operator_id
    assert app.get_operator(alice.operator_id).chat_ids == [won.id]
    # The batch's third command, on other aggregates, committed beside the race.
    assert (chats[2].status, chats[2].operator_id) == ("assigned", bob.operator_id)
    assert app.get_operator(bob.operator_id).chat_ids == [chats[2].id]


def test_two_intercepts_of_one_chat_in_one_batch_have_one_winner(
    container: Services, gathering: None
) -> None:
    app = container.app
    billing = app.create_group(actor=ADMIN.actor, name="Billing", routing="manual").value.id
    operators = [staff(container, f"op{n}@example.com", [billing]) for n in range(3)]
    working(container, *operators)
    contested, other = (
        app.handoff(
            bot=BOT, external_id=f"queued-{n}", client={"id": f"c{n}"}, group_id=billing
        ).value.id
        for n in range(2)
    )
    settled(container)
    before = GroupStatistics(**vars(statistics(container)))
    targets: list[UUID] = [contested, contested, other]

    outcomes = race(3, lambda n: app.intercept(targets[n], caller=operators[n]))

    after = statistics(container)
    assert after.largest >= 3, "the three appends never shared a batch"
    assert after.conflicts - before.conflicts == 1
    won = [n for n in (0, 1) if not isinstance(outcomes[n], BaseException)]
    assert len(won) == 1, outcomes
    [lost] = [outcomes[n] for n in (0, 1) if n not in won]
    assert isinstance(lost, AlreadyIntercepted | NotQueued), lost
    chat = app.get_chat(contested)
    assert (chat.status, chat.operator_id) == ("active", operators[won[0]].operator_id)
    assert app.get_operator(operators[won[0]].operator_id).chat_ids == [contested]
    assert app.get_operator(operators[1 - won[0]].operator_id).chat_ids == []
    assert not isinstance(outcomes[2], BaseException), outcomes[2]
    assert app.get_chat(other).operator_id == operators[2].operator_id


def test_batches_are_bounded_and_each_command_gets_its_own_ids_or_its_own_conflict(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(GroupCommitRecorder, "max_batch", 3)
    monkeypatch.setattr(GroupCommitRecorder, "gather_s", 0.3)
    shared = uuid4()
    commands = [
        [StoredEvent(uuid4(), v, f"batch:Event{n}", bytes([n, v])) for v in (1, 2)]
        for n in range(7)
    ]
    # Commands 1 and 5 both write version 1 of one aggregate: one of them must lose.
    commands[1][0] = StoredEvent(shared, 1, "batch:Shared", b"1")
    commands[5] = [StoredEvent(shared, 1, "batch:Shared", b"5")]
    with recorder_for(database_url, "grouped") as recorder:
        assert isinstance(recorder, GroupCommitRecorder)
        outcomes = race(len(commands), lambda n: recorder.insert_events(commands[n]))
        stats = recorder.statistics
        assert stats.largest <= 3 and stats.commands == len(commands)
        assert stats.batches >= 3 and stats.conflicts == 1
        lost = [n for n, o in enumerate(outcomes) if isinstance(o, BaseException)]
        assert len(lost) == 1 and lost[0] in (1, 5), outcomes
        assert isinstance(outcomes[lost[0]], VersionTaken)
        for n, ids in enumerate(outcomes):
            if n in lost:
                continue
            assert isinstance(ids, list) and len(ids) == len(commands[n])
            stored = [recorder.select_notifications(start=i, limit=1)[0] for i in ids]
            assert [(s.originator_id, s.originator_version, s.state) for s in stored] == [
                (e.originator_id, e.originator_version, e.state) for e in commands[n]
            ]
        # The loser left nothing: the shared aggregate holds the winner's one event.
        [kept] = recorder.select_events(shared)
        assert kept.state == (b"5" if lost == [1] else b"1")
