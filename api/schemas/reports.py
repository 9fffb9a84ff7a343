"""Reports for analysts: the SLA report and operator activity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

# -- reports --------------------------------------------------------------------------------------


class ReportPeriod(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from", description="Start of the period (included), UTC.")
    to: datetime = Field(description="End of the period (excluded), UTC.")
    tz: str = Field(description="The IANA time zone the days are counted in.")
    bucket: Literal["day", "none"]


class SlaReportPeriod(ReportPeriod):
    percentiles: Literal["exact", "estimated"] = Field(
        description="How p50_s and p90_s were found: exact over every response clock of the "
        "period, or, when the period holds more than 5,000 answered clocks of a kind, "
        "estimated from hourly histograms (within 2% of the exact value; counts, shares, "
        "averages and maxima are always exact)."
    )


class ResponseStats(BaseModel):
    count: int = Field(description="Clocks stopped by an operator's message in the period.")
    within_sl: int = Field(description="Of those, how many took at most the group's SL.")
    pct_within_sl: float | None = Field(description="100 * within_sl / count; null if count is 0.")
    avg_s: float | None
    p50_s: float | None = Field(description="Median seconds (PostgreSQL percentile_cont).")
    p90_s: float | None
    max_s: float | None
    unanswered: int = Field(
        description="Clocks still running when their chat closed; not in the figures above."
    )


class CsatStats(BaseModel):
    count: int = Field(description="Rated chats closed in the period.")
    avg: float | None
    distribution: dict[str, int] = Field(description='Chats per score, "1" to "5".')


class ChatCounts(BaseModel):
    requested: int = Field(description="Chats handed off in the period.")
    closed: int = Field(description="Chats closed in the period.")
    abandoned: int = Field(description="Of those closed, how many had no operator message.")


class QueueStats(BaseModel):
    count: int = Field(description="Chats requested in the period that waited in a queue.")
    avg_wait_s: float | None = Field(description="Their total time in queues, on average.")
    max_wait_s: float | None
    waiting: int = Field(description="Chats requested in the period still in a queue.")


class SlaSections(BaseModel):
    first_response: ResponseStats
    next_response: ResponseStats
    csat: CsatStats
    chats: ChatCounts
    queue: QueueStats


class SlaBucket(SlaSections):
    date: Annotated[date, Field(description="The day, in the report's time zone.")]
    from_: datetime = Field(alias="from", description="Where the day starts (or the period).")
    to: datetime = Field(description="Where the day ends (or the period).")

    model_config = ConfigDict(populate_by_name=True)


class SlaReport(SlaSections):
    period: SlaReportPeriod
    buckets: list[SlaBucket] = Field(description="With bucket=day: every day of the period.")


class StatusSeconds(BaseModel):
    working: float = 0.0
    break_: float = Field(0.0, alias="break")
    leaving: float = 0.0
    absent: float = 0.0
    offline: float = 0.0

    model_config = ConfigDict(populate_by_name=True)


class OperatorDay(BaseModel):
    date: Annotated[date, Field(description="The day, in the report's time zone.")]
    seconds: StatusSeconds


class OperatorActivity(BaseModel):
    operator_id: UUID
    seconds: StatusSeconds = Field(description="Seconds in each status over the period.")
    days: list[OperatorDay] = Field(description="Days of the period with any time recorded.")


class OperatorActivityReport(BaseModel):
    period: ReportPeriod
    operators: list[OperatorActivity]
