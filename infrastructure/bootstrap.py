"""The composition root: builds the configuration, stores, application, read models, policies
and the live stream, in that order, and hands them on.

Nothing in the project is built at import time; everything is built here, once per process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresDatastore

from api.stream import Hub, StreamMetrics
from application.app import Switchboard
from application.clock import Clock, SystemClock
from application.deadlines import Deadlines
from application.dispatcher import Dispatcher
from application.passwords import AccountPolicy
from infrastructure.access_records import PostgresAccessRecords
from infrastructure.config import Config
from infrastructure.database import Database, EmbeddedPostgres, schema_lock
from infrastructure.dispatching import DISPATCHER, DispatcherFeed
from infrastructure.live import InProcessBroker, RedisBroker
from infrastructure.scheduler import Chore, Scheduler
from infrastructure.sender_process import SenderProcess
from infrastructure.webhook_sender import WebhookSender
from projections.clients import Clients
from projections.dashboard import Dashboard
from projections.directory import Directory, DirectoryRoutingView
from projections.events import EventsOut
from projections.events.retention import prune
from projections.history import History
from projections.machinery.feed import LogFeed
from projections.machinery.positions import PositionWaiter
from projections.machinery.readmodel import SCHEMA, ReadModel
from projections.machinery.rebuild import create_or_reset
from projections.machinery.runner import ReadModelRunner
from projections.reports import Reports

log = logging.getLogger(__name__)


class EventLogReader(Application[Any]):
    """Reads the Switchboard event log (its head, and the events for the runners) on a pool of
    its own."""

    name = Switchboard.name


@dataclass
class Services:
    """Everything one process runs; the API sees it as ``api.runtime.Runtime``."""

    config: Config
    database: Database
    embedded: EmbeddedPostgres | None
    read_store: PostgresDatastore
    event_log: EventLogReader
    directory: Directory
    dashboard: Dashboard
    history: History
    clients: Clients
    reports: Reports
    events_out: EventsOut
    read_models: tuple[ReadModel, ...]
    waiter: PositionWaiter
    app: Switchboard
    dispatcher: Dispatcher
    deadlines: Deadlines
    broker: InProcessBroker | RedisBroker
    hub: Hub
    runners: tuple[ReadModelRunner, ...] = ()  # the read models' and the dispatcher's
    scheduler: Scheduler | None = None
    sender: WebhookSender | SenderProcess | None = None  # the worker's

    def read_model(self, name: str) -> ReadModel:
        return next(model for model in self.read_models if model.name == name)

    def wait_for(self, name: str, position: int, timeout: float) -> bool:
        return self.waiter.wait(name, position, timeout)

    @property
    def database_up(self) -> bool:
        return self.waiter.connected

    def positions(self) -> dict[str, int]:
        """Each read model's position; the dispatcher's too where this process dispatches."""
        positions = {model.name: self.waiter.position(model.name) for model in self.read_models}
        if any(r.name == DISPATCHER and not r.standby for r in self.runners):
            positions[DISPATCHER] = self.waiter.position(DISPATCHER)
        return positions

    def start(self) -> None:
        self.waiter.start()
        for runner in self.runners:
            runner.start()
        if self.scheduler is not None:
            self.scheduler.start()
        if self.sender is not None:
            self.sender.start()

    def stop(self) -> None:
        if self.sender is not None:
            self.sender.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        for runner in self.runners:
            runner.stop()
        self.waiter.stop()
        self.broker.close()
        self.app.close()
        self.event_log.close()
        self.read_store.close()
        if self.embedded is not None:
            self.embedded.stop()


def resolve_database(config: Config) -> tuple[Database, EmbeddedPostgres | None]:
    if config.database_url:
        return Database(config.database_url), None
    embedded = EmbeddedPostgres(config.data_dir, config.embedded_postgres_settings())
    return embedded.start(), embedded


def live_broker(config: Config, database: Database) -> InProcessBroker | RedisBroker:
    if not config.redis_url:
        return InProcessBroker()
    # One channel per database: deployments (and test runs) sharing a Redis stay apart.
    dbname = database.params.get("dbname", "postgres")
    return RedisBroker(config.redis_url, channel=f"switchboard:{dbname}:dashboard")


def retention_chores(config: Config, events_out: EventsOut, clock: Clock) -> list[Chore]:
    """Pruning the Events and the delivery log past ``SWITCHBOARD_EVENTS_RETENTION_DAYS``."""
    if not config.events_retention_days:
        return []
    keep = timedelta(days=config.events_retention_days)

    def prune_events() -> None:
        pruned = prune(events_out, clock.now() - keep)
        if pruned.events or pruned.deliveries:
            log.info(
                "pruned %d Events, %d deliveries and %d messages past their retention",
                pruned.events,
                pruned.deliveries,
                pruned.messages,
            )

    return [Chore("pruning Events", config.events_prune_interval_s, prune_events)]


def webhook_sender(
    config: Config, database: Database, waiter: PositionWaiter, app: Switchboard, read_model: str
) -> WebhookSender | SenderProcess:
    """The worker's webhook sender, in a process of its own or on a thread of this one."""

    def disable(webhook_id: UUID, reason: str) -> int | None:
        return app.disable_webhook(webhook_id, reason).position

    if config.webhook_sender == "process":
        return SenderProcess(
            config,
            database.url,
            SCHEMA,
            disable,
            application_name=app.name,
            read_model=read_model,
            processes=config.webhook_senders,
        )
    return WebhookSender(config, database.url, SCHEMA, waiter, disable, read_model=read_model)


