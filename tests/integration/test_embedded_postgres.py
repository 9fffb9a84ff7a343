"""The embedded PostgreSQL (``make run`` without DATABASE_URL) runs with the memory settings of
the typed configuration, from its first start on and at every start after."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infrastructure.config import Config
from infrastructure.database import EmbeddedPostgres

NAMES = ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem")


def shown(embedded: EmbeddedPostgres) -> dict[str, str]:
    database = embedded.start()
    try:
        with database.connect() as conn:
            return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in NAMES}
    finally:
        embedded.stop()


def test_the_embedded_postgres_runs_with_the_configured_memory(tmp_path: Path) -> None:
    config = Config(
        SWITCHBOARD_PG_SHARED_BUFFERS="160MB",
        SWITCHBOARD_PG_EFFECTIVE_CACHE_SIZE="1GB",
        SWITCHBOARD_PG_WORK_MEM="12MB",
        SWITCHBOARD_PG_MAINTENANCE_WORK_MEM="96MB",
    )
    expected = {
        "shared_buffers": "160MB",
        "effective_cache_size": "1GB",
        "work_mem": "12MB",
        "maintenance_work_mem": "96MB",
    }
    # A new data directory: shared_buffers needs a restart, which its first start makes.
    assert shown(EmbeddedPostgres(tmp_path, config.embedded_postgres_settings())) == expected
    # Changed settings apply at the next start of an existing one.
    changed = Config(SWITCHBOARD_PG_SHARED_BUFFERS="144MB", SWITCHBOARD_PG_WORK_MEM="8MB")
    again = shown(EmbeddedPostgres(tmp_path, changed.embedded_postgres_settings()))
    assert again["shared_buffers"] == "144MB"
    assert again["work_mem"] == "8MB"


def test_the_defaults_suit_a_chat_engine_and_sizes_are_checked() -> None:
    settings = Config().embedded_postgres_settings()
    assert settings["shared_buffers"] == "512MB"
    assert set(NAMES) <= set(settings)
    with pytest.raises(ValidationError):
        Config(SWITCHBOARD_PG_WORK_MEM="lots")
