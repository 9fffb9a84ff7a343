"""Keeps a read model following the event log, live, in batches, across failures.

The library's subscription (LISTEN/NOTIFY on the event table, then a select of what is new)
feeds a queue; the projecting loop takes everything queued so far, up to ``BATCH_SIZE``,
and applies it as one transaction. Catching up, batches are hundreds of events; live, a
batch is usually the one new event. On any error the subscription is dropped and started
again from the position the read model committed, so nothing is skipped or applied twice.

Any number of processes may run a read model's runner: a PostgreSQL advisory lock lets one
follow the log while the others wait as hot standbys and take over when it goes away.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.projection import ApplicationSubscription

from projections.machinery.readmodel import ReadModel

log = logging.getLogger(__name__)

BATCH_SIZE = 500
NUDGE_S = 1.0
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
        nudger = threading.Thread(
            target=self._nudge, args=(subscription,), name=f"{self.name}-nudge", daemon=True
        )
        with subscription:
            reader.start()
            nudger.start()
            try:
                self._project(items)
            finally:
                self.standby = True
                subscription.stop()
                reader.join(timeout=10)

    def _nudge(self, subscription: ApplicationSubscription) -> None:
        """Make the subscription look for new events now and then, notified or not.

        The library's subscription makes its first select on one thread and starts to LISTEN
        on another; an event committed between the two is announced to nobody and would wait
        for the next one. A select a second when idle closes that gap.
        """
        inner = getattr(subscription, "subscription", None)
        notified = getattr(inner, "_has_been_notified", None)
        if notified is None:
            return
        while not self._stopping.wait(NUDGE_S) and not getattr(inner, "_has_been_stopped", True):
            notified.set()

    @staticmethod
    def _read(subscription: ApplicationSubscription, items: queue.Queue[Any]) -> None:
        try:
            for item in subscription:
                items.put(item)
        except BaseException as error:  # handed to the projecting thread, which raises it
            items.put(error)
        else:
            items.put(_END)

    def _project(self, items: queue.Queue[Any]) -> None:
        while True:
            first = items.get()
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
                return
