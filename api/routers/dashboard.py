"""Reading the projections: the operators' dashboard."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import MinPosition, RuntimeDep, Staff, wait_for_read_model
from api.schemas import DashboardRow, Page
from api.views import dashboard_row
from projections.dashboard.projection import Viewer

router = APIRouter(prefix="/v1", tags=["reading"])


@router.get("/dashboard", response_model=Page[DashboardRow])
def dashboard(
    container: RuntimeDep,
    caller: Staff,
    tab: Literal["mine", "queue", "closed", "all"] = "mine",
    operator_id: UUID | None = None,
    group_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    min_position: MinPosition = None,
) -> Page[DashboardRow]:
    """A tab of the dashboard: operators see their chats and their groups' queues."""
    wait_for_read_model(container, "dashboard", min_position)
    rows, next_cursor = container.dashboard.rows(
        tab,
        Viewer(operator_id=caller.operator_id, supervises=caller.supervises),
        operator_id=operator_id,
        group_id=group_id,
        cursor=cursor,
        limit=limit,
    )
    return Page[DashboardRow](items=[dashboard_row(r) for r in rows], next_cursor=next_cursor)
