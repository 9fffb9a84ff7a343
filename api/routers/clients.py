"""The client card: search, read, edit, notes, tags, block and unblock (staff)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from pydantic import BeforeValidator

from api.client_views import client_out, client_row_out
from api.deps import AppDep, MinPosition, RuntimeDep, Staff, positioned, wait_for_read_model
from api.routers.history import BlankIsAbsent, Exact
from api.schemas.clients import (
    BlockIn,
    ClientNoteIn,
    ClientNoteOut,
    ClientOut,
    ClientPatch,
    ClientTagsIn,
)
from api.schemas.common import Page
from api.validation import no_nul
from projections.clients import ClientFilters

router = APIRouter(prefix="/v1/clients", tags=["clients"])


@router.get("", response_model=Page[ClientOut])
def list_clients(
    runtime: RuntimeDep,
    caller: Staff,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Part of the name, username, phone or e-mail."),
        BeforeValidator(no_nul),
        BlankIsAbsent,
    ] = None,
    tag: Exact = None,
    phone: Exact = None,
    blocked: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    min_position: MinPosition = None,
) -> Page[ClientOut]:
    """Client cards matching every filter given, the most recently seen first."""
    wait_for_read_model(runtime, "clients", min_position)
    filters = ClientFilters(q=q, tag=tag, phone=phone, blocked=blocked)
    rows, next_cursor = runtime.clients.search(filters, cursor=cursor, limit=limit)
    return Page[ClientOut](items=[client_row_out(row) for row in rows], next_cursor=next_cursor)


@router.get("/{client_id}", response_model=ClientOut)
def get_client(client_id: UUID, app: AppDep, caller: Staff) -> ClientOut:
    return client_out(app.get_client(client_id))


@router.patch("/{client_id}", response_model=ClientOut)
def update_client(
    client_id: UUID, body: ClientPatch, app: AppDep, caller: Staff, response: Response
) -> ClientOut:
    done = app.edit_client(client_id, body.model_dump(exclude_unset=True), caller=caller)
    positioned(response, done)
    return client_out(done.value)


@router.post(
    "/{client_id}/notes", status_code=status.HTTP_201_CREATED, response_model=ClientNoteOut
)
def add_client_note(
    client_id: UUID, body: ClientNoteIn, app: AppDep, caller: Staff, response: Response
) -> ClientNoteOut:
    done = app.add_client_note(client_id, body.text, caller=caller)
    positioned(response, done)
    return ClientNoteOut(**done.value)


@router.delete("/{client_id}/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_client_note(
    client_id: UUID, note_id: UUID, app: AppDep, caller: Staff, response: Response
) -> None:
    positioned(response, app.delete_client_note(client_id, note_id, caller=caller))


@router.put("/{client_id}/tags", response_model=ClientOut)
def set_client_tags(
    client_id: UUID, body: ClientTagsIn, app: AppDep, caller: Staff, response: Response
) -> ClientOut:
    done = app.set_client_tags(client_id, body.tags, caller=caller)
    positioned(response, done)
    return client_out(done.value)


@router.post("/{client_id}/block", response_model=ClientOut)
def block_client(
    client_id: UUID, app: AppDep, caller: Staff, response: Response, body: BlockIn | None = None
) -> ClientOut:
    """Supervisors, and operators when ``operators_may_block_clients`` is on. The client's
    open chats close (``close_reason`` ``blocked``); new handoffs and messages are refused."""
    done = app.block_client(client_id, body.reason if body else None, caller=caller)
    positioned(response, done)
    return client_out(done.value)


@router.post("/{client_id}/unblock", response_model=ClientOut)
def unblock_client(client_id: UUID, app: AppDep, caller: Staff, response: Response) -> ClientOut:
    done = app.unblock_client(client_id, caller=caller)
    positioned(response, done)
    return client_out(done.value)
