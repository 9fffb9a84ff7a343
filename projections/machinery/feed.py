"""One reading of the event log for every read model a process leads.

The library's subscription (LISTEN/NOTIFY on the event table, then a select of what is new)
reads and decodes each page of the log once; the feed hands each event to every runner that
has joined and has not had it yet, through a queue of the runner's own. A runner joins once
it holds its read model's advisory lock (a model whose lock another process holds is not
fed here) and says from which position it needs the log: one that needs events the
subscription has passed makes it start again from there (the others skip what they had).

The subscription's first select and its LISTEN run on different threads, so an event
committed between the two is announced to nobody. The feed watches public positions only:
when the log's head stays ahead of what it has delivered for ``STALL_S`` while nothing
arrives, it subscribes again from the runners' positions. A failed subscription (the
database gone) is started again the same way, after a pause that grows while it keeps
failing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application
from eventsourcing.projection import ApplicationSubscription

log = logging.getLogger(__name__)

BATCH_SIZE = 500  # the most events a runner applies in one transaction
CHECK_S = 0.5  # how long the feed waits for an event before it looks at the log's head
STALL_S = 1.0  # how long the head may stay ahead, nothing arriving, before a new subscription
QUEUED = 20  # lists of events (each at most BATCH_SIZE) held for one runner, then the feed waits
END = object()  # the subscription ended


@dataclass(eq=False)
class Member:
    """A runner as the feed sees it: the position it has been given, and its queue (of lists
    of events, in the log's order)."""

    name: str
    fed: int
    items: queue.Queue[Any] = field(default_factory=lambda: queue.Queue(maxsize=QUEUED))


class LogFeed:
    """Reads the log once for all its members; runs while at least one runner is attached."""

    def __init__(self, log_reader: Application[Any]) -> None:
        self.log_reader = log_reader
        self._lock = threading.Lock()
        self._members: list[Member] = []
        self._delivered = 0  # the last position the subscription handed over
        self._restart = threading.Event()  # a member needs events already passed
        self._joined = threading.Event()
        self._attached = 0
        self._stopping = threading.Event()
        self._subscription: ApplicationSubscription | None = None
        self._thread: threading.Thread | None = None
        self.subscriptions = 0  # how many the feed has made (for metrics and tests)
        self.errors = 0

    # -- runners -----------------------------------------------------------------------------

    def attach(self) -> None:
        """A runner starts: the feed runs while any is attached."""
        with self._lock:
            self._attached += 1
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name="log-feed", daemon=True)
                self._thread.start()

    def detach(self) -> None:
        with self._lock:
            self._attached -= 1
            thread = self._thread if self._attached == 0 else None
            if thread is not None:
                self._thread = None
                self._stopping.set()
                self._joined.set()
        if thread is not None:
            self._stop_subscription()
            thread.join(timeout=10)

    def join(self, name: str, position: int) -> Member:
        """A runner now leads ``name``, committed up to ``position``: feed it from there."""
        member = Member(name, position)
        with self._lock:
            self._members.append(member)
            if position < self._delivered:
                self._restart.set()
        self._joined.set()
        return member

    def leave(self, member: Member) -> None:
        with self._lock:
            if member in self._members:
                self._members.remove(member)

    def following(self) -> list[str]:
        """The names of the runners it feeds now."""
        return [member.name for member in self._snapshot()]

    def _snapshot(self) -> list[Member]:
        with self._lock:
            return list(self._members)

    # -- reading ------------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            members = self._snapshot()
            if not members:
                self._joined.wait(CHECK_S)
                self._joined.clear()
                continue
            try:
                stalled = self._subscribe_and_feed()
                backoff = 0.1
            except Exception:
                self.errors += 1
                log.exception("reading the event log failed; subscribing again")
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if stalled:
                log.info(
                    "heard of no event for %.0f s while the log was ahead; subscribing again",
                    STALL_S,
                )

    def _subscribe_and_feed(self) -> bool:
        """Feed what one subscription delivers, from the members' earliest position; True
        when it stalled."""
        with self._lock:  # a member joining from here on compares with this start
            start = min((m.fed for m in self._members), default=self._delivered)
            self._delivered = start
            self._restart.clear()
        items: queue.Queue[Any] = queue.Queue(maxsize=2 * BATCH_SIZE)
        subscription = ApplicationSubscription(self.log_reader, gt=start)
        self.subscriptions += 1
        self._subscription = subscription
        if self._stopping.is_set():
            subscription.stop()
        reader = threading.Thread(
            target=_read, args=(subscription, items), name="log-feed-reader", daemon=True
        )
        with subscription:
            reader.start()
            try:
                return self._feed(items)
            finally:
                self._stop_subscription()
                deadline = time.monotonic() + 10
                while reader.is_alive() and time.monotonic() < deadline:
                    _drain(items)  # it may be waiting to put into a full queue
                    reader.join(timeout=0.1)

    def _stop_subscription(self) -> None:
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()

    def _feed(self, items: queue.Queue[Any]) -> bool:
        ahead_since: float | None = None
        while not self._stopping.is_set() and not self._restart.is_set():
            try:
                item = items.get(timeout=CHECK_S)
            except queue.Empty:
                head = self.log_reader.recorder.max_notification_id() or 0
                if head <= self._delivered:
                    ahead_since = None
                elif ahead_since is None:
                    ahead_since = time.monotonic()
                elif time.monotonic() - ahead_since >= STALL_S:
                    return True
                continue
            ahead_since = None
            # What has arrived so far, handed on together: one put per member, not per event.
            chunk, last = [], item
            while last is not END and not isinstance(last, BaseException):
                chunk.append(last)
                if len(chunk) >= BATCH_SIZE:
                    last = None
                    break
                try:
                    last = items.get_nowait()
                except queue.Empty:
                    last = None
                    break
            if chunk:
                self._hand_on(chunk)
            if last is END:
                return False
            if isinstance(last, BaseException):
                raise last
        return False

    def _hand_on(self, chunk: list[Any]) -> None:
        position = chunk[-1][1].notification_id
        with self._lock:  # a member that joins after this needs these events from the start
            before, self._delivered = self._delivered, position
            members = list(self._members)
        for member in members:
            if position <= member.fed or member.fed < before:
                # It has them, or it joined behind the reading: the restart its joining asked
                # for feeds it from its own position (these would leave a gap).
                continue
            fresh = [item for item in chunk if item[1].notification_id > member.fed]
            if self._put(member, fresh):
                member.fed = position

    def _put(self, member: Member, chunk: list[Any]) -> bool:
        """Queue events for the member, waiting while its queue is full; False if it left."""
        while True:
            try:
                member.items.put(chunk, timeout=CHECK_S)
                return True
            except queue.Full:
                if self._stopping.is_set() or member not in self._snapshot():
                    return False


def _read(subscription: ApplicationSubscription, items: queue.Queue[Any]) -> None:
    try:
        for item in subscription:
            items.put(item)
    except BaseException as error:  # handed to the feeding thread, which raises it
        items.put(error)
    else:
        items.put(END)


def _drain(items: queue.Queue[Any]) -> None:
    try:
        while True:
            items.get_nowait()
    except queue.Empty:
        pass
