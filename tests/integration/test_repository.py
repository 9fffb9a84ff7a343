"""The application's repository on real PostgreSQL: copies that share only what cannot change,
no snapshot read for kinds never snapshotted, and a command's aggregates in one statement,
up to date with what another process saved."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.auth import Principal
from application.repository import SwitchboardRepository
from domain.group import Group
from domain.operator import Operator
from domain.reservation import Reservation
from infrastructure.bootstrap import Services, build
from infrastructure.config import Config
from tests.clock import FakeClock

ADMIN = Principal("admin", "root")


@pytest.fixture
def other_process(database_url: str, container: Services) -> Iterator[Services]:
    """A second API process on the same database (its own cache of aggregates)."""
    built = build(
        Config(DATABASE_URL=database_url, SWITCHBOARD_DB_POOL_SIZE=2),
        clock=FakeClock(),
        run_projections=False,
    )
    built.start()
    try:
        yield built
    finally:
        built.stop()


class Reads:
    """Counts the event store's reads, which still go to the database."""

    def __init__(self, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[str] = Counter()
        app = services.app
        for name, recorder in (("events", app.recorder), ("snapshots", app.snapshots.recorder)):
            for method in ("select_events", "select_events_after"):
                if hasattr(recorder, method):
                    monkeypatch.setattr(
                        recorder,
                        method,
                        self._counted(f"{name}.{method}", getattr(recorder, method)),
                    )

    def _counted(self, key: str, read: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[key] += 1
            return read(*args, **kwargs)

        return counted


def repository(services: Services) -> SwitchboardRepository:
    repo = services.app.repository
    assert isinstance(repo, SwitchboardRepository)
    return repo


def operator_with_chats(services: Services, group_id: UUID, chats: int) -> UUID:
    app = services.app
    operator, token = app.register_operator(
        actor=ADMIN.actor,
        first_name="Olga",
        last_name="Busy",
        email=f"{uuid4().hex[:10]}@example.com",
        group_ids=[group_id],
        max_chats=300,
    ).value
    app.set_status(operator.id, "working", caller=app.authenticate(token))
    loaded = app.get_operator(operator.id)
    for _ in range(chats):
        loaded.take_chat(uuid4(), at=app.clock.now(), actor="system")
    app.save(loaded)
    return operator.id


def test_a_copy_from_the_cache_shares_nothing_a_command_changes(container: Services) -> None:
    group = container.app.create_group(actor=ADMIN.actor, name="Sales").value.id
    operator_id = operator_with_chats(container, group, 300)
    repo = repository(container)
    first: Operator = repo.get(operator_id)
    second: Operator = repo.get(operator_id)
    assert first is not second and first.chat_ids is not second.chat_ids
    first.release_chat(first.chat_ids[0], at=container.app.clock.now(), actor="system")
    first.group_ids.append(uuid4())
    again: Operator = repo.get(operator_id)
    assert len(again.chat_ids) == 300 and again.group_ids == [group]
    assert again.chat_ids == second.chat_ids and again.version == second.version


def test_an_unsnapshotted_kind_is_read_without_asking_the_snapshot_table(
    container: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(container, monkeypatch)
    missing = Reservation.id_for("handoff", f"bot\x00{uuid4()}")
    assert container.app._find(Reservation, missing) is None
    group = container.app.create_group(actor=ADMIN.actor, name="Support").value
    assert container.app._find(Group, group.id) is not None
    assert reads.calls["snapshots.select_events"] == 0
    assert reads.calls["events.select_events"] >= 1


def test_a_commands_aggregates_load_in_one_statement_up_to_date_with_another_process(
    container: Services, other_process: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, other = container.app, other_process.app
    group = app.create_group(actor=ADMIN.actor, name="Retail").value.id
    operator_id = operator_with_chats(container, group, 3)
    # The other process caches both, then this one changes both behind its back.
    assert other._find(Group, group) is not None and other._find(Operator, operator_id)
    app.update_group(group, actor=ADMIN.actor, name="Retail and more")
    busier = app.get_operator(operator_id)
    busier.take_chat(uuid4(), at=app.clock.now(), actor="system")
    app.save(busier)
    missing = Reservation.id_for("handoff", f"bot\x00{uuid4()}")

    reads = Reads(other_process, monkeypatch)
    with other._together({group: Group, operator_id: Operator, missing: Reservation}):
        fresh_group = other._find(Group, group)
        fresh_operator = other._find(Operator, operator_id)
        assert other._find(Reservation, missing) is None
    assert dict(reads.calls) == {"events.select_events_after": 1}
    assert fresh_group is not None and fresh_group.name == "Retail and more"
    assert fresh_operator is not None and fresh_operator.load == 4
    # Outside the block, loads go as before and see the same state.
    assert other._find(Operator, operator_id).version == fresh_operator.version


def test_a_copy_taken_in_the_block_serves_one_load_and_changes_nothing_else(
    container: Services,
) -> None:
    app = container.app
    group = app.create_group(actor=ADMIN.actor, name="Wholesale").value.id
    with app._together({group: Group}):
        first = app._find(Group, group)
        second = app._find(Group, group)
    assert first is not None and second is not None and first is not second
    first.name = "changed in a command that failed"
    again = app._find(Group, group)
    assert again is not None and again.name == "Wholesale"
