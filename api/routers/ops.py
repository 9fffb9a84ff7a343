"""Operations: liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ContainerDep

router = APIRouter(tags=["operations"])

READY_LAG = 1_000  # events a read model may trail the log by and still count as ready


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(container: ContainerDep) -> JSONResponse:
    """The database answers and every read model is within ``READY_LAG`` events of the log."""
    try:
        head = container.app.head() or 0
    except Exception as error:
        return JSONResponse({"status": "unavailable", "detail": str(error)}, status_code=503)
    lags = {name: head - position for name, position in container.positions().items()}
    ready = all(lag <= READY_LAG for lag in lags.values())
    return JSONResponse(
        {"status": "ok" if ready else "lagging", "position": head, "lag": lags},
        status_code=200 if ready else 503,
    )
