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


audit = typer.Typer(help="Read the audit trail.", no_args_is_help=True)
cli.add_typer(audit, name="audit")


@audit.command("replay")
def audit_replay(chat_id: str = typer.Argument(..., help="The chat's id.")) -> None:
    """A chat's whole history as a readable timeline, from the event log."""
    from uuid import UUID

    from application.errors import NotFound
    from infrastructure.audit import timeline

    try:
        chat = UUID(chat_id)
    except ValueError:
        raise typer.BadParameter(f"{chat_id!r} is not a chat id (a UUID)") from None
    with _container() as container:
        try:
            events = container.app.chat_events(chat)
        except NotFound:
            typer.echo(f"no chat {chat}", err=True)
            raise typer.Exit(1) from None
        for line in timeline(events):
            typer.echo(line)


@audit.command("verify")
def audit_verify(
    upto: int = typer.Option(None, help="Check the log only up to this position."),
    digest: str = typer.Option(None, help="The digest noted earlier for that position."),
) -> None:
    """Check the event log: gapless versions, readable events, and its digest chain.

    Note the printed digest; later, `audit verify --upto POSITION --digest DIGEST` proves
    the log up to that position has not been altered. Exits 1 on any problem.
    """
    from infrastructure.audit import check_log

    with _container() as container:
        result = check_log(container.app, upto)
    typer.echo(
        f"{result.events} events of {result.aggregates} aggregates, up to position "
        f"{result.position}\ndigest {result.digest}"
    )
    for problem in result.problems:
        typer.echo(f"PROBLEM {problem}", err=True)
    if digest is not None and digest.lower() != result.digest:
        typer.echo("PROBLEM the digest differs: the log up to that position has changed", err=True)
        raise typer.Exit(1)
    if result.problems:
        raise typer.Exit(1)
    typer.echo("ok")


@contextlib.contextmanager
def _container():
    """The application over the configured database, without running the read models."""
    from infrastructure.bootstrap import build

    settings = Settings()
    logging.basicConfig(level=logging.WARNING)
    container = build(settings, run_projections=False)
    try:
        yield container
    finally:
        container.stop()


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
