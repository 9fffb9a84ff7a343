"""Reading the projections: the operators' dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import MinPosition, RuntimeDep, Staff, wait_for_read_model
from api.runtime import Runtime
from api.schemas import DashboardRow, Page
from api.views import dashboard_row
from application.auth import Principal
from projections.dashboard import Viewer

router = APIRouter(prefix="/v1", tags=["reading"])


def wait_for_read_models(
    container: Runtime, names: Sequence[str], min_position: int | None
) -> None:
    """Read-your-writes for a query that reads several read models: each has reached it."""
    for name in names:
        wait_for_read_model(container, name, min_position)


def viewer_of(container: Runtime, caller: Principal, *, own_groups: bool = False) -> Viewer:
    """The caller as the visibility rule sees them; an operator's groups from the directory
    (a supervisor's too with ``own_groups``: their "new" tab shows their groups' queues)."""
    groups: frozenset[UUID] = frozenset()
    if (own_groups or not caller.supervises) and caller.operator_id is not None:
        groups = frozenset(container.directory.groups_of(caller.operator_id))
    return Viewer(caller.operator_id, caller.supervises, groups)


TAB_HELP = (
    "`mine`: the caller's assigned and active chats; `queue`: the queued chats the caller "
    "sees; `closed`; `all`; `new`: chats assigned to the caller and not yet intercepted, and "
    "the caller's groups' queues; `active`: the caller's intercepted chats; `help`: chats "
    "waiting in no group (a chat waiting in a deleted group moves there), seen by every "
    "operator."
)


@router.get("/dashboard", response_model=Page[DashboardRow])
def dashboard(
    container: RuntimeDep,
    caller: Staff,
    tab: Annotated[
        Literal["mine", "queue", "closed", "all", "new", "active", "help"],
        Query(description=TAB_HELP),
    ] = "mine",
    operator_id: UUID | None = None,
    group_id: UUID | None = None,
    status: Annotated[
        Literal["queued", "assigned", "active", "closed"] | None,
        Query(description="Only chats in this status (within the tab); another value is 422."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    min_position: MinPosition = None,
) -> Page[DashboardRow]:
    """A tab of the dashboard: operators see their chats, their groups' queues and the help
    queue."""
    # The rows are the dashboard's; an operator's groups, the directory's.
    wait_for_read_models(container, ("dashboard", "directory"), min_position)
    rows, next_cursor = container.dashboard.rows(
        tab,
        viewer_of(container, caller, own_groups=tab == "new"),
        operator_id=operator_id,
        group_id=group_id,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return Page[DashboardRow](items=[dashboard_row(r) for r in rows], next_cursor=next_cursor)
