"""Operations: liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import RuntimeDep
from api.metrics import CONTENT_TYPE, Metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


NOT_READY = {
    "description": "Not ready: the database cannot be reached, or a read model lags too far.",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


@router.get("/readyz", responses={503: NOT_READY})
def readyz(container: RuntimeDep) -> JSONResponse:
    """The database answers and every read model is within ``SWITCHBOARD_READY_LAG`` events
    of the log; 503 otherwise (a load balancer sends this process no traffic meanwhile)."""
    unavailable = JSONResponse(
        {"status": "unavailable", "detail": "the database cannot be reached"}, status_code=503
    )
    if not container.database_up:
        return unavailable
    try:
        head = container.app.head() or 0
    except Exception:
        return unavailable
    lags = {name: max(head - position, 0) for name, position in container.positions().items()}
    ready = all(lag <= container.config.ready_lag for lag in lags.values())
    return JSONResponse(
        {
            "status": "ok" if ready else "lagging",
            "position": head,
            "lag": lags,
            "live_broker": "connected" if container.broker.connected else "unreachable",
        },
        status_code=200 if ready else 503,
    )


@router.get("/metrics", response_class=Response)
def metrics(request: Request, container: RuntimeDep) -> Response:
    """Prometheus text: requests and latencies by route, commands by type, the event log's
    position, read model positions and lag, live stream clients."""
    recorder: Metrics = request.app.state.metrics
    head = None  # the database is away: the rest still tells something
    if container.database_up:
        try:
            head = container.app.head() or 0
        except Exception:
            head = None
    recorder.observe_state(head, container.positions(), container.broker.connected)
    return Response(recorder.render(), media_type=CONTENT_TYPE)
