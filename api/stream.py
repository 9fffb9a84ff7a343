"""The live stream: each caller's dashboard changes as Server-Sent Events.

One ``Hub`` per process follows the dashboard's changes (from the broker, and from the read
model whenever the broker's messages leave a gap) and hands each client what its dashboard
shows: an operator their own chats and their groups' queues, a supervisor everything. Every
SSE event's ``id`` is a log position; a client that reconnects with ``Last-Event-ID`` first
gets what changed since from the read model, then the live changes, each exactly once.

A client that cannot keep up is not waited for: its queue is bounded, and when it overflows
(or a send takes too long) its stream ends, and the client resumes from its last id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from uuid import UUID

import anyio
from sse_starlette import ServerSentEvent

from api.views import dashboard_row
from application.auth import Principal
from domain.visibility import saw, sees
from projections.dashboard import ANNOUNCED_ROWS, Dashboard, DashboardChanges, Viewer
from projections.dashboard.changes import departure_facts

log = logging.getLogger(__name__)

RESYNC_ROWS = 5_000  # rows a resuming client may be behind by; further, it gets a reset
POLL_S = 1.0  # how often the hub compares its position with the read model's
GROUPS_REFRESH_S = 10.0  # how often an operator's groups are read again
ACCESS_CHECK_S = 1.0  # how often the hub asks whether its clients' tokens still hold
_CLOSE = object()
_ENDED = object()  # the client's token no longer holds: its stream says so and ends


class StreamMetrics(Protocol):
    def stream_opened(self) -> None: ...
    def stream_closed(self, reason: str) -> None: ...
    def stream_events(self, count: int) -> None: ...
    def live_resync(self) -> None: ...


@dataclass(eq=False)
class StreamClient:
    viewer: Viewer  # with the operator's groups, as last read
    limit: int
    last_id: int = 0
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    overflowed: bool = False
    caller: Principal | None = None  # who opened it, while their token holds
    ended: bool = False

    def end(self) -> None:
        """The caller's token no longer holds: what is queued is dropped, the stream ends."""
        if self.ended:
            return
        self.ended = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(_ENDED)

    def offer(self, position: int, frame: bytes, final: bool = True) -> None:
        """``final``: the frame carries the SSE id of its position (see ``frames``)."""
        if self.overflowed or self.ended or position <= self.last_id:
            return
        if self.queue.qsize() >= self.limit:
            # Too slow: let go of what it has not read; its stream ends and it resumes.
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(_CLOSE)
            return
        self.queue.put_nowait(frame)
        if final:
            self.last_id = position


def frames(
    changes: DashboardChanges, client: StreamClient, rendered: dict[Any, bytes] | None = None
) -> list[tuple[int, bytes, bool]]:
    """The SSE events one client gets from one set of changes, in position order, each with
    whether it is the last of its position (``final``).

    Rows may share a position (a client card's new phone relabels all its chats at once): only
    the last of them carries the SSE ``id``, so a client cut off among them resumes before
    them all. ``rendered`` keeps each row's event once made, for the next client of the same
    changes.
    """
    rendered = {} if rendered is None else rendered
    viewer = client.viewer
    facts = changes.facts
    now = {row["id"]: facts[row["position"], row["id"]] for row in changes.rows or ()}
    seen = [r for r in changes.rows or () if sees(viewer, facts[r["position"], r["id"]])]
    out: list[tuple[int, bytes, bool]] = []
    for i, row in enumerate(seen):
        position = row["position"]
        final = i + 1 == len(seen) or seen[i + 1]["position"] != position
        key = (position, row["id"], final)
        if key not in rendered:
            rendered[key] = _frame(position if final else None, "chat", _row_json(row))
        out.append((position, rendered[key], final))
    removed: dict[UUID, int] = {}  # a chat that left the view, once, at its last departure
    for departure in changes.departures:
        chat_id = departure["chat_id"]
        after = now.get(chat_id)
        if saw(viewer, departure_facts(departure)) and (after is None or not sees(viewer, after)):
            removed[chat_id] = max(removed.get(chat_id, 0), departure["position"])
    for chat_id, position in removed.items():
        body = json.dumps({"id": str(chat_id), "position": position})
        out.append((position, _frame(position, "chat_removed", body), True))
    out.sort(key=lambda item: item[0])  # stable: rows of one position keep their order
    return out


def _row_json(row: dict[str, Any]) -> str:
    return dashboard_row(row).model_dump_json()


def _frame(position: int | None, event: str, data: str) -> bytes:
    ident = None if position is None else str(position)
    return ServerSentEvent(data, event=event, id=ident, sep="\n").encode()


