"""The scheduler: acts when a deadline passes, with no timers of its own to lose.

Deadlines live in the read models (a timed mute's end, an active chat's last activity, an
operator's last activity), so a restarted scheduler finds every one of them again. Each
action re-checks the aggregate before it records anything, so running it twice, or from
two processes, never acts twice; an advisory lock still keeps one scheduler active at a time
so that two do not race for the same chats. Time comes from the injected clock.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import psycopg

from application.app import Switchboard
from projections.dashboard import Dashboard
from projections.directory.projection import Directory

log = logging.getLogger(__name__)

LOCK_KEY = zlib.crc32(b"switchboard-scheduler")


@dataclass
class Tick:
    """What one pass did."""

    mutes_lifted: int = 0
    chats_closed: int = 0
    operators_absent: int = 0

    @property
    def total(self) -> int:
        return self.mutes_lifted + self.chats_closed + self.operators_absent


class Scheduler:
    def __init__(
        self,
        app: Switchboard,
        dashboard: Dashboard,
        directory: Directory,
        connect: Callable[[], psycopg.Connection],
        *,
        interval_s: float = 1.0,
    ) -> None:
        self.app = app
        self.dashboard = dashboard
        self.directory = directory
        self._connect = connect
        self.interval_s = interval_s
        self.standby = True
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def tick(self) -> Tick:
        """Act on every deadline that has passed by the clock's now."""
        now = self.app.clock.now()
        settings = self.app.company_settings()
        done = Tick()
        for chat_id in self.dashboard.expired_mutes(now):
            done.mutes_lifted += self.app.lift_expired_mute(chat_id).value
        minutes = settings["inactivity_close_minutes"]
        if minutes is not None:
            for chat_id in self.dashboard.quiet_chats(now - timedelta(minutes=minutes)):
                done.chats_closed += self.app.close_if_inactive(chat_id).value
        for operator_id, idle_since in self.directory.idle_operators(
            now, settings["absent_after_minutes"]
        ):
            done.operators_absent += self.app.mark_absent_if_idle(operator_id, idle_since).value
        return done

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
                        self.standby = not locked
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
            self._stopping.wait(self.interval_s)
