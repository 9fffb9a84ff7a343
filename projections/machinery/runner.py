"""Keeps a read model following the event log, live, in batches, across failures.

The library's subscription (LISTEN/NOTIFY on the event table, then a select of what is new)
feeds a queue; the projecting loop takes everything queued so far, up to ``BATCH_SIZE``,
and applies it as one transaction. Catching up, batches are hundreds of events; live, a
batch is usually the one new event. On any error the subscription is dropped and started
again from the position the read model committed, so nothing is skipped or applied twice;
so is a subscription that stalled (the log's head ahead of the runner, nothing arriving).

Any number of processes may run a read model's runner: a PostgreSQL advisory lock lets one
follow the log while the others wait as hot standbys and take over when it goes away.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.projection import ApplicationSubscription

from projections.machinery.readmodel import ReadModel

log = logging.getLogger(__name__)

BATCH_SIZE = 500
CHECK_S = 0.5  # how long the runner waits for an event before it looks at the log's head
STALL_S = 1.0  # how long the head may stay ahead, nothing arriving, before a new subscription
_END = object()


class ReadModelRunner:
    def __init__(
        self,
        read_model: ReadModel,
        log_reader: Application[Any],
        connect: Callable[[], psycopg.Connection],
    ) -> None:
        self.read_model = read_model
        self.log_reader = log_reader
        self._connect = connect
        self._lock_key = self.lock_key_for(read_model.name)
        self.standby = True
        self.processed_position = 0
        self.errors = 0
        self._stopping = threading.Event()
        self._subscription: ApplicationSubscription | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"projection-{read_model.name}", daemon=True
        )

    @property
    def name(self) -> str:
        return self.read_model.name

    @staticmethod
    def lock_key_for(name: str) -> int:
        """The advisory lock held by whichever process follows the log for ``name``."""
        return zlib.crc32(f"switchboard-readmodel:{name}".encode())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                with self._connect() as lock_connection:
                    lock_connection.autocommit = True
                    if self._wait_for_leadership(lock_connection):
                        self._follow()
                backoff = 0.1
            except Exception:
                self.errors += 1
                log.exception("read model %s failed; restarting from its position", self.name)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _wait_for_leadership(self, connection: psycopg.Connection) -> bool:
        """Hold this read model's advisory lock (for as long as ``connection`` lives)."""
        while not self._stopping.is_set():
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self._lock_key,))
            if row.fetchone()[0]:
                self.standby = False
                return True
            self.standby = True
            self._stopping.wait(1.0)
        return False

    def _follow(self) -> None:
        """Follow the log from the committed position, and again from there after a stall."""
        try:
            while not self._stopping.is_set() and self._subscribe_and_project():
                log.info(
                    "read model %s heard of no event for %.0f s while the log was ahead; "
                    "subscribing again from its position",
                    self.name,
                    STALL_S,
                )
        finally:
            self.standby = True

    def _subscribe_and_project(self) -> bool:
        """Project what one subscription delivers; True when it stalled (restart it)."""
        start = self.read_model.position()
        self.processed_position = start
        items: queue.Queue[Any] = queue.Queue(maxsize=10 * BATCH_SIZE)
        subscription = ApplicationSubscription(self.log_reader, gt=start)
        self._subscription = subscription
        if self._stopping.is_set():
            subscription.stop()
        reader = threading.Thread(
            target=self._read, args=(subscription, items), name=f"{self.name}-reader", daemon=True
        )
        with subscription:
            reader.start()
            try:
                return self._project(items)
            finally:
                subscription.stop()
                reader.join(timeout=10)

    def _behind_the_log(self) -> bool:
        """Whether the log's head is ahead of what this runner has processed.

        The library's subscription makes its first select on one thread and starts to LISTEN
        on another; an event committed between the two is announced to nobody. Its sign is
        public: the log's head stays ahead of this runner while nothing arrives.
        """
        head = self.log_reader.recorder.max_notification_id() or 0
        return head > self.processed_position

    @staticmethod
    def _read(subscription: ApplicationSubscription, items: queue.Queue[Any]) -> None:
        try:
            for item in subscription:
                items.put(item)
        except BaseException as error:  # handed to the projecting thread, which raises it
            items.put(error)
        else:
            items.put(_END)

    def _project(self, items: queue.Queue[Any]) -> bool:
        """Apply what arrives, in batches, until the subscription ends (False) or stalls (True)."""
        ahead_since: float | None = None
        while True:
            try:
                first = items.get(timeout=CHECK_S)
            except queue.Empty:
                if self._stopping.is_set():
                    return False
                if not self._behind_the_log():
                    ahead_since = None
                elif ahead_since is None:
                    ahead_since = time.monotonic()
                elif time.monotonic() - ahead_since >= STALL_S:
                    return True
                continue
            ahead_since = None
            batch, done = [], False
            item = first
            while True:
                if item is _END:
                    done = True
                    break
                if isinstance(item, BaseException):
                    if batch:
                        self.processed_position = self.read_model.process_batch(batch)
                    raise item
                batch.append(item)
                if len(batch) >= BATCH_SIZE:
                    break
                try:
                    item = items.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self.processed_position = self.read_model.process_batch(batch)
            if done:
                return False
