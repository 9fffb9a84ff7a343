"""The ASGI application as uvicorn builds it, in ``serve`` and in each of ``--workers N``."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_api
from api.metrics import Metrics
from infrastructure.bootstrap import build
from infrastructure.config import Config


def create_app(config: Config | None = None) -> FastAPI:
    """The API; with ``SWITCHBOARD_WORKER=inline`` its process also does the worker's part."""
    config = config or Config()
    metrics = Metrics()
    return create_api(
        lambda: build(config, run_projections=config.worker == "inline", stream_metrics=metrics),
        metrics=metrics,
        max_body_bytes=config.max_body_bytes,
    )
