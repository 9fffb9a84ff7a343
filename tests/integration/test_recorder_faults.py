"""A batch of appends caught by PostgreSQL stopping: no command is left half-done.

The batch is held mid-statement (its function waits for the table lock that another session
holds) when the server stops hard; every command in it gets the error, and the log holds all
of a command's events or none of them.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError, StoredEvent

from infrastructure.recorder import GroupCommitRecorder
from tests.e2e.test_faults import PrivatePostgres
from tests.integration.test_recorder_tailing import recorder_for

pytestmark = pytest.mark.slow

COMMANDS = 8


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    # A short path of its own (the socket lives in it), outside pytest's rotating temp dirs.
    with tempfile.TemporaryDirectory(prefix="sb-recorder-") as directory:
        postgres = PrivatePostgres(Path(directory) / "d")
        try:
            yield postgres
        finally:
            postgres.stop()


def command(n: int) -> list[StoredEvent]:
    """Four events of four new aggregates, as a handoff saves."""
    return [StoredEvent(uuid4(), 1, f"fault:Event{n}", b"state") for _ in range(4)]


def appended(url: str, commands: list[list[StoredEvent]]) -> list[int]:
    """How many of each command's events the log holds."""
    with psycopg.connect(url) as conn:
        held = {
            row[0]
            for row in conn.execute(
                "SELECT originator_id FROM switchboard_events WHERE originator_id = ANY(%s)",
                ([e.originator_id for c in commands for e in c],),
            )
        }
    return [sum(e.originator_id in held for e in c) for c in commands]


def run_commands(
    recorder: GroupCommitRecorder, commands: list[list[StoredEvent]]
) -> tuple[list[object], list[threading.Thread]]:
    outcomes: list[object] = [None] * len(commands)

    def run(n: int) -> None:
        try:
            outcomes[n] = recorder.insert_events(commands[n])
        except PersistenceError as error:
            outcomes[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(commands))]
    for thread in threads:
        thread.start()
    return outcomes, threads


def hold_the_lock(url: str) -> psycopg.Connection:
    blocker = psycopg.connect(url)
    blocker.execute("LOCK TABLE switchboard_events IN EXCLUSIVE MODE")
    return blocker


def test_a_batch_cut_by_the_database_stopping_leaves_no_command_half_done(
    private_postgres: PrivatePostgres,
) -> None:
    url = private_postgres.url
    # One-second connection attempts: the library's ten retries then end within seconds.
    with recorder_for(url, "grouped", POSTGRES_CONNECT_TIMEOUT="1") as recorder:
        assert isinstance(recorder, GroupCommitRecorder)
        recorder.insert_events(command(-1))  # the pool is open and the function exists

        # The server stays down until every command has given up: each gets the error.
        commands = [command(n) for n in range(COMMANDS)]
        blocker = hold_the_lock(url)
        outcomes, threads = run_commands(recorder, commands)
        time.sleep(0.5)  # every command queued, the first batch waiting for the lock
        assert all(thread.is_alive() for thread in threads)
        private_postgres.crash()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        blocker.close()
        assert all(isinstance(o, PersistenceError) for o in outcomes), outcomes
        private_postgres.start()
        assert appended(url, commands) == [0] * COMMANDS

        # The server comes back while the commands retry: each is then whole or absent.
        commands = [command(n) for n in range(COMMANDS)]
        blocker = hold_the_lock(url)
        outcomes, threads = run_commands(recorder, commands)
        time.sleep(0.5)
        private_postgres.crash()
        time.sleep(0.3)
        private_postgres.start()
        for thread in threads:
            thread.join(timeout=120)
        blocker.close()
        counts = appended(url, commands)
        for outcome, count in zip(outcomes, counts, strict=True):
            if isinstance(outcome, PersistenceError):
                assert count == 0, outcome
            else:
                assert count == 4 and len(outcome) == 4, outcome
        assert any(not isinstance(o, PersistenceError) for o in outcomes), outcomes
        # Ids handed out after the restart are ordered and unique, as before it.
        ids = [i for o in outcomes if isinstance(o, list) for i in o]
        assert len(set(ids)) == len(ids)
