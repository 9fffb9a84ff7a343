"""Prometheus metrics and the access log: requests and latencies by route, commands by type,
the event log's position, read model lag, and live stream clients.

Several API processes behind one port (``serve --workers N``) share their figures through
``PROMETHEUS_MULTIPROC_DIR``, which ``serve`` sets up; one process keeps its own registry.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("switchboard.access")
SECRET_PATH_PARAMS = frozenset({"code"})  # never written to a log

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STREAMING_ROUTES = frozenset({"/v1/stream"})  # open for minutes: their duration is no latency
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # In multiprocess mode every process writes its values to files; a scrape reads them all.
        registry = None if self.multiprocess else CollectorRegistry()
        self._registry = registry
        self._read_side = ReadSideCollector()
        if registry is not None:
            registry.register(self._read_side)
        self.requests = Counter(
            "switchboard_http_requests_total",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "switchboard_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.commands = Counter(
            "switchboard_commands_total",
            "Commands by type and outcome (ok, rejected: 4xx, failed: 5xx).",
            ["command", "outcome"],
            registry=registry,
        )
        self.stream_clients = Gauge(
            "switchboard_stream_clients",
            "Live stream (SSE) clients connected.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.stream_events_sent = Counter(
            "switchboard_stream_events_total",
            "Live stream events handed to clients.",
            registry=registry,
        )
        self.stream_closes = Counter(
            "switchboard_stream_closed_total",
            "Live streams ended, by reason (client, slow, send_timeout, shutdown, access_ended).",
            ["reason"],
            registry=registry,
        )
        self.live_resyncs = Counter(
            "switchboard_live_resyncs_total",
            "Times the live stream read changes from the read model (the broker missed them).",
            registry=registry,
        )
        self.broker_connected = Gauge(
            "switchboard_broker_connected",
            "1 while the live updates broker (Redis) is reachable.",
            registry=registry,
            multiprocess_mode="min",
        )

    # -- the stream hub's hooks ---------------------------------------------------------------

    def stream_opened(self) -> None:
        self.stream_clients.inc()

    def stream_closed(self, reason: str) -> None:
        self.stream_clients.dec()
        self.stream_closes.labels(reason).inc()

    def stream_events(self, count: int) -> None:
        self.stream_events_sent.inc(count)

    def live_resync(self) -> None:
        self.live_resyncs.inc()

    # -- exposition ---------------------------------------------------------------------------

    def observe_state(
        self, head: int | None, positions: dict[str, int], broker_connected: bool
    ) -> None:
        """What the next ``render`` reports of the log and the read models, and the broker."""
        self._read_side.observe(head, positions)
        self.broker_connected.set(1 if broker_connected else 0)

    def render(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(registry)
            # The log and the read models are the database's, not a process's: any one tells.
            registry.register(self._read_side)
            return generate_latest(registry)
        return generate_latest(self._registry)


def read_side_families(head: int | None, positions: Mapping[str, int]) -> list[Metric]:
    """The event log's position and each read model's position and lag: one definition for
    the API's ``/metrics`` and the worker's metrics port. ``head`` None: the database is away."""
    log_position = GaugeMetricFamily(
        "switchboard_event_log_position", "The last position of the event log."
    )
    position = GaugeMetricFamily(
        "switchboard_read_model_position",
        "The log position each read model has reached.",
        labels=["read_model"],
    )
    lag = GaugeMetricFamily(
        "switchboard_read_model_lag_events",
        "Events each read model trails the event log by.",
        labels=["read_model"],
    )
    if head is not None:
        log_position.add_metric([], head)
    for name, at in positions.items():
        position.add_metric([name], at)
        if head is not None:
            lag.add_metric([name], max(head - at, 0))
    return [log_position, position, lag]


class ReadSideCollector:
    """Reports the read side as last observed (the ``/metrics`` route observes it first)."""

    def __init__(self) -> None:
        self._head: int | None = None
        self._positions: dict[str, int] = {}

    def observe(self, head: int | None, positions: Mapping[str, int]) -> None:
        self._head, self._positions = head, dict(positions)

    def collect(self) -> Iterable[Metric]:
        return read_side_families(self._head, self._positions)


class MetricsMiddleware:
    """Counts and times every request by its route template, and writes the access log."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        if template not in STREAMING_ROUTES:
            self.metrics.latency.labels(method, template).observe(seconds)
        if method in COMMAND_METHODS and route is not None:
            outcome = "ok" if status < 400 else "rejected" if status < 500 else "failed"
            self.metrics.commands.labels(getattr(route, "name", template), outcome).inc()
        path = _loggable_path(scope)
        access_log.info(
            "%s %s %s %.1fms",
            method,
            path,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "path": path,
                "route": template,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "request_id": request_id,
            },
        )


def _loggable_path(scope: Scope) -> str:
    """The request's path with secrets in it (an invitation code) masked."""
    path, params = scope["path"], scope.get("path_params") or {}
    for name in SECRET_PATH_PARAMS & params.keys():
        path = path.replace(str(params[name]), "***")
    return path


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex
