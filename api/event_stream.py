"""The live stream's HTTP response: Server-Sent Events on sse-starlette, with heartbeats and a
bound on every write, so that a client that reads nothing holds up nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Message, Receive, Scope, Send


class _SendTimedOut(Exception):
    """A write the client did not take within the send timeout."""


class EventStreamResponse(EventSourceResponse):
    """An SSE response (sse-starlette's) with heartbeats, whose every write must be accepted
    within ``send_timeout`` seconds: a client that reads nothing is dropped, not waited for."""

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterator[Any],
        *,
        heartbeat_s: float,
        send_timeout: float,
        on_timeout: Callable[[], None],
        shutdown: anyio.Event | None = None,
    ) -> None:
        super().__init__(
            content,
            headers={"Cache-Control": "no-cache"},
            ping=heartbeat_s,
            sep="\n",
            ping_message_factory=lambda: ServerSentEvent(comment="keep-alive", sep="\n"),
            shutdown_event=shutdown,
        )
        self.send_timeout_s = send_timeout
        self.on_timeout = on_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_in_time(message: Message) -> None:
            with anyio.move_on_after(self.send_timeout_s) as timer:
                await send(message)
            if timer.cancelled_caught:
                self.on_timeout()  # before the body's cleanup, so the reason is this one
                raise _SendTimedOut

        try:
            await super().__call__(scope, receive, send_in_time)
        except _SendTimedOut:
            return  # the client reads nothing: drop it rather than hold its data
