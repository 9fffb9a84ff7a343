"""The sender's requests against a real local HTTP peer: the answer is read, to a limit, so the
connection is kept for the next request; an endless answer neither holds the sender nor fills
its memory."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from infrastructure.config import Config
from infrastructure.webhook_sender import ANSWER_BYTES, WebhookSender

CONFIG = Config(SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE=True, SWITCHBOARD_WEBHOOK_TIMEOUT_S=5)


class Peer:
    """An HTTP/1.1 server on a socket of its own: counts connections and requests, and answers
    each request with ``body`` (``None``: an answer that never ends, until the client leaves)."""

    def __init__(self, body: bytes | None) -> None:
        self.body = body
        self.connections = 0
        self.requests = 0
        self.sent = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.requests += 1
                if self.body is None:
                    writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                    chunk = b"x" * 65_536
                    while True:
                        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.sent += len(chunk)
                        await writer.drain()
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s"
                        % (len(self.body), self.body)
                    )
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def row(url: str) -> dict[str, Any]:
    """A claimed delivery as the claim returns it (an Event's columns and the webhook's)."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "url": url,
        "secret": "whsec_" + "A" * 32,
        "previous_secret": None,
        "position": 7,
        "type": "chat.closed",
        "chat_id": uuid.uuid4(),
        "external_id": "client-1",
        "bot": "webbot",
        "occurred_at": datetime.now(UTC),
        "operator": None,
        "data": {"close_reason": "resolved"},
    }


def sender() -> WebhookSender:
    return WebhookSender(CONFIG, "", "read_models", None, lambda *_: None)  # type: ignore[arg-type]


def test_one_connection_carries_the_deliveries_to_a_receiver() -> None:
    async def main() -> Peer:
        peer = Peer(b'{"ok": true}')
        url = await peer.start()
        async with httpx.AsyncClient() as client:
            for _ in range(5):
                assert await sender()._send(client, row(url)) == (200, "HTTP 200")
        return peer

    peer = asyncio.run(main())
    assert peer.requests == 5
    assert peer.connections == 1


def test_an_endless_answer_is_read_only_to_the_limit() -> None:
    async def main() -> tuple[Peer, tuple[int | None, str]]:
        peer = Peer(None)
        url = await peer.start()
        async with httpx.AsyncClient() as client:
            outcome = await asyncio.wait_for(sender()._send(client, row(url)), 10)
        return peer, outcome

    peer, outcome = asyncio.run(main())
    assert outcome == (200, "HTTP 200")
    # What the peer got out before the sender hung up: the limit, plus what the sockets'
    # buffers held (a few MB at most), never the endless rest.
    assert ANSWER_BYTES <= peer.sent < 32 * 1024 * 1024
