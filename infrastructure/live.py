"""Live updates between processes: Redis pub/sub, or an in-process broker without ``REDIS_URL``.

The dashboard's runner publishes each committed batch's changes; every API process's stream hub
subscribes. Neither side trusts the broker: messages carry the log positions they cover, a
subscriber that sees a gap (or just reconnected) reads the missing changes from the read
model, and a publisher that cannot reach Redis drops the message rather than hold up the
projection. Redis is a fast path, never the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator

import redis
import redis.asyncio

log = logging.getLogger(__name__)

CHANNEL = "switchboard:dashboard"
PUBLISH_QUEUE = 1_000  # messages a publisher holds while Redis is slow; then it drops the oldest
SUBSCRIBER_QUEUE = 10_000  # messages an in-process subscriber holds; then it drops (and resyncs)


class Resubscribed:
    """Yielded by ``messages()`` after (re)connecting: whatever was published before is lost."""

    def __repr__(self) -> str:
        return "RESUBSCRIBED"


RESUBSCRIBED = Resubscribed()


class InProcessBroker:
    """One process: the runner's thread hands messages to the event loops that subscribed."""

    def __init__(self) -> None:
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[bytes]]] = set()
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return True

    def publish(self, data: bytes) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, inbox in subscribers:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(self._deliver, inbox, data)

    @staticmethod
    def _deliver(inbox: asyncio.Queue[bytes], data: bytes) -> None:
        # A full inbox drops it: the subscriber sees the gap in positions and reads the rest.
        with contextlib.suppress(asyncio.QueueFull):
            inbox.put_nowait(data)

    async def messages(self) -> AsyncIterator[bytes | Resubscribed]:
        inbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE)
        entry = (asyncio.get_running_loop(), inbox)
        with self._lock:
            self._subscribers.add(entry)
        try:
            yield RESUBSCRIBED
            while True:
                yield await inbox.get()
        finally:
            with self._lock:
                self._subscribers.discard(entry)

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()


class RedisBroker:
    """Many processes: Redis pub/sub on one channel.

    ``publish`` never blocks the caller (the projection): a thread of its own sends, and
    while Redis is away it keeps the newest ``PUBLISH_QUEUE`` messages and drops older ones.
    ``messages`` reconnects by itself, yielding ``RESUBSCRIBED`` each time it is back.
    """

    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=PUBLISH_QUEUE)
        self._sender: threading.Thread | None = None
        self._sender_lock = threading.Lock()
        self._publisher_up = True
        self._subscriber_up = False

    @property
    def connected(self) -> bool:
        return self._publisher_up if self._sender is not None else self._subscriber_up

    def publish(self, data: bytes) -> None:
        self._start_sender()
        while True:
            try:
                self._outbox.put_nowait(data)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._outbox.get_nowait()  # the oldest goes: subscribers resync the gap

    def _start_sender(self) -> None:
        if self._sender is not None:
            return
        with self._sender_lock:
            if self._sender is None:
                self._sender = threading.Thread(
                    target=self._send, name="redis-publisher", daemon=True
                )
                self._sender.start()

    def _send(self) -> None:
        client = redis.Redis.from_url(
            self.url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
        )
        warned = 0.0
        while True:
            data = self._outbox.get()
            if data is None:
                client.close()
                return
            try:
                client.publish(self.channel, data)
                if not self._publisher_up:
                    log.info("Redis is back: live updates flow again")
                self._publisher_up = True
            except (redis.RedisError, OSError) as error:
                self._publisher_up = False
                if time.monotonic() - warned > 30:
                    warned = time.monotonic()
                    log.warning("cannot publish live updates to Redis (%s); streams resync", error)

    async def messages(self) -> AsyncIterator[bytes | Resubscribed]:
        backoff = 0.1
        while True:
            client = redis.asyncio.Redis.from_url(
                self.url, socket_connect_timeout=2, health_check_interval=30
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscriber_up = True
                backoff = 0.1
                yield RESUBSCRIBED
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        yield message["data"]
            except (redis.RedisError, OSError) as error:
                if self._subscriber_up:
                    log.warning("lost Redis (%s); live streams fall back to the read model", error)
                self._subscriber_up = False
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except (redis.RedisError, OSError):
                    pass
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def close(self) -> None:
        if self._sender is not None:
            with contextlib.suppress(queue.Full):
                self._outbox.put_nowait(None)
            self._sender.join(timeout=3)
