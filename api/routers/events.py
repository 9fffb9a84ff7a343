"""The bot's feed: Events after a log position, with long polling (API.md, "The bot's feed")."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep, require
from api.event_views import event_json
from api.schemas.webhooks import EventOut, EventsPage
from api.shutdown import server_exiting
from application.auth import Principal
from projections.machinery.positions import wait_async

router = APIRouter(prefix="/v1", tags=["events"])
# Bots read the Events of the chats they handed off; admins and auditors every Event.
Reader = Annotated[Principal, require("bot", "admin", "auditor")]
MAX_WAIT_S = 30


@router.get("/events", response_model=EventsPage)
async def list_events(
    runtime: RuntimeDep,
    caller: Reader,
    after: Annotated[int, Query(ge=0, description="A position: Events after it.")] = 0,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_S, description="Seconds to hold an empty answer.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> EventsPage:
    """Events in log order. With ``wait``, an empty answer is held until an Event arrives or
    ``wait`` passes; a request waiting holds no thread (it sleeps on the read model's
    position notifications). A server that begins to shut down answers a waiting request
    at once (empty, with ``next_after``), so that a restart is not held for ``wait``."""
    model = runtime.events_out
    bot = caller.name if caller.role == "bot" else None
    deadline = time.monotonic() + wait
    while True:
        # Read up to a position the read model has committed: what is beyond comes later.
        upto = runtime.waiter.position(model.name)
        rows = await run_in_threadpool(model.feed, after=after, upto=upto, bot=bot, limit=limit)
        if rows:
            # A full page may have more behind it; a short one is everything up to ``upto``.
            next_after = rows[-1]["position"] if len(rows) == limit else max(after, upto)
            return EventsPage(
                items=[EventOut(**event_json(row)) for row in rows], next_after=next_after
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0 or server_exiting():  # a stopping server answers what it has
            return EventsPage(items=[], next_after=max(after, upto))
        await wait_async(runtime.waiter, model.name, upto + 1, remaining, server_exiting)
