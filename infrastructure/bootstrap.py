"""The composition root: builds settings, stores, application and read models, and wires them.

Nothing in the project is built at import time; everything is built here, once per process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore

from application.app import Switchboard
from application.clock import Clock, SystemClock
from infrastructure.database import Database, EmbeddedPostgres, schema_lock
from infrastructure.live import InProcessBroker, RedisBroker
from infrastructure.scheduler import Scheduler
from infrastructure.settings import Settings
from projections.dashboard.projection import Dashboard
from projections.directory.projection import Directory, DirectoryRoutingView
from projections.dispatcher import Dispatcher
from projections.history.projection import History
from projections.machinery.positions import PositionWaiter
from projections.machinery.readmodel import SCHEMA, ReadModel
from projections.machinery.rebuild import create_or_reset
from projections.machinery.runner import ReadModelRunner
from projections.reports.projection import Reports

log = logging.getLogger(__name__)


class EventLogReader(Application[Any]):
    """Reads the Switchboard event log for the projections, on a pool of its own."""

    name = Switchboard.name


@dataclass
class Container:
    settings: Settings
    database: Database
    app: Switchboard
    read_store: PostgresDatastore
    directory: Directory
    dashboard: Dashboard
    history: History
    reports: Reports
    waiter: PositionWaiter
    dispatcher: Dispatcher
    broker: InProcessBroker | RedisBroker
    runners: list[ReadModelRunner] = field(default_factory=list)
    scheduler: Scheduler | None = None
    embedded: EmbeddedPostgres | None = None
    log_reader: EventLogReader | None = None

    @property
    def read_models(self) -> list[ReadModel]:
        return [self.directory, self.dashboard, self.dispatcher, self.history, self.reports]

    def read_model(self, name: str) -> ReadModel:
        return next(model for model in self.read_models if model.name == name)

    def wait_for(self, name: str, position: int, timeout: float) -> bool:
        return self.waiter.wait(name, position, timeout)

    @property
    def database_up(self) -> bool:
        return self.waiter.connected

    def positions(self) -> dict[str, int]:
        return {model.name: self.waiter.position(model.name) for model in self.read_models}

    def start(self) -> None:
        self.waiter.start()
        for runner in self.runners:
            runner.start()
        if self.scheduler is not None:
            self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for runner in self.runners:
            runner.stop()
        self.waiter.stop()
        self.broker.close()
        self.app.close()
        if self.log_reader is not None:
            self.log_reader.close()
        self.read_store.close()
        if self.embedded is not None:
            self.embedded.stop()


def datastore(database: Database, schema: str, *, pool_size: int) -> PostgresDatastore:
    """A pool on the read models' side of the database, its tables in ``schema``."""
    params = database.params
    store = PostgresDatastore(
        dbname=params.get("dbname", "postgres"),
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", "5432"),
        user=params.get("user", "postgres"),
        password=params.get("password", ""),
        pool_size=pool_size,
        max_overflow=pool_size,
        schema=schema,
        pre_ping=False,  # as for the event store: see Database.eventsourcing_env
    )
    # No JIT compilation: every read-model query is a short index-driven one, but a plan
    # whose estimated cost passes jit_above_cost (a page of full-text hits with a headline
    # each, at a million chats) spent ~180 ms compiling for a query that runs in 1 ms.
    store.pool.kwargs["options"] = "-c jit=off"
    return store


def _outcome(done) -> tuple[str, int | None]:
    return done.value, done.position


def resolve_database(settings: Settings) -> tuple[Database, EmbeddedPostgres | None]:
    if settings.database_url:
        return Database(settings.database_url), None
    embedded = EmbeddedPostgres(settings.data_dir)
    return embedded.start(), embedded


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    run_projections: bool = True,
) -> Container:
    """Build everything one process needs; ``start()`` the result.

    ``run_projections``: this process also does the worker's part (read models, queue
    dispatcher, scheduler); an API-only process reads the read models a worker keeps.
    """
    settings = settings or Settings()
    database, embedded = resolve_database(settings)
    env = database.eventsourcing_env(pool_size=settings.db_pool_size, recorder=settings.recorder)
    if settings.aggregate_cache:
        # Cached aggregates are fast-forwarded on every load (one query for newer events)
        # and copied for each command: always current, and a failed command leaves no trace.
        env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache)

    # Processes starting together must not race each other's CREATE TABLE.
    with schema_lock(database):
        with database.connect(autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        read_store = datastore(database, SCHEMA, pool_size=settings.db_pool_size)
        directory = Directory(read_store, application_name=Switchboard.name)
        dashboard = Dashboard(read_store, application_name=Switchboard.name)
        history = History(read_store, application_name=Switchboard.name)
        reports = Reports(read_store, application_name=Switchboard.name)
        waiter = PositionWaiter(
            connect=database.connect,
            read_positions=lambda: {
                m.name: m.position() for m in (directory, dashboard, dispatcher, history, reports)
            },
        )
        app_ref: list[Switchboard] = []
        routing = DirectoryRoutingView(
            directory,
            head=lambda: app_ref[0].head(),
            wait=lambda position, timeout: waiter.wait(directory.name, position, timeout),
        )
        app = Switchboard(env, clock=clock or SystemClock(), routing=routing)
        app_ref.append(app)
        dispatcher = Dispatcher(
            read_store,
            application_name=Switchboard.name,
            assign=lambda chat_id: _outcome(app.assign_from_queue(chat_id)),
            wait_for=waiter.wait,
        )
        for model in (directory, dashboard, dispatcher, history, reports):
            if create_or_reset(model, database.connect):
                log.warning("read model %s changed shape: rebuilding it from the log", model.name)

    broker: InProcessBroker | RedisBroker = InProcessBroker()
    if settings.redis_url:
        # One channel per database: deployments (and test runs) sharing a Redis stay apart.
        dbname = database.params.get("dbname", "postgres")
        broker = RedisBroker(settings.redis_url, channel=f"switchboard:{dbname}:dashboard")
    if run_projections:
        dashboard.on_changes = lambda changes: broker.publish(changes.to_json())
    container = Container(
        settings=settings,
        database=database,
        app=app,
        read_store=read_store,
        directory=directory,
        dashboard=dashboard,
        history=history,
        reports=reports,
        waiter=waiter,
        dispatcher=dispatcher,
        broker=broker,
        embedded=embedded,
    )
    if run_projections:
        reader_env = {**env, "POSTGRES_POOL_SIZE": str(2 * len(container.read_models) + 1)}
        container.log_reader = EventLogReader(reader_env)
        container.runners = [
            ReadModelRunner(model, container.log_reader, database.connect)
            for model in container.read_models
        ]
        container.scheduler = Scheduler(
            app,
            dashboard,
            directory,
            database.connect,
            interval_s=settings.scheduler_interval_s,
        )
    return container
