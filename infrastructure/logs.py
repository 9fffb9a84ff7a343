"""Logging: readable lines by default, one JSON object per line with SWITCHBOARD_LOG_FORMAT=json.

Uvicorn's own access log is off; the API writes its own (``switchboard.access``) with the
route, status, duration and request id as fields.
"""

from __future__ import annotations

import logging.config
from typing import Any

from infrastructure.config import Config

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d"


def log_config(settings: Config) -> dict[str, Any]:
    level = settings.log_level.upper()
    formatter: dict[str, Any]
    if settings.log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
            # Pool and driver chatter is for debugging only.
            "psycopg.pool": {"level": "WARNING"},
        },
    }


def configure_logging(settings: Config) -> dict[str, Any]:
    config = log_config(settings)
    logging.config.dictConfig(config)
    return config
