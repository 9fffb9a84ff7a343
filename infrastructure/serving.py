"""How ``switchboard serve`` runs uvicorn: one process that shuts down gracefully, or several
API processes on one port with the worker's part beside them."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn

from infrastructure.config import Config

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    """Ctrl-C or SIGTERM: finish in-flight requests, stop the read models and the embedded
    PostgreSQL (the app's lifespan), then exit 0; a second Ctrl-C stops at once.

    uvicorn's own handlers raise the signal again once it has shut down, which ends the
    process with a traceback (SIGINT) or by the signal (SIGTERM): these only ask it to exit.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return
        previous = {signum: signal.signal(signum, self.ask_to_exit) for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def ask_to_exit(self, signum: int, frame: FrameType | None) -> None:
        if self.should_exit and signum == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


def serve_one(app, *, host: str, port: int, log_config) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=log_config,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    GracefulServer(config).run()


def serve_many(config: Config, *, host: str, port: int, workers: int, log_config) -> None:
    """``workers`` API processes on one port; the worker's part, if inline, in this one."""
    import os
    import shutil
    import tempfile

    from infrastructure.bootstrap import build
    from infrastructure.database import EmbeddedPostgres

    embedded = None
    if not config.database_url:
        embedded = EmbeddedPostgres(config.data_dir, config.embedded_postgres_settings())
        os.environ["DATABASE_URL"] = embedded.start().url
    metrics_dir = tempfile.mkdtemp(prefix="switchboard-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # the processes' metrics, summed
    os.environ["SWITCHBOARD_WORKER"] = "external"  # the API processes serve the API only
    background = None
    try:
        if config.worker == "inline":
            background = build(Config(), run_projections=True)
            background.start()
        uvicorn.run(
            "infrastructure.web:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=log_config,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        if background is not None:
            background.stop()
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(metrics_dir, ignore_errors=True)
