"""The FastAPI application: routers, error handlers, limits; the runtime comes from outside."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.console import mount_console
from api.errors import install_error_handlers, problem
from api.metrics import Metrics, MetricsMiddleware
from api.problems import document_problems
from api.routers import (
    chats,
    clients,
    dashboard,
    events,
    history,
    me,
    notes,
    operator_access,
    ops,
    questions,
    quick_replies,
    reports,
    sessions,
    settings,
    staff,
    stream,
    tokens,
    webhooks,
)
from api.runtime import Runtime

DESCRIPTION = """Switchboard hands customer chats from bots to human operators.

Authenticate with `Authorization: Bearer <token>`. Errors are `application/problem+json`
with a stable `code`. Every command answers with `X-Position`; pass it as `min_position` to
a query to read your own write.
"""


class BodySizeLimit:
    """Refuse bodies over ``limit`` bytes with 413 before they reach a route."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length (a chunked body): read it here, within the limit, then replay it.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(413, "too_large", f"request bodies are at most {self.limit} bytes")
        await response(scope, receive, send)


class DatabaseGuard:
    """While the database is known to be down, API requests get 503 at once instead of each
    waiting out the connection pool's retries."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            runtime = getattr(scope["app"].state, "runtime", None)
            if runtime is not None and not runtime.database_up:
                response = problem(503, "unavailable", "the database cannot be reached")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_api(
    build_runtime: Callable[[], Runtime], *, metrics: Metrics, max_body_bytes: int
) -> FastAPI:
    """The API over a runtime built (and started, and stopped) with the app's lifespan;
    ``metrics`` are the ones the runtime's stream hub reports to."""

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime()
        runtime.start()
        api.state.runtime = runtime
        try:
            await runtime.hub.start()
            yield
        finally:
            await runtime.hub.stop()
            runtime.stop()

    api = FastAPI(
        title="Switchboard",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    api.state.metrics = metrics
    install_error_handlers(api)
    routers = (
        staff,
        operator_access,
        me,
        sessions,
        tokens,
        chats,
        notes,
        questions,
        quick_replies,
        settings,
        dashboard,
        stream,
    )
    for module in (*routers, clients, history, reports, ops, webhooks, events):
        api.include_router(module.router)
    document_problems(api)
    mount_console(api)  # after the API's documentation: the console is not an operation
    api.add_middleware(BodySizeLimit, limit=max_body_bytes)
    api.add_middleware(DatabaseGuard)
    api.add_middleware(MetricsMiddleware, metrics=metrics)
    return api
