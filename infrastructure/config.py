"""The process configuration, in one typed place, read from the environment (or a ``.env``
file). The company's settings (``GET/PUT /v1/settings``) are another thing: an aggregate."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

_SIZE = r"^[0-9]+(kB|MB|GB|TB)$"  # a PostgreSQL memory size, e.g. 512MB


class Config(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        None,
        alias="DATABASE_URL",
        description="PostgreSQL to use; unset: an embedded PostgreSQL under the data directory.",
    )
    data_dir: Path = Field(
        Path(".switchboard"),
        alias="SWITCHBOARD_DATA",
        description="Where the embedded PostgreSQL keeps its data.",
    )
    redis_url: str | None = Field(
        None, alias="REDIS_URL", description="Redis for live updates between processes."
    )
    admin_token: SecretStr | None = Field(
        None, alias="SWITCHBOARD_ADMIN_TOKEN", description="An admin token accepted from start-up."
    )
    read_wait_s: float = Field(
        5.0,
        alias="SWITCHBOARD_READ_WAIT_S",
        gt=0,
        description="How long a query with min_position waits for its read model (then 504).",
    )
    db_pool_size: int = Field(
        10, alias="SWITCHBOARD_DB_POOL_SIZE", ge=1, description="Connections per process."
    )
    aggregate_cache: int = Field(
        2_000,
        alias="SWITCHBOARD_AGGREGATE_CACHE",
        ge=0,
        description="Aggregates kept in memory per process (0: none); a command brings its "
        "cached copy up to date with one query for the events saved since.",
    )
    recorder: Literal["grouped", "single", "library"] = Field(
        "grouped",
        alias="SWITCHBOARD_RECORDER",
        description="Who appends events: grouped (concurrent commands' appends in one "
        "statement and one commit), single (one statement per command), library (the "
        "eventsourcing library's recorder).",
    )
    max_body_bytes: int = Field(
        1_000_000, alias="SWITCHBOARD_MAX_BODY_BYTES", ge=1024, description="Largest request body."
    )
    scheduler_interval_s: float = Field(
        1.0,
        alias="SWITCHBOARD_SCHEDULER_INTERVAL_S",
        gt=0,
        description="How often the scheduler looks for passed deadlines (mutes, idle chats).",
    )
    worker: Literal["inline", "external"] = Field(
        "inline",
        alias="SWITCHBOARD_WORKER",
        description="inline: `serve` also runs the read models, dispatcher and scheduler; "
        "external: `serve` is the API only and `switchboard worker` runs them.",
    )
    ready_lag: int = Field(
        1_000,
        alias="SWITCHBOARD_READY_LAG",
        ge=0,
        description="Events a read model may trail the log by while /readyz still says ready.",
    )
    stream_heartbeat_s: float = Field(
        15.0,
        alias="SWITCHBOARD_STREAM_HEARTBEAT_S",
        gt=0,
        description="An idle live stream gets a comment this often (proxies close idle ones).",
    )
    stream_queue: int = Field(
        1_000,
        alias="SWITCHBOARD_STREAM_QUEUE",
        ge=10,
        description="Changes held for one slow stream client; past it the stream is closed and "
        "the client resumes from its Last-Event-ID.",
    )
    stream_send_timeout_s: float = Field(
        30.0,
        alias="SWITCHBOARD_STREAM_SEND_TIMEOUT_S",
        gt=0,
        description="A stream client that takes longer than this to accept data is disconnected.",
    )
    invite_ttl_h: float = Field(
        72.0,
        alias="SWITCHBOARD_INVITE_TTL_H",
        gt=0,
        description="Hours an invitation code may be used (once) to set a password.",
    )
    session_ttl_h: float = Field(
        12.0,
        alias="SWITCHBOARD_SESSION_TTL_H",
        gt=0,
        description="Hours a session (from signing in) lasts, however active.",
    )
    # The embedded PostgreSQL's memory (``make run``, no DATABASE_URL); a server of your own
    # is configured on that server (README, "Running it in production").
    pg_shared_buffers: str = Field(
        "512MB",
        alias="SWITCHBOARD_PG_SHARED_BUFFERS",
        pattern=_SIZE,
        description="Embedded PostgreSQL: its page cache (read models' working set, the log's "
        "tail); applied at its next start.",
    )
    pg_effective_cache_size: str = Field(
        "2GB",
        alias="SWITCHBOARD_PG_EFFECTIVE_CACHE_SIZE",
        pattern=_SIZE,
        description="Embedded PostgreSQL: how much of the database the planner may assume is "
        "cached (shared_buffers and the OS cache).",
    )
    pg_work_mem: str = Field(
        "16MB",
        alias="SWITCHBOARD_PG_WORK_MEM",
        pattern=_SIZE,
        description="Embedded PostgreSQL: memory per sort or hash of a query (reports, history).",
    )
    pg_maintenance_work_mem: str = Field(
        "256MB",
        alias="SWITCHBOARD_PG_MAINTENANCE_WORK_MEM",
        pattern=_SIZE,
        description="Embedded PostgreSQL: memory for building an index (a rebuild indexes its "
        "loaded tables) and for vacuum.",
    )
    pg_max_wal_size: str = Field(
        "2GB",
        alias="SWITCHBOARD_PG_MAX_WAL_SIZE",
        pattern=_SIZE,
        description="Embedded PostgreSQL: WAL between checkpoints (fewer checkpoints while "
        "appending and rebuilding).",
    )
    events_retention_days: float = Field(
        30.0,
        alias="SWITCHBOARD_EVENTS_RETENTION_DAYS",
        ge=0,
        description="Days the Events (feed, replay) and the webhooks' delivery log are kept; "
        "older ones are pruned by the worker, never one still to be delivered. 0: kept forever.",
    )
    events_prune_interval_s: float = Field(
        600.0,
        alias="SWITCHBOARD_EVENTS_PRUNE_INTERVAL_S",
        gt=0,
        description="How often the worker prunes Events past their retention (bounded batches).",
    )
    log_level: str = Field("INFO", alias="SWITCHBOARD_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(
        "text", alias="SWITCHBOARD_LOG_FORMAT", description="json: one JSON object per line."
    )

    def embedded_postgres_settings(self) -> dict[str, str]:
        """The embedded PostgreSQL's server settings, by their PostgreSQL names."""
        return {
            "shared_buffers": self.pg_shared_buffers,
            "effective_cache_size": self.pg_effective_cache_size,
            "work_mem": self.pg_work_mem,
            "maintenance_work_mem": self.pg_maintenance_work_mem,
            "max_wal_size": self.pg_max_wal_size,
        }

    # -- webhooks (the worker sends them; see README "Webhooks") -------------------------------
    webhook_allow_private: bool | None = Field(
        None,
        alias="SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE",
        description="Whether webhook URLs may reach private, loopback and link-local addresses; "
        "unset: only in the embedded default (no DATABASE_URL).",
    )
    webhook_timeout_s: float = Field(
        10.0, alias="SWITCHBOARD_WEBHOOK_TIMEOUT_S", gt=0, description="A receiver's time."
    )
    webhook_attempts: int = Field(
        8, alias="SWITCHBOARD_WEBHOOK_ATTEMPTS", ge=1, description="Tries per delivery."
    )
    webhook_retry_first_s: float = Field(
        3.0,
        alias="SWITCHBOARD_WEBHOOK_RETRY_FIRST_S",
        gt=0,
        description="The wait before the first retry; each next wait is `factor` times longer "
        "(each with +-25 % jitter), up to the maximum.",
    )
    webhook_retry_factor: float = Field(4.0, alias="SWITCHBOARD_WEBHOOK_RETRY_FACTOR", ge=1)
    webhook_retry_max_s: float = Field(36_000.0, alias="SWITCHBOARD_WEBHOOK_RETRY_MAX_S", gt=0)
    webhook_concurrency: int = Field(
        4,
        alias="SWITCHBOARD_WEBHOOK_CONCURRENCY",
        ge=1,
        description="Requests in flight to one webhook at once (a chat's Events go one by one).",
    )

    webhook_sender: Literal["process", "thread"] = Field(
        "process",
        alias="SWITCHBOARD_WEBHOOK_SENDER",
        description="Where the worker sends webhooks: a process of its own (its requests do not "
        "wait behind the read models) or a thread beside them (one process less).",
    )
    webhook_senders: int = Field(
        1,
        alias="SWITCHBOARD_WEBHOOK_SENDERS",
        ge=1,
        le=16,
        description="Sender processes (with SWITCHBOARD_WEBHOOK_SENDER=process), for more "
        "requests per second than one process's CPU sends: their claims take turns, a chat's "
        "Events still go one by one, and a webhook's concurrency is shared out between them.",
    )

    webhook_secret_overlap_h: float = Field(
        24.0,
        alias="SWITCHBOARD_WEBHOOK_SECRET_OVERLAP_H",
        ge=0,
        le=168,
        description="Hours a rotated-out secret still signs deliveries beside the new one.",
    )

    @property
    def webhooks_reach_private(self) -> bool:
        if self.webhook_allow_private is not None:
            return self.webhook_allow_private
        return self.database_url is None
