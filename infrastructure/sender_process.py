"""The webhook sender in a process of its own (``SWITCHBOARD_WEBHOOK_SENDER=process``), or in
several (``SWITCHBOARD_WEBHOOK_SENDERS``).

In the worker, the sender's asyncio loop shares one interpreter lock with the read models'
threads, which are busy with every event: each of its claims, requests and outcomes waits
its turn behind them. In a process of its own it does not (README, "Webhooks": a lower lag
in back-to-back runs, most where the worker is busy). The child holds no application: it
reads the outbox, sends and writes outcomes, and asks the parent, over a pipe, for the one
command it needs (turning off a webhook that answered 410 Gone). It stops when the parent
closes its end of a pipe, which the kernel does too when the parent dies, however it dies.
What it leased and did not finish is sent again when the lease runs out, as after any crash.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any
from uuid import UUID

from infrastructure.config import Config

log = logging.getLogger(__name__)

STOP_S = 15.0  # how long ``stop`` waits for the child's requests in flight


class SenderProcess:
    """Starts and stops the children (``processes`` of them, ``SWITCHBOARD_WEBHOOK_SENDERS``);
    serves their requests to turn a webhook off.

    Several children claim in turn (the claim's advisory lock), so a chat's run of Events is
    never split between them and still goes one by one; each gets its share of a webhook's
    concurrency (at least one request), so together they keep about its bound.
    """

    def __init__(
        self,
        config: Config,
        connect_info: str,
        read_schema: str,
        disable: Callable[[UUID, str], int | None],
        *,
        application_name: str,
        read_model: str = "events",
        processes: int = 1,
    ) -> None:
        self._disable = disable
        share = max(1, config.webhook_concurrency // processes)
        child_config = config.model_copy(update={"webhook_concurrency": share})
        self._children = [
            _Child(child_config, connect_info, read_schema, application_name, read_model, n)
            for n in range(processes)
        ]
        self._servers = [
            threading.Thread(
                target=self._serve, args=(child,), name=f"webhook-sender-commands-{n}", daemon=True
            )
            for n, child in enumerate(self._children)
        ]

    @property
    def pids(self) -> list[int | None]:
        return [child.process.pid for child in self._children]

    def is_alive(self) -> bool:
        """Every child is running."""
        return all(child.process.is_alive() for child in self._children)

    def start(self) -> None:
        for child, server in zip(self._children, self._servers, strict=True):
            child.start()
            server.start()

    def stop(self) -> None:
        for child in self._children:  # all told at once: they finish their requests together
            child.stop.close()
        for child in self._children:
            child.process.join(timeout=STOP_S)
            if child.process.is_alive():
                log.warning("webhook sender did not stop within %g s; terminating it", STOP_S)
                child.process.terminate()
                child.process.join(timeout=5)
            child.commands.close()
        for server in self._servers:
            server.join(timeout=5)

    def _serve(self, child: _Child) -> None:
        """Run a child's commands: one at a time, each answered on the pipe."""
        while True:
            try:
                webhook_id, reason = child.commands.recv()
            except (EOFError, OSError):  # the child has gone, or ``stop`` closed the pipe
                return
            try:
                answer: tuple[str, Any] = ("ok", self._disable(webhook_id, reason))
            except Exception as error:  # the child logs it and tries at the next 410
                answer = ("error", f"{type(error).__name__}: {error}")
            try:
                child.commands.send(answer)
            except OSError:
                return


class _Child:
    """One sender process and the parent's ends of its two pipes."""

    def __init__(
        self,
        config: Config,
        connect_info: str,
        read_schema: str,
        application_name: str,
        read_model: str,
        number: int,
    ) -> None:
        self.config = config
        context = multiprocessing.get_context("spawn")  # no copy of the parent's threads
        # Closing our end of ``stop`` tells the child to stop (its end reads end-of-file, as
        # it does when this process dies).
        stop_end, self.stop = context.Pipe(duplex=False)
        self.commands, child_end = context.Pipe()
        self._child_ends = (stop_end, child_end)  # closed here once the child has its own
        self.process = context.Process(
            target=run_child,
            args=(
                config,
                connect_info,
                read_schema,
                application_name,
                read_model,
                stop_end,
                child_end,
            ),
            name=f"switchboard-webhook-sender-{number}",
            daemon=True,
        )

    def start(self) -> None:
        self.process.start()
        # Only the child may hold its ends: so its end of ``commands`` reads end-of-file here
        # when the child exits, and ``_serve`` returns. (``Process.start`` drops its own
        # references to them too, but closing them does not wait for the garbage collector.)
        for end in self._child_ends:
            end.close()


class _Parent:
    """The child's side of the pipe: ``disable`` as a blocking call (the sender calls it
    from a thread), one request at a time."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def disable(self, webhook_id: UUID, reason: str) -> int | None:
        with self._lock:
            self._connection.send((webhook_id, reason))
            status, value = self._connection.recv()
        if status != "ok":
            raise RuntimeError(f"the worker could not disable the webhook: {value}")
        return value


def run_child(
    config: Config,
    connect_info: str,
    read_schema: str,
    application_name: str,
    read_model: str,
    stop: Connection,
    commands: Connection,
) -> None:
    """The child's body: a sender with a position listener of its own, until ``stop`` is
    closed or the parent dies."""
    # Ctrl-C reaches the whole process group: the parent decides when the child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from infrastructure.database import Database
    from infrastructure.logs import configure_logging
    from infrastructure.webhook_sender import WebhookSender
    from projections.events import EventsOut
    from projections.machinery.positions import PositionWaiter

    configure_logging(config)
    database = Database(connect_info)
    read_store = database.read_store(read_schema, pool_size=1)
    events_out = EventsOut(read_store, application_name=application_name)
    assert events_out.name == read_model
    waiter = PositionWaiter(
        connect=database.connect, read_positions=lambda: {read_model: events_out.position()}
    )
    sender = WebhookSender(
        config, connect_info, read_schema, waiter, _Parent(commands).disable, read_model=read_model
    )
    waiter.start()
    sender.start()
    try:
        # Returns at the end of the pipe: ``stop`` closed the parent's end, or the parent
        # died (however it died, the kernel closed it).
        with contextlib.suppress(EOFError, OSError):
            stop.recv()
    finally:
        sender.stop()
        waiter.stop()
        read_store.close()
