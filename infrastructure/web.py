"""The ASGI application as uvicorn builds it, in ``serve`` and in each of ``--workers N``."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_api
from infrastructure.bootstrap import build
from infrastructure.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API; with ``SWITCHBOARD_WORKER=inline`` its process also does the worker's part."""
    settings = settings or Settings()
    return create_api(
        lambda: build(settings, run_projections=settings.worker == "inline"),
        max_body_bytes=settings.max_body_bytes,
    )
