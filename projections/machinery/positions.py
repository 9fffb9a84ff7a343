"""Read-your-writes: wait until a read model has reached a log position.

One listener per process follows the positions that read models announce with NOTIFY when
their batches commit, and wakes the waiting requests. Nothing polls: a waiter sleeps on a
condition until a notification (or its deadline) arrives. After a lost connection the
listener re-reads the positions from the tracking tables before it listens again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from projections.machinery.readmodel import POSITIONS_CHANNEL

log = logging.getLogger(__name__)


class PositionWaiter:
    def __init__(
        self,
        connect: Callable[[], psycopg.Connection],
        read_positions: Callable[[], dict[str, int]],
    ):
        self._connect = connect
        self._read_positions = read_positions
        self._positions: dict[str, int] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._connected = False
        self._listeners: dict[Callable[[], None], str | None] = {}  # listener: its model
        self._thread = threading.Thread(target=self._run, name="position-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._listening.wait(timeout=10)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    @property
    def connected(self) -> bool:
        """Whether the listener's connection to the database is up (it notices a lost one at
        once, and reconnects within a second of the database's return)."""
        return self._connected

    def position(self, name: str) -> int:
        with self._changed:
            return self._positions.get(name, 0)

    def wait(self, name: str, position: int, timeout: float) -> bool:
        """True once ``name`` has reached ``position``; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._positions.get(name, 0) < position:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def advance(self, name: str, position: int) -> None:
        with self._changed:
            if position <= self._positions.get(name, 0):
                return
            self._positions[name] = position
            self._changed.notify_all()
            listeners = [f for f, of in self._listeners.items() if of is None or of == name]
        for listener in listeners:
            listener()

    def listen(self, listener: Callable[[], None], name: str | None = None) -> None:
        """Call ``listener`` (on the listener's thread: it must not block) after each advance
        of ``name`` (None: of any); how asynchronous code waits without holding a thread.
        Six models advance with each batch: a listener for one is not woken by the others."""
        with self._changed:
            self._listeners[listener] = name

    def unlisten(self, listener: Callable[[], None]) -> None:
        with self._changed:
            self._listeners.pop(listener, None)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                with self._connect() as conn:
                    conn.autocommit = True
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(POSITIONS_CHANNEL)))
                    # Anything announced before LISTEN took effect is in the tracking tables.
                    for name, position in self._read_positions().items():
                        self.advance(name, position)
                    self._connected = True
                    self._listening.set()
                    backoff = 0.1
                    while not self._stopping.is_set():
                        for notify in conn.notifies(timeout=1.0):
                            name, _, position = notify.payload.rpartition(":")
                            self.advance(name, int(position))
            except psycopg.Error as error:
                if self._connected:
                    log.warning("lost the database (%s); reconnecting", error)
                self._connected = False
                self._listening.set()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 1.0)


STOP_CHECK_S = 0.25  # how often a wait given ``stopping`` asks it


async def wait_async(
    waiter: PositionWaiter,
    name: str,
    position: int,
    timeout: float,
    stopping: Callable[[], bool] | None = None,
) -> bool:
    """``waiter.wait`` for asynchronous code: True once ``name`` reached ``position``; False
    after ``timeout``, or as soon as ``stopping()`` says so (looked at every quarter of a
    second). Holds no thread while it waits (long polls may be many)."""
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(woken.set)

    waiter.listen(wake, name)
    try:
        deadline = loop.time() + timeout
        while waiter.position(name) < position:
            remaining = deadline - loop.time()
            if remaining <= 0 or (stopping is not None and stopping()):
                return False
            woken.clear()
            if waiter.position(name) >= position:
                break
            slice_s = remaining if stopping is None else min(remaining, STOP_CHECK_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), slice_s)
        return True
    finally:
        waiter.unlisten(wake)