def build(
    config: Config | None = None,
    *,
    clock: Clock | None = None,
    run_projections: bool = True,
    stream_metrics: StreamMetrics | None = None,
) -> Services:
    """Build everything one process needs; ``start()`` the result.

    ``run_projections``: this process also does the worker's part (read models, queue
    dispatcher, scheduler); an API-only process reads the read models a worker keeps.
    """
    config = config or Config()
    database, embedded = resolve_database(config)
    env = database.eventsourcing_env(pool_size=config.db_pool_size, recorder=config.recorder)
    if config.aggregate_cache:
        # Cached aggregates are fast-forwarded on every load (one query for newer events)
        # and copied for each command: always current, and a failed command leaves no trace.
        env["AGGREGATE_CACHE_MAXSIZE"] = str(config.aggregate_cache)
    broker = live_broker(config, database)
    publish = (lambda changes: broker.publish(changes.to_json())) if run_projections else None

    # Processes starting together must not race each other's CREATE TABLE.
    with schema_lock(database):
        with database.connect(autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        read_store = database.read_store(SCHEMA, pool_size=config.db_pool_size)
        name = Switchboard.name
        directory = Directory(read_store, application_name=name)
        dashboard = Dashboard(read_store, application_name=name, publish=publish)
        history = History(read_store, application_name=name)
        reports = Reports(read_store, application_name=name)
        events_out = EventsOut(read_store, application_name=name)
        clients = Clients(read_store, application_name=name)
        read_models: tuple[ReadModel, ...] = (
            directory,
            dashboard,
            history,
            reports,
            clients,
            events_out,
        )
        for model in read_models:
            if create_or_reset(model, database.connect):
                log.warning("read model %s changed shape: rebuilding it from the log", model.name)
        # The runners' one reading of the log, the log's head, the routing view's.
        reader_pool = 4 if run_projections else 2
        event_log = EventLogReader({**env, "POSTGRES_POOL_SIZE": str(reader_pool)})
        waiter = PositionWaiter(
            connect=database.connect,
            read_positions=lambda: {model.name: model.position() for model in read_models},
        )
        routing = DirectoryRoutingView(
            directory,
            head=event_log.recorder.max_notification_id,
            wait=partial(waiter.wait, directory.name),
        )
        access = PostgresAccessRecords(read_store)
        access.create_tables()
        policy = AccountPolicy(
            invite_ttl=timedelta(hours=config.invite_ttl_h),
            session_ttl=timedelta(hours=config.session_ttl_h),
        )
        app = Switchboard(
            env, clock=clock or SystemClock(), routing=routing, access=access, policy=policy
        )

    dispatcher = Dispatcher(app, dashboard, waiter)
    deadlines = Deadlines(app, dashboard, directory)
    hub = Hub(
        dashboard,
        broker,
        read_position=partial(waiter.position, dashboard.name),
        groups_of=directory.groups_of,
        metrics=stream_metrics,
        queue_limit=config.stream_queue,
        ended_grants=app.ended_grants,
    )
    runners: tuple[ReadModelRunner, ...] = ()
    scheduler = sender = None
    if run_projections:
        feed = DispatcherFeed(
            dispatcher,
            head=event_log.recorder.max_notification_id,
            reached=partial(waiter.advance, DISPATCHER),
        )
        # One reading of the log for every read model (and the dispatcher) this process leads.
        log_feed = LogFeed(event_log)
        runners = tuple(
            ReadModelRunner(model, log_feed, database.connect) for model in (*read_models, feed)
        )
        scheduler = Scheduler(
            deadlines,
            database.connect,
            interval_s=config.scheduler_interval_s,
            chores=retention_chores(config, events_out, app.clock),
        )
        sender = webhook_sender(config, database, waiter, app, events_out.name)
    return Services(
        config=config,
        database=database,
        embedded=embedded,
        read_store=read_store,
        event_log=event_log,
        directory=directory,
        dashboard=dashboard,
        history=history,
        clients=clients,
        reports=reports,
        events_out=events_out,
        read_models=read_models,
        waiter=waiter,
        app=app,
        dispatcher=dispatcher,
        deadlines=deadlines,
        broker=broker,
        hub=hub,
        runners=runners,
        scheduler=scheduler,
        sender=sender,
    )
