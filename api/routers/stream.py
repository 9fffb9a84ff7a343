"""The live stream: the caller's dashboard changes as Server-Sent Events."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.deps import RuntimeDep, bearer, current_principal
from api.errors import ApiError, forbidden
from api.event_stream import EventStreamResponse
from application.auth import Principal
from projections.dashboard import Viewer

router = APIRouter(prefix="/v1", tags=["reading"])

STREAM_ROLES = ("operator", "supervisor", "admin")


def stream_principal(
    request: Request,
    container: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    access_token: Annotated[
        str | None,
        Query(
            max_length=500,
            description="The token, for clients that cannot set headers (a browser EventSource).",
        ),
    ] = None,
) -> Principal:
    if credentials is None and access_token is not None:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=access_token)
    principal = current_principal(request, container, credentials)
    if principal.role not in STREAM_ROLES:
        raise forbidden(f"this needs one of the roles: {', '.join(STREAM_ROLES)}")
    return principal


@router.get(
    "/stream",
    status_code=200,
    response_class=EventStreamResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    container: RuntimeDep,
    caller: Annotated[Principal, Depends(stream_principal)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> EventStreamResponse:
    """The caller's dashboard changes as they happen (Server-Sent Events).

    Events: `chat` (a dashboard row as it now is), `chat_removed` (a chat left the caller's
    view: reassigned away, or taken from a queue), `ready` (live from here on), `reset` (too
    far behind, or another set of queues: reload the dashboard, then go on). Every event's
    `id` is a log position: reconnect with `Last-Event-ID` to get what you missed.
    `ended` (no `id`), then the end of the stream: the token was revoked, the session ended
    or the operator was deactivated; reconnecting is refused (401).
    """
    last_id = _last_event_id(last_event_id)
    hub = container.hub
    viewer = Viewer(operator_id=caller.operator_id, supervises=caller.supervises)
    client, backlog = await hub.connect(viewer, last_id, caller)
    config = container.config
    shutdown = anyio.Event()  # set by the response when the server shuts down
    return EventStreamResponse(
        hub.events(client, backlog, shutdown=shutdown),
        heartbeat_s=config.stream_heartbeat_s,
        send_timeout=config.stream_send_timeout_s,
        on_timeout=lambda: hub.disconnect(client, "send_timeout"),
        shutdown=shutdown,
    )


def _last_event_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ApiError(422, "validation", "Last-Event-ID must be an id this stream sent")
    return int(value)
