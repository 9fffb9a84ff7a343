"""The webhook sender's process, as the worker starts and stops it (``SWITCHBOARD_WEBHOOK_SENDER``
is ``process`` by default): it starts with the worker, stops with it promptly, and the worker
notices when it has gone."""

from __future__ import annotations

import os
import signal
import time

from infrastructure.bootstrap import Services, build
from infrastructure.config import Config
from infrastructure.sender_process import SenderProcess


def worker_with_sender(database_url: str) -> tuple[Services, SenderProcess]:
    """A worker's container (the default sender: a process), started."""
    container = build(Config(DATABASE_URL=database_url, SWITCHBOARD_DB_POOL_SIZE=2))
    assert isinstance(container.sender, SenderProcess)
    container.start()
    return container, container.sender


def test_the_sender_process_starts_and_stops_with_its_worker(database_url: str) -> None:
    container, sender = worker_with_sender(database_url)
    try:
        assert sender.is_alive()
    finally:
        started = time.monotonic()
        container.stop()
    assert time.monotonic() - started < 10
    assert not sender.is_alive()
    assert not sender._server.is_alive()


def test_the_worker_notices_when_its_sender_has_gone(database_url: str) -> None:
    container, sender = worker_with_sender(database_url)
    try:
        assert sender.pid is not None
        os.kill(sender.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while sender._server.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling another thread's end
        assert not sender._server.is_alive(), "the pipe's end tells the worker"
    finally:
        container.stop()
