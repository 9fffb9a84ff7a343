"""The ``switchboard`` command line."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import typer
import uvicorn

from infrastructure.settings import Settings

cli = typer.Typer(
    help="Switchboard: hands customer chats from bots to human operators.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the HTTP API; in this process also run the read models.

    Without DATABASE_URL an embedded PostgreSQL starts under SWITCHBOARD_DATA.
    """
    from api.app import create_api
    from infrastructure.bootstrap import build

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    api = create_api(lambda: build(settings), max_body_bytes=settings.max_body_bytes)
    config = uvicorn.Config(
        api,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )
    _GracefulServer(config).run()


@cli.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as installed

    typer.echo(installed("switchboard"))


class _GracefulServer(uvicorn.Server):
    """Ctrl-C or SIGTERM: finish in-flight requests, stop the read models and the embedded
    PostgreSQL, then exit 0 (uvicorn would otherwise re-raise the signal as a traceback)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def main() -> None:
    cli()
