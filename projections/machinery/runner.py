"""Keeps a read model following the event log, live, in batches, across failures.

The process's ``LogFeed`` reads the log once for all its read models; the runner takes
everything queued for its model so far, up to ``BATCH_SIZE``, and applies it as one
transaction. Catching up, batches are hundreds of events; live, a batch is usually the one
new event. On any error the runner leaves the feed, lets go of its lock and joins again from
the position the read model committed, so nothing is skipped or applied twice.

Any number of processes may run a read model's runner: a PostgreSQL advisory lock lets one
follow the log while the others wait as hot standbys and take over when it goes away. Only a
runner that holds its lock joins the feed: a model led by another process is not fed here.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable
from typing import Any, Protocol

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from projections.machinery.feed import BATCH_SIZE, CHECK_S, STALL_S, LogFeed, Member

__all__ = ["BATCH_SIZE", "STALL_S", "Follower", "ReadModelRunner"]

log = logging.getLogger(__name__)


class Follower(Protocol):
    """What a runner keeps following the log: a read model, or the dispatcher's feed."""

    name: str

    def position(self) -> int: ...

    def process_batch(self, batch: list[tuple[Any, Tracking]]) -> int: ...


class ReadModelRunner:
    def __init__(
        self,
        read_model: Follower,
        feed: LogFeed | Application[Any],
        connect: Callable[[], psycopg.Connection],
    ) -> None:
        """``feed``: the process's shared reading of the log (or a log reader, to read it
        for this runner alone)."""
        self.read_model = read_model
        self.feed = feed if isinstance(feed, LogFeed) else LogFeed(feed)
        self._connect = connect
        self._lock_key = self.lock_key_for(read_model.name)
        self.standby = True
        self.processed_position = 0
        self.errors = 0
        self._stopping = threading.Event()
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
        self.feed.attach()
        self._thread.start()

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._thread.join(timeout=10)
        self.feed.detach()

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
        """Join the feed from the committed position and apply what it hands over."""
        try:
            self.processed_position = self.read_model.position()
            member = self.feed.join(self.name, self.processed_position)
            try:
                self._project(member)
            finally:
                self.feed.leave(member)
        finally:
            self.standby = True

    def _project(self, member: Member) -> None:
        """Apply what arrives, in batches, until the runner stops (or a batch fails)."""
        while not self._stopping.is_set():
            try:
                batch = list(member.items.get(timeout=CHECK_S))
            except queue.Empty:
                continue
            while len(batch) < BATCH_SIZE:
                try:
                    batch += member.items.get_nowait()
                except queue.Empty:
                    break
            for start in range(0, len(batch), BATCH_SIZE):
                self.processed_position = self.read_model.process_batch(
                    batch[start : start + BATCH_SIZE]
                )
