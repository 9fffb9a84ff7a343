"""Request and response bodies: the shapes of API.md, separate from the domain's objects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

T = TypeVar("T")


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
ShortText = Annotated[str, Field(max_length=2_000), AfterValidator(_no_nul)]
MessageText = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_no_nul)]
StaffRole = Literal["operator", "supervisor", "admin"]
AnyRole = Literal["admin", "supervisor", "operator", "bot", "analyst", "auditor"]
SettableStatus = Literal["working", "break", "leaving", "offline"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


# -- tokens ---------------------------------------------------------------------------------------


class TokenIn(Body):
    role: AnyRole
    name: Name
    operator_id: UUID | None = None


class TokenOut(BaseModel):
    token: str = Field(description="Shown this once; only its hash is kept.")
    role: str
    name: str
    operator_id: UUID | None = None


# -- groups ---------------------------------------------------------------------------------------


class GroupIn(Body):
    name: Name
    description: ShortText = ""
    sl_first_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    sl_next_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    routing: Literal["auto", "manual"] = "auto"


class GroupPatch(Body):
    name: Name | None = None
    description: ShortText | None = None
    sl_first_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    sl_next_response_s: int | None = Field(None, ge=1, le=86_400 * 7)
    routing: Literal["auto", "manual"] | None = None


class GroupOut(BaseModel):
    id: UUID
    name: str
    description: str
    sl_first_response_s: int
    sl_next_response_s: int
    routing: str


# -- operators ------------------------------------------------------------------------------------


class OperatorIn(Body):
    first_name: Name
    last_name: Name
    email: EmailStr
    role: StaffRole = "operator"
    group_ids: list[UUID] = Field(default_factory=list, max_length=100)
    max_chats: int = Field(300, ge=0, le=10_000)
    auto_logout_s: int = Field(0, ge=0, le=86_400 * 7)


class OperatorPatch(Body):
    first_name: Name | None = None
    last_name: Name | None = None
    email: EmailStr | None = None
    role: StaffRole | None = None
    group_ids: list[UUID] | None = Field(None, max_length=100)
    max_chats: int | None = Field(None, ge=0, le=10_000)
    auto_logout_s: int | None = Field(None, ge=0, le=86_400 * 7)


class StatusIn(Body):
    status: SettableStatus


class OperatorOut(BaseModel):
    id: UUID
    first_name: str
    last_name: str
    email: str
    role: str
    group_ids: list[UUID]
    max_chats: int
    status: str
    status_since: datetime | None = None
    load: int
    auto_logout_s: int = 0


class OperatorCreated(OperatorOut):
    token: str = Field(description="The operator's token, shown this once.")


# -- chats ----------------------------------------------------------------------------------------


class ClientIn(Body):
    id: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
    name: Name | None = None
    phone: Annotated[str, Field(max_length=50), AfterValidator(_no_nul)] | None = None
    channel: Annotated[str, Field(max_length=50), AfterValidator(_no_nul)] | None = None
    language: Annotated[str, Field(max_length=20), AfterValidator(_no_nul)] | None = None


class TranscriptLine(Body):
    author: Literal["client", "bot"]
    text: MessageText
    at: datetime | None = None


class HandoffIn(Body):
    external_id: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
    client: ClientIn
    topic: Name | None = None
    subtopic: Name | None = None
    group_id: UUID | None = None
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=500)


class MessageIn(Body):
    text: MessageText
    author: Literal["client", "bot"] | None = Field(
        None, description="For bots: 'client' (default) relays the client, 'bot' writes as the bot."
    )


class MessageOut(BaseModel):
    message_id: UUID
    chat_id: UUID
    author: str
    author_id: str | None = None
    text: str
    at: datetime
    edited_at: datetime | None = None
    deleted: bool = False


class MessageEditIn(Body):
    text: MessageText


class MessagesPage(BaseModel):
    items: list[MessageOut]
    chat_status: str = Field(description="'closed' tells the bot the chat is back with it.")


class RatingIn(Body):
    score: int = Field(ge=1, le=5)
    comment: ShortText | None = None


class CloseIn(Body):
    reason: ShortText | None = None


class MuteIn(Body):
    minutes: int | None = Field(
        None, ge=1, le=7 * 24 * 60, description="Lift the mute by itself after this long."
    )


class ReassignIn(Body):
    operator_id: UUID | None = None
    group_id: UUID | None = None

    @model_validator(mode="after")
    def _names_a_target(self) -> ReassignIn:
        if self.operator_id is None and self.group_id is None:
            raise ValueError("name an operator_id, a group_id, or both")
        return self


class ChatPatch(Body):
    """Only the fields given change; null clears one."""

    topic: Name | None = None
    subtopic: Name | None = None


class ChatOut(BaseModel):
    id: UUID
    external_id: str
    status: str
    group_id: UUID | None
    operator_id: UUID | None
    client: dict[str, Any]
    topic: str | None
    subtopic: str | None
    muted: bool
    muted_until: datetime | None = None
    requested_at: datetime
    closed_at: datetime | None
    rating: int | None
    version: int


class PreviousChat(BaseModel):
    id: UUID
    status: str
    topic: str | None
    subtopic: str | None
    operator_id: UUID | None
    requested_at: datetime
    closed_at: datetime | None
    rating: int | None


class ChatDetailOut(ChatOut):
    messages: list[MessageOut]
    previous_chats: list[PreviousChat] = Field(
        default_factory=list,
        description="The same client's other chats (same client id and channel), newest "
        "first; staff and auditors see them, on the current state only.",
    )


# -- reading --------------------------------------------------------------------------------------


class LastMessage(BaseModel):
    text: str
    author: str
    at: datetime


class DashboardRow(BaseModel):
    id: UUID
    external_id: str
    status: str
    operator_id: UUID | None
    group_id: UUID | None
    client_label: str
    topic: str | None
    subtopic: str | None
    requested_at: datetime
    closed_at: datetime | None
    waiting_since: datetime | None
    sl_due_at: datetime | None
    muted: bool
    muted_until: datetime | None = None
    rating: int | None
    last_message: LastMessage | None
    position: int = Field(
        0, description="The log position of this row's latest change (a stream event's id)."
    )


class ChatEventOut(BaseModel):
    version: int
    type: str
    occurred_at: datetime
    actor: str | None
    data: dict[str, Any]


# -- company settings -------------------------------------------------------------------------

Minutes = Annotated[int, Field(ge=1, le=7 * 24 * 60)]


class SettingsOut(BaseModel):
    greeting_template: str = Field(
        description="System message on intercept; may use {first_name} and {last_name}; "
        "empty sends none."
    )
    require_topic_to_close: bool
    rating_prompt: bool = Field(description="On close, a system message asks for a rating.")
    rating_prompt_text: str
    operators_may_reassign: bool
    inactivity_close_minutes: int | None = Field(
        description="Close an active chat whose client is silent this long; null: never."
    )
    absent_after_minutes: int | None = Field(
        description="Mark a working operator absent after this long without activity; null: "
        "never. An operator's own auto_logout_s, when set, wins."
    )
    forbid_message_edits: bool


class SettingsIn(Body):
    """Only the settings given change; the others keep their values."""

    greeting_template: Annotated[str, Field(max_length=1_000), AfterValidator(_no_nul)] | None = (
        None
    )
    require_topic_to_close: bool | None = None
    rating_prompt: bool | None = None
    rating_prompt_text: Annotated[str, Field(max_length=1_000), AfterValidator(_no_nul)] | None = (
        None
    )
    operators_may_reassign: bool | None = None
    inactivity_close_minutes: Minutes | None = None
    absent_after_minutes: Minutes | None = None
    forbid_message_edits: bool | None = None

    @model_validator(mode="after")
    def _null_only_turns_minutes_off(self) -> SettingsIn:
        for name in self.model_fields_set - {"inactivity_close_minutes", "absent_after_minutes"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The settings the caller sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}


# -- history --------------------------------------------------------------------------------------


class HistoryRow(BaseModel):
    id: UUID
    external_id: str
    status: str
    group_id: UUID | None
    operator_id: UUID | None = Field(
        description="Who holds the chat now; for a closed chat, who held it at close."
    )
    operator_ids: list[UUID] = Field(description="Every operator who held the chat, in order.")
    client: dict[str, Any]
    topic: str | None
    subtopic: str | None
    requested_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    rating: int | None
    message_count: int = Field(
        description="Messages of the client, the bot and operators; deleted ones not counted."
    )
    headline: str | None = Field(
        None, description="With q: the matched words in context, marked «like this»."
    )


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
