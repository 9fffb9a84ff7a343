"""Reports for analysts: responses against the SLA, CSAT, chats, the queue; operator activity."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import MinPosition, RuntimeDep, require, wait_for_read_model
from api.errors import ApiError
from api.schemas import OperatorActivityReport, SlaReport
from application.auth import Principal
from projections.reports import BadPeriod, asked_period

router = APIRouter(prefix="/v1/reports", tags=["reports"])

ANALYSTS = ("analyst", "supervisor", "admin")
Analyst = Annotated[Principal, require(*ANALYSTS)]

When = Annotated[
    str | None,
    Query(
        max_length=64,
        description="ISO 8601 time with its UTC offset (`2026-11-21T00:00:00Z`), or a date "
        "(`2026-11-21`), meaning that day in `tz`: `from` its start, `to` its end.",
    ),
]
Zone = Annotated[
    str,
    Query(max_length=64, description="IANA time zone the days are counted in (`Europe/Berlin`)."),
]


@router.get("/sla", response_model=SlaReport)
def sla_report(
    container: RuntimeDep,
    caller: Analyst,
    since: Annotated[When, Query(alias="from")] = None,
    until: Annotated[When, Query(alias="to")] = None,
    group_id: UUID | None = None,
    operator_id: Annotated[UUID | None, Query(description="Who answered.")] = None,
    bucket: Literal["day", "none"] = "day",
    tz: Zone = "UTC",
    min_position: MinPosition = None,
) -> SlaReport:
    """First and next response against the SLA, CSAT, chats and the queue, over a period.

    Responses count in the period in which their clock stopped; chats requested and the queue
    by when the chat was requested; chats closed, abandoned and CSAT by when it closed. The
    period defaults to the 7 days up to now. With `bucket=day`, `buckets` has every day of
    the period in `tz`, each with the same sections.
    """
    wait_for_read_model(container, "reports", min_position)
    try:
        start, end = asked_period(since, until, now=container.app.clock.now())
        report = container.reports.sla_report(
            start, end, group_id=group_id, operator_id=operator_id, bucket=bucket, tz=tz
        )
    except BadPeriod as error:
        raise ApiError(422, "validation", str(error)) from error
    return SlaReport.model_validate(report)


@router.get("/operators", response_model=OperatorActivityReport)
def operator_activity(
    container: RuntimeDep,
    caller: Analyst,
    since: Annotated[When, Query(alias="from")] = None,
    until: Annotated[When, Query(alias="to")] = None,
    operator_id: UUID | None = None,
    tz: Zone = "UTC",
    min_position: MinPosition = None,
) -> OperatorActivityReport:
    """Seconds each operator spent in each status, per day in `tz` (a status held now counts
    up to now). The period defaults to the 7 days up to now."""
    wait_for_read_model(container, "reports", min_position)
    try:
        start, end = asked_period(since, until, now=container.app.clock.now())
        report = container.reports.operator_activity(
            start, end, now=container.app.clock.now(), operator_id=operator_id, tz=tz
        )
    except BadPeriod as error:
        raise ApiError(422, "validation", str(error)) from error
    return OperatorActivityReport.model_validate(report)