class LiveBroker(Protocol):
    """Carries the dashboard's changes between processes (Redis, or in-process)."""

    @property
    def connected(self) -> bool: ...

    def messages(self) -> AsyncIterator[Any]: ...


class Hub:
    """Follows the dashboard's changes for one process and fans them out to its clients."""

    def __init__(
        self,
        dashboard: Dashboard,
        broker: LiveBroker,
        *,
        read_position: Callable[[], int],
        groups_of: Callable[[UUID], list[UUID]],
        metrics: StreamMetrics | None = None,
        queue_limit: int = 1_000,
        ended_grants: Callable[[list[Principal]], set[UUID]] | None = None,
    ) -> None:
        self.dashboard = dashboard
        self.broker = broker
        self.read_position = read_position  # the dashboard's position as this process knows it
        self.groups_of = groups_of
        self.metrics = metrics
        self.queue_limit = queue_limit
        # Which of these callers' tokens have been revoked, expired or locked out since.
        self.ended_grants = ended_grants
        self.seen = 0
        self.clients: set[StreamClient] = set()
        self._catching_up = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Event()

    async def start(self) -> None:
        self.seen = await asyncio.to_thread(self.dashboard.position)
        self._tasks = [
            asyncio.create_task(self._listen(), name="stream-hub-listen"),
            asyncio.create_task(self._watch(), name="stream-hub-watch"),
        ]
        if self.ended_grants is not None:
            self._tasks.append(asyncio.create_task(self._guard(), name="stream-hub-guard"))
        self._started.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in list(self.clients):
            client.queue.put_nowait(_CLOSE)

    # -- following the changes --------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self.broker.messages():
                    if isinstance(message, bytes | str):
                        await self.take(DashboardChanges.from_json(message))
                    else:  # (re)subscribed: what was published while away is lost
                        await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the live stream's broker failed; following the read model")
                await asyncio.sleep(1.0)

    async def _watch(self) -> None:
        """The safety net: a change the broker never delivered is read from the read model."""
        stalled_at: int | None = None
        while True:
            await asyncio.sleep(POLL_S)
            try:
                position = self.read_position()
                if position <= self.seen:
                    stalled_at = None
                elif stalled_at == self.seen:
                    # Behind, and no progress since the last look: the broker lost it (or is
                    # down). Read it from the read model.
                    await self.catch_up(position)
                    stalled_at = None
                else:
                    stalled_at = self.seen
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the live stream could not read the dashboard; trying again")

    async def _guard(self) -> None:
        """Ends the streams whose token was revoked, whose session ended or whose operator
        was deactivated (or changed role): one question for all of this process's clients."""
        while True:
            await asyncio.sleep(ACCESS_CHECK_S)
            try:
                await self.check_access()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the live stream could not check its clients' tokens")

    async def check_access(self) -> None:
        # The start-up admin token (no token id) is never revoked: not asked about.
        held = [
            client
            for client in self.clients
            if client.caller is not None and client.caller.token_id is not None and not client.ended
        ]
        if not held or self.ended_grants is None:
            return
        ended = await asyncio.to_thread(self.ended_grants, [c.caller for c in held])
        for client in held:
            if client.caller.token_id in ended:
                client.end()

    async def take(self, changes: DashboardChanges) -> None:
        if changes.upto <= self.seen:
            return  # already had it (a resync read further)
        if changes.after > self.seen or changes.rows is None:
            await self.catch_up(changes.upto)
            return
        self.dispatch(changes)

    async def catch_up(self, upto: int | None = None) -> None:
        """Read from the read model everything after ``seen`` (up to ``upto``) and send it."""
        async with self._catching_up:
            if upto is None:
                upto = await asyncio.to_thread(self.dashboard.position)
            if upto <= self.seen:
                return
            if self.metrics is not None:
                self.metrics.live_resync()
            while self.seen < upto:
                changes = await asyncio.to_thread(
                    self.dashboard.changes_between, self.seen, upto, limit=ANNOUNCED_ROWS
                )
                self.dispatch(changes)

    def dispatch(self, changes: DashboardChanges) -> None:
        """Hand each client its part of the changes after ``seen``; ``seen`` moves on."""
        if changes.after < self.seen:
            changes = DashboardChanges(
                self.seen,
                changes.upto,
                [r for r in changes.rows or () if r["position"] > self.seen],
                [d for d in changes.departures if d["position"] > self.seen],
            )
        sent = 0
        rendered: dict[Any, bytes] = {}  # each row's event made once, for every client
        for client in list(self.clients):
            for position, frame, final in frames(changes, client, rendered):
                client.offer(position, frame, final)
                sent += 1
        self.seen = max(self.seen, changes.upto)
        if self.metrics is not None and sent:
            self.metrics.stream_events(sent)

    # -- clients ------------------------------------------------------------------------------

    async def connect(
        self, viewer: Viewer, last_id: int | None, caller: Principal | None = None
    ) -> tuple[StreamClient, list[bytes]]:
        """Register a client; answer it and the frames it missed since ``last_id``."""
        await self._started.wait()
        viewer = replace(viewer, group_ids=await self._groups(viewer))
        if last_id is not None and self.read_position() > self.seen:
            # Resuming: what the read model already has belongs in the backlog, not after it.
            await self.catch_up(self.read_position())
        client = StreamClient(viewer=viewer, limit=self.queue_limit, caller=caller)
        # From here the live changes after ``seen`` queue up for the client; the backlog
        # below covers (last_id, seen], so nothing is missed and nothing comes twice.
        upto = self.seen
        client.last_id = max(upto, last_id or 0)
        self.clients.add(client)
        if self.metrics is not None:
            self.metrics.stream_opened()
        backlog: list[bytes] = []
        if last_id is not None and last_id < upto:
            changes = await asyncio.to_thread(
                self.dashboard.changes_between, last_id, upto, viewer=viewer, limit=RESYNC_ROWS
            )
            if changes.rows is None:  # too far behind to catch up row by row
                body = json.dumps({"position": upto, "reason": "too_far_behind"})
                backlog.append(_frame(upto, "reset", body))
            else:
                backlog.extend(frame for _, frame, _ in frames(changes, client))
        body = json.dumps({"position": client.last_id})
        backlog.append(_frame(client.last_id, "ready", body))
        return client, backlog

    def disconnect(self, client: StreamClient, reason: str) -> None:
        if client in self.clients:
            self.clients.discard(client)
            if self.metrics is not None:
                self.metrics.stream_closed(reason)

    async def _groups(self, viewer: Viewer) -> frozenset[UUID]:
        if viewer.supervises or viewer.operator_id is None:
            return frozenset()
        return frozenset(await asyncio.to_thread(self.groups_of, viewer.operator_id))

    async def events(
        self, client: StreamClient, backlog: list[bytes], *, shutdown: anyio.Event | None = None
    ) -> AsyncIterator[bytes | ServerSentEvent]:
        """The client's SSE body: the backlog, then live changes (the response sends the
        heartbeats); the operator's groups are read again now and then."""
        reason = "client"
        try:
            yield ServerSentEvent(retry=2000, sep="\n")
            for frame in backlog:
                yield frame
            loop = asyncio.get_running_loop()
            refresh_at = loop.time() + GROUPS_REFRESH_S
            while True:
                item = await _next_item(client, refresh_at - loop.time())
                if item is _CLOSE:
                    reason = "slow" if client.overflowed else "shutdown"
                    return
                if item is _ENDED:
                    # Said before the end, so the client need not reconnect to find out.
                    reason = "access_ended"
                    body = json.dumps({"reason": "access_ended"})
                    yield ServerSentEvent(body, event="ended", sep="\n")
                    return
                if item is not None:
                    yield item
                if not client.viewer.supervises and loop.time() >= refresh_at:
                    refresh_at = loop.time() + GROUPS_REFRESH_S
                    groups = await self._groups(client.viewer)
                    if groups != client.viewer.group_ids:
                        # Another set of queues: the UI reloads its tabs and goes on from here.
                        client.viewer = replace(client.viewer, group_ids=groups)
                        body = json.dumps({"position": client.last_id, "reason": "groups"})
                        yield _frame(client.last_id, "reset", body)
        finally:
            if shutdown is not None and shutdown.is_set():
                reason = "shutdown"
            self.disconnect(client, reason)


async def _next_item(client: StreamClient, refresh_in: float) -> Any:
    """The client's next queued item; ``None`` when its groups are due for a refresh first.

    What is queued is taken at once: ``wait_for`` with no time left cancels even a ``get``
    that could have been served. Supervisors see every group, so they wait for as long as
    it takes.
    """
    with contextlib.suppress(asyncio.QueueEmpty):
        return client.queue.get_nowait()
    timeout = None if client.viewer.supervises else max(0.0, refresh_in)
    try:
        return await asyncio.wait_for(client.queue.get(), timeout)
    except TimeoutError:
        return None
