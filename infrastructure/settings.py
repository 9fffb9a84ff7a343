"""Every setting, in one typed place, read from the environment (or a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
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
    max_body_bytes: int = Field(
        1_000_000, alias="SWITCHBOARD_MAX_BODY_BYTES", ge=1024, description="Largest request body."
    )
    scheduler_interval_s: float = Field(
        1.0,
        alias="SWITCHBOARD_SCHEDULER_INTERVAL_S",
        gt=0,
        description="How often the scheduler looks for passed deadlines (mutes, idle chats).",
    )
    log_level: str = Field("INFO", alias="SWITCHBOARD_LOG_LEVEL")
