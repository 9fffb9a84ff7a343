"""The ``switchboard`` command line."""

from __future__ import annotations

import contextlib
import logging
import os

import typer

from infrastructure.config import Config

cli = typer.Typer(
    help="Switchboard: hands customer chats from bots to human operators.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, help="API processes sharing the port (each serves the API only)."
    ),
    worker: str = typer.Option(
        None,
        help="inline: this command also runs the read models, dispatcher and scheduler; "
        "external: a separate `switchboard worker` does. Default: SWITCHBOARD_WORKER (inline).",
    ),
) -> None:
    """Serve the HTTP API (and, with the inline worker, keep the read models).

    Without DATABASE_URL an embedded PostgreSQL starts under SWITCHBOARD_DATA.
    """
    from infrastructure.logs import configure_logging

    settings = Config()
    if worker is not None:
        if worker not in ("inline", "external"):
            raise typer.BadParameter("--worker is inline or external")
        settings = settings.model_copy(update={"worker": worker})
    log_config = configure_logging(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    typer.echo(f"Switchboard: the operator console is at http://{shown}:{port}/console/")
    if workers == 1:
        from infrastructure.serving import serve_one
        from infrastructure.web import create_app

        serve_one(create_app(settings), host=host, port=port, log_config=log_config)
        return
    from infrastructure.serving import serve_many

    serve_many(settings, host=host, port=port, workers=workers, log_config=log_config)


@cli.command("worker")
def run_worker(
    metrics_port: int = typer.Option(
        None, help="Serve Prometheus metrics of this worker on this port."
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="Address for the metrics port."),
) -> None:
    """Run the read models, the queue dispatcher and the scheduler (no HTTP API).

    Run one or two: each read model is followed by one process at a time (a PostgreSQL
    advisory lock); a second worker waits as a hot standby and takes over if the first dies.
    """
    import signal
    import threading

    from infrastructure.bootstrap import build
    from infrastructure.logs import configure_logging

    settings = Config()
    configure_logging(settings)
    log = logging.getLogger("switchboard.worker")
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    container = build(settings, run_projections=True)
    container.start()
    if metrics_port is not None:
        from prometheus_client import CollectorRegistry, start_http_server

        from infrastructure.operations import WorkerCollector

        registry = CollectorRegistry()
        registry.register(WorkerCollector(container))
        start_http_server(metrics_port, addr=metrics_host, registry=registry)
    log.info(
        "worker running: %s, and the scheduler",
        ", ".join(model.name for model in container.read_models),
    )
    try:
        stopping.wait()
    finally:
        log.info("worker stopping")
        container.stop()


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
    processes: int = typer.Option(
        None,
        min=1,
        help="Processes to rebuild in, each with its share of the models (default: one per "
        "core, at most one per model).",
    ),
) -> None:
    """Drop and rebuild read models from the event log, with no downtime.

    The new tables are built beside the old ones, which the API keeps serving, and swapped
    in once they have caught up.
    """
    from infrastructure.rebuilding import rebuild, shares
    from projections.machinery.rebuild import Progress

    with _container() as container:
        known = [m.name for m in container.read_models if m.name not in NOT_REBUILT]
        names = known if name is None else [name]
        if name is not None and name not in known:
            raise typer.BadParameter(f"no read model {name!r}; there are: {', '.join(known)}")
        head = container.app.head() or 0
        # The processes use this one's database (an embedded one stays up while it runs).
        settings = container.config.model_copy(update={"database_url": container.database.url})
        split = shares(names, processes or os.cpu_count() or 1)
        # Each share reports its last model's progress; the bar follows the one most behind.
        lasts = {share[-1]: 0 for share in split}
        label = " | ".join(", ".join(share) for share in split)
        with typer.progressbar(length=max(head, 1), label=label) as bar:
            done = [0]

            def show(progress: Progress) -> None:
                if progress.model in lasts:
                    lasts[progress.model] = max(lasts[progress.model], progress.position)
                    behind = min(lasts.values())
                    bar.update(max(behind - done[0], 0))
                    done[0] = max(done[0], behind)

            positions = rebuild(settings, names, len(split), on_progress=show, container=container)
    for model in names:
        typer.echo(f"{model}: rebuilt and swapped in at position {positions[model]}")


@contextlib.contextmanager
def _container():
    """The application over the configured database, without running the read models."""
    from infrastructure.bootstrap import build
    from infrastructure.logs import configure_logging

    # A one-off command needs few connections.
    settings = Config(SWITCHBOARD_DB_POOL_SIZE=2, SWITCHBOARD_LOG_LEVEL="WARNING")
    configure_logging(settings)
    container = build(settings, run_projections=False)
    try:
        yield container
    finally:
        container.stop()


@cli.command()
def demo(
    chats: int = typer.Option(20, min=0, max=10_000, help="How many chats to hand off."),
) -> None:
    """Create groups, staff, a bot and chats in every state, to look at; print a sign-in for
    each role (an e-mail and a password, or a token)."""
    from infrastructure.bootstrap import build
    from infrastructure.demo import seed
    from infrastructure.logs import configure_logging

    settings = Config(SWITCHBOARD_DB_POOL_SIZE=2, SWITCHBOARD_LOG_LEVEL="WARNING")
    configure_logging(settings)
    # With the read models: routing needs the directory to see the new operators. (If a
    # server already follows the log, this process stands by and waits on its positions.)
    container = build(settings, run_projections=True)
    container.start()
    try:

        def settle() -> None:
            container.wait_for("directory", container.app.head() or 0, 30.0)

        result = seed(container.app, chats=chats, settle=settle)
        head = container.app.head() or 0
        for model in container.read_models:
            container.wait_for(model.name, head, 30.0)
    finally:
        container.stop()
    typer.echo(
        f"{result.chats} chats handed off. Sign in to the console (shown once; a token goes "
        'under "Sign in with a token"):'
    )
    for sign_in in result.sign_ins:
        how = (
            f"e-mail {sign_in.email}  password {sign_in.password}"
            if sign_in.token is None
            else f"token {sign_in.token}"
        )
        typer.echo(f"  {sign_in.role:<11} {sign_in.name:<20} {how}")


@cli.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as installed

    typer.echo(installed("switchboard"))


def main() -> None:
    cli()
