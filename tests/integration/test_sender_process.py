"""The webhook sender's process, as the worker starts and stops it (``SWITCHBOARD_WEBHOOK_SENDER``
is ``process`` by default): it starts with the worker, stops with it promptly, and the worker
notices when it has gone."""

from __future__ import annotations

import os
import signal
import time

import pytest

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
    assert not any(server.is_alive() for server in sender._servers)


def test_the_worker_notices_when_its_sender_has_gone(database_url: str) -> None:
    container, sender = worker_with_sender(database_url)
    try:
        (pid,) = sender.pids
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        (server,) = sender._servers
        deadline = time.monotonic() + 5
        while server.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling another thread's end
        assert not server.is_alive(), "the pipe's end tells the worker"
    finally:
        container.stop()


@pytest.mark.parametrize(
    ("concurrency", "processes", "each"), [(4, 1, 4), (4, 2, 2), (5, 2, 2), (2, 3, 1)]
)
def test_senders_share_a_webhooks_concurrency(concurrency: int, processes: int, each: int) -> None:
    """Each of several sender processes may have its share of a webhook's requests in flight
    (at least one): together about ``SWITCHBOARD_WEBHOOK_CONCURRENCY``."""
    config = Config(
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
        SWITCHBOARD_WEBHOOK_CONCURRENCY=concurrency,
        SWITCHBOARD_WEBHOOK_SENDERS=processes,
    )
    sender = SenderProcess(
        config,
        config.database_url,
        "readmodels",
        lambda *_: None,
        application_name="x",
        processes=config.webhook_senders,
    )
    assert [child.config.webhook_concurrency for child in sender._children] == [each] * processes
