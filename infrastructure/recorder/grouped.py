"""Group commit: the appends of concurrent commands in one call, one transaction, one NOTIFY
and one WAL flush (flat combining).

A command's thread queues its append; the first queued thread that finds no batch in flight
becomes the leader, takes what is queued (at most ``max_batch`` commands, after waiting at most
``gather_s`` for more) and appends it in one statement; the others wait for its outcome. Each
command's version conflict is found under the lock and raised in that command's thread alone,
while the rest of the batch commits. A batch that fails as a whole commits nothing, and every
command in it gets the error (and retries its connection, as the library's recorder does).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.utils import retry

from infrastructure.recorder.statement import OneStatementRecorder, version_taken


@dataclass(eq=False)
class _Append:
    events: Sequence[StoredEvent]
    done: bool = False
    notification_ids: list[int] | None = None
    error: BaseException | None = None

    def outcome(self) -> list[int]:
        if self.error is not None:
            raise _own_copy(self.error) from self.error
        if self.notification_ids is None:
            raise version_taken(self.events)
        return self.notification_ids


def _own_copy(error: BaseException) -> BaseException:
    """The library's errors take one message: each waiting thread raises an instance of its own
    (one exception object raised in many threads would share and grow one traceback)."""
    if isinstance(error, PersistenceError):
        return type(error)(*error.args)
    return error


@dataclass
class GroupStatistics:
    """What the combiner did, for the benchmark and the tests: batches run, commands in them,
    commands that lost a version race, and the largest batch."""

    batches: int = 0
    commands: int = 0
    conflicts: int = 0
    largest: int = 0


class GroupCommitRecorder(OneStatementRecorder):
    """``OneStatementRecorder`` whose concurrent appends are combined into one statement."""

    # 64 handoffs of four events each: a batch's statement stays well under a millisecond.
    max_batch: ClassVar[int] = 64
    # 0: a batch is what queued while the previous one ran; no command waits for company.
    gather_s: ClassVar[float] = 0.0

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self._combining = threading.Condition()
        self._queued: deque[_Append] = deque()
        self._leading = False
        self.statistics = GroupStatistics()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        append = _Append(stored_events)
        with self._combining:
            self._queued.append(append)
        while True:
            with self._combining:
                while not append.done and self._leading:
                    self._combining.wait()
                if append.done:
                    return append.outcome()
                self._leading = True
                if self.gather_s and len(self._queued) < self.max_batch:
                    self._combining.wait(self.gather_s)
                count = min(len(self._queued), self.max_batch)
                batch = [self._queued.popleft() for _ in range(count)]
            try:
                self._run(batch)
            finally:
                with self._combining:
                    self._leading = False
                    self._combining.notify_all()

    def _run(self, batch: list[_Append]) -> None:
        try:
            outcomes = self.append_commands([append.events for append in batch])
        except IntegrityError as error:
            # A unique violation the check could not attribute (a command repeating one of its
            # own versions): nothing was saved; each command runs alone to get its own answer.
            if len(batch) == 1:
                self._settle(batch[0], None, error)
            else:
                for append in batch:
                    self._run([append])
            return
        except BaseException as error:
            for append in batch:
                self._settle(append, None, error)
            if not isinstance(error, Exception):
                raise
            return
        stats = self.statistics
        stats.batches += 1
        stats.commands += len(batch)
        stats.largest = max(stats.largest, len(batch))
        for append, notification_ids in zip(batch, outcomes, strict=True):
            if notification_ids is None:
                stats.conflicts += 1
            self._settle(append, notification_ids, None)

    @staticmethod
    def _settle(append: _Append, ids: list[int] | None, error: BaseException | None) -> None:
        append.notification_ids = ids
        append.error = error
        append.done = True
