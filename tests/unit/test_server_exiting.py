"""``server_exiting`` reads the stop flag of whichever server handles SIGTERM in this process
(uvicorn's, or ours), and is False where no server handles it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from api.shutdown import server_exiting


class Server:
    should_exit = False

    def handle_exit(self, signum: int, frame: FrameType | None) -> None:
        self.should_exit = True


@pytest.fixture
def server() -> Iterator[Server]:
    server = Server()
    previous = signal.signal(signal.SIGTERM, server.handle_exit)
    try:
        yield server
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_false_until_the_server_is_asked_to_exit(server: Server) -> None:
    assert not server_exiting()
    signal.raise_signal(signal.SIGTERM)
    assert server.should_exit and server_exiting()


def test_false_without_a_server() -> None:
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        assert not server_exiting()
    finally:
        signal.signal(signal.SIGTERM, previous)
