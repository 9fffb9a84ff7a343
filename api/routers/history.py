"""History search: every chat, by its facts and by the words of its messages."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BeforeValidator, Field, WithJsonSchema

from api.deps import MinPosition, RuntimeDep, require, wait_for_read_model
from api.errors import ApiError
from api.schemas import HistoryRow, Page
from api.validation import no_nul
from application.auth import Principal
from domain.chat_status import MAX_RATING, MIN_RATING
from projections.history import HistoryFilters

router = APIRouter(prefix="/v1", tags=["reading"])

# Operators see the chats they held; the other reading roles see every chat.
READERS = ("operator", "supervisor", "admin", "analyst", "auditor")
Reader = Annotated[Principal, require(*READERS)]


def _blank_is_absent(value: Any) -> Any:
    """``?topic=&q=`` as a form sends it: an empty filter is no filter."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


BlankIsAbsent = BeforeValidator(_blank_is_absent)
Blank = Literal[""]  # in the OpenAPI document: an empty value is accepted, as no filter
Exact = Annotated[str | None, Query(max_length=200), BeforeValidator(no_nul), BlankIsAbsent]
# Documented as it is taken: ISO 8601 with a zone, or seconds since the epoch (UTC), or empty.
WHEN_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}, {"const": ""}]
}
When = Annotated[AwareDatetime | None, BlankIsAbsent, WithJsonSchema(WHEN_SCHEMA)]
Score = Annotated[int, Field(ge=MIN_RATING, le=MAX_RATING)]


@router.get("/history", response_model=Page[HistoryRow])
def history(
    container: RuntimeDep,
    caller: Reader,
    since: Annotated[
        When,
        Query(
            alias="from",
            description="Requested at or after this time (ISO 8601 with a time zone).",
        ),
    ] = None,
    until: Annotated[
        When,
        Query(alias="to", description="Requested before this time (ISO 8601 with a time zone)."),
    ] = None,
    topic: Exact = None,
    subtopic: Exact = None,
    operator_id: Annotated[
        UUID | Blank | None, Query(description="Any operator who held the chat."), BlankIsAbsent
    ] = None,
    group_id: Annotated[UUID | Blank | None, BlankIsAbsent] = None,
    rating: Annotated[Score | Blank | None, BlankIsAbsent] = None,
    phone: Exact = None,
    channel: Exact = None,
    status: Annotated[
        Literal["queued", "assigned", "active", "closed", ""] | None, BlankIsAbsent
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=1_000, description="Words in the messages (web search syntax)."),
        BeforeValidator(no_nul),
        BlankIsAbsent,
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    min_position: MinPosition = None,
) -> Page[HistoryRow]:
    """Chats matching every filter given, newest first.

    Supervisors, admins, analysts and auditors search every chat; an operator searches only
    the chats they held (at any time, whoever holds them now). Times need a time zone.
    """
    if since is not None and until is not None and since > until:
        raise ApiError(422, "validation", "from must not be after to")
    wait_for_read_model(container, "history", min_position)
    held_by = None
    if caller.role == "operator":
        if caller.operator_id is None:
            return Page[HistoryRow](items=[], next_cursor=None)  # held nothing, sees nothing
        held_by = caller.operator_id
    filters = HistoryFilters(
        since=since,
        until=until,
        topic=topic,
        subtopic=subtopic,
        operator_id=operator_id,
        group_id=group_id,
        rating=rating,
        phone=phone,
        channel=channel,
        status=status,
        q=q,
    )
    rows, next_cursor = container.history.search(
        filters, held_by=held_by, cursor=cursor, limit=limit
    )
    return Page[HistoryRow](
        items=[HistoryRow.model_validate(row) for row in rows], next_cursor=next_cursor
    )
