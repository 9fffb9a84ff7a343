"""The scheduler: runs the engine's rules on time (``application.deadlines``) every interval,
with no timers of its own to lose.

Each action re-checks the aggregate before it records anything, so running a pass twice, or
from two processes, never acts twice; an advisory lock still keeps one scheduler active at a
time so that two do not race for the same chats.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from application.deadlines import Deadlines, Tick

log = logging.getLogger(__name__)

LOCK_KEY = zlib.crc32(b"switchboard-scheduler")


@dataclass
class Chore:
    """Upkeep the scheduler also runs, every ``every_s`` (the first time at its start)."""

    name: str
    every_s: float
    run: Callable[[], object]
    due: float = 0.0  # monotonic time of its next run


class Scheduler:
    def __init__(
        self,
        deadlines: Deadlines,
        connect: Callable[[], psycopg.Connection],
        *,
        interval_s: float = 1.0,
        chores: Sequence[Chore] = (),
    ) -> None:
        self.deadlines = deadlines
        self._connect = connect
        self.interval_s = interval_s
        self.chores = list(chores)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def tick(self) -> Tick:
        """One pass: act on every deadline that has passed."""
        return self.deadlines.tick()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._connect() as connection:
                    connection.autocommit = True
                    while not self._stopping.is_set():
                        locked = connection.execute(
                            "SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)
                        ).fetchone()[0]
                        if locked:
                            self._loop(connection)
                        self._stopping.wait(self.interval_s)
            except Exception:
                log.exception("scheduler failed; starting again")
                self._stopping.wait(self.interval_s)

    def _loop(self, connection: psycopg.Connection) -> None:
        """Tick while holding the lock; the lock lives as long as ``connection``."""
        while not self._stopping.is_set():
            connection.execute("SELECT 1")  # a dead connection (and lost lock) ends the loop
            try:
                self.tick()
            except Exception:
                log.exception("scheduler pass failed; trying again next time")
            self._run_chores()
            self._stopping.wait(self.interval_s)

    def _run_chores(self) -> None:
        for chore in self.chores:
            if time.monotonic() < chore.due or self._stopping.is_set():
                continue
            chore.due = time.monotonic() + chore.every_s
            try:
                chore.run()
            except Exception:
                log.exception("%s failed; trying again in %.0f s", chore.name, chore.every_s)
