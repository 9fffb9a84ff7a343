"""The webhook sender in a process of its own (``SWITCHBOARD_WEBHOOK_SENDER=process``).

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
    """Starts and stops the child; serves its requests to turn a webhook off."""

    def __init__(
        self,
        config: Config,
        connect_info: str,
        read_schema: str,
        disable: Callable[[UUID, str], int | None],
        *,
        application_name: str,
        read_model: str = "events",
    ) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the parent's threads
        self._disable = disable
        # Closing our end of ``stop`` tells the child to stop (its end reads end-of-file, as
        # it does when this process dies).
        stop_end, self._stop = context.Pipe(duplex=False)
        self._commands, child_end = context.Pipe()
        self._child_ends = (stop_end, child_end)  # closed here once the child has its own
        self._process = context.Process(
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
            name="switchboard-webhook-sender",
            daemon=True,
        )
        self._server = threading.Thread(
            target=self._serve, name="webhook-sender-commands", daemon=True
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def start(self) -> None:
        self._process.start()
        # Only the child may hold its ends: so its end of ``commands`` reads end-of-file here
        # when the child exits, and ``_serve`` returns. (``Process.start`` drops its own
        # references to them too, but closing them does not wait for the garbage collector.)
        for end in self._child_ends:
            end.close()
        self._server.start()

    def stop(self) -> None:
        self._stop.close()
        self._process.join(timeout=STOP_S)
        if self._process.is_alive():
            log.warning("webhook sender did not stop within %g s; terminating it", STOP_S)
            self._process.terminate()
            self._process.join(timeout=5)
        self._commands.close()
        self._server.join(timeout=5)

    def _serve(self) -> None:
        """Run the child's commands: one at a time, each answered on the pipe."""
        while True:
            try:
                webhook_id, reason = self._commands.recv()
            except (EOFError, OSError):  # the child has gone, or ``stop`` closed the pipe
                return
            try:
                answer: tuple[str, Any] = ("ok", self._disable(webhook_id, reason))
            except Exception as error:  # the child logs it and tries at the next 410
                answer = ("error", f"{type(error).__name__}: {error}")
            try:
                self._commands.send(answer)
            except OSError:
                return


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
