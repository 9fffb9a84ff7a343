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


projections = typer.Typer(
    help="The read models: how far behind, and rebuilding.", no_args_is_help=True
)
cli.add_typer(projections, name="projections")

NOT_REBUILT = {"dispatcher"}  # it keeps no rows: it assigns queued chats as events happen


@projections.command("status")
def projections_status() -> None:
    """Each read model's position, its lag behind the event log, and who follows it."""
    from infrastructure.operations import read_model_status

    with _container() as container:
        rows = read_model_status(container)
    typer.echo(f"{'read model':<12} {'position':>10} {'head':>10} {'lag':>8}  follower")
    for row in rows:
        follower = "running" if row.followed else "none (start serve or worker)"
        typer.echo(f"{row.name:<12} {row.position:>10} {row.head:>10} {row.lag:>8}  {follower}")


@projections.command("rebuild")
def projections_rebuild(
    name: str = typer.Argument(None, help="One read model; all of them when left out."),
) -> None:
    """Drop and rebuild read models from the event log, with no downtime.

    The new tables are built beside the old ones, which the API keeps serving, and swapped
    in once they have caught up.
    """
    from infrastructure.bootstrap import datastore
    from projections.rebuild import STAGING_SCHEMA, Progress, rebuild

    with _container() as container:
        models = [m for m in container.read_models if m.name not in NOT_REBUILT]
        if name is not None:
            models = [m for m in models if m.name == name]
            if not models:
                known = ", ".join(
                    m.name for m in container.read_models if m.name not in NOT_REBUILT
                )
                raise typer.BadParameter(f"no read model {name!r}; there are: {known}")
        staging = datastore(container.database, STAGING_SCHEMA, pool_size=2)
        try:
            for model in models:
                head = container.app.head() or 0
                with typer.progressbar(length=max(head, 1), label=f"{model.name:<12}") as bar:
                    done = [0]

                    def show(progress: Progress, bar=bar, done=done) -> None:
                        bar.update(max(progress.position - done[0], 0))
                        done[0] = max(done[0], progress.position)

                    position = rebuild(model, container.app, staging, on_progress=show)
                typer.echo(f"{model.name}: rebuilt and swapped in at position {position}")
        finally:
            staging.close()


@contextlib.contextmanager
def _container():
    """The application over the configured database, without running the read models."""
    from infrastructure.bootstrap import build

    # A one-off command needs few connections.
    settings = Settings(SWITCHBOARD_DB_POOL_SIZE=2)
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
