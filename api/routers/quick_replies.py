"""Quick replies: staff list those they may use; supervisors keep the company's and groups';
each operator keeps their own."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import AppDep, Staff, positioned
from api.errors import ApiError
from api.schemas.quick_replies import QuickReplyIn, QuickReplyOut, QuickReplyPage, QuickReplyPatch
from domain.quick_reply import QuickReply

router = APIRouter(prefix="/v1/quick-replies", tags=["quick replies"])


def reply_out(reply: QuickReply) -> QuickReplyOut:
    return QuickReplyOut(
        id=reply.id,
        shortcut=reply.shortcut,
        text=reply.text,
        title=reply.title,
        scope=reply.scope,
        group_id=reply.group_id,
        owner_id=reply.owner_id,
    )


@router.get("", response_model=QuickReplyPage)
def list_quick_replies(
    app: AppDep,
    caller: Staff,
    q: Annotated[str | None, Query(max_length=200)] = None,
    group_id: UUID | None = None,
) -> QuickReplyPage:
    """The company's, the caller's groups' and their own, by shortcut; ``q`` searches the
    shortcut, title and text."""
    replies = app.list_quick_replies(caller=caller, q=q, group_id=group_id)
    return QuickReplyPage(items=[reply_out(r) for r in replies])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=QuickReplyOut)
def create_quick_reply(
    body: QuickReplyIn, app: AppDep, caller: Staff, response: Response
) -> QuickReplyOut:
    done = app.create_quick_reply(
        shortcut=body.shortcut,
        text=body.text,
        title=body.title,
        group_id=body.group_id,
        personal=body.personal,
        caller=caller,
    )
    positioned(response, done)
    return reply_out(done.value)


@router.patch("/{reply_id}", response_model=QuickReplyOut)
def update_quick_reply(
    reply_id: UUID, body: QuickReplyPatch, app: AppDep, caller: Staff, response: Response
) -> QuickReplyOut:
    changes = body.model_dump(include=body.model_fields_set)
    if any(changes.get(name) is None for name in ("shortcut", "text") if name in changes):
        raise ApiError(422, "validation", "shortcut and text cannot be null")
    done = app.update_quick_reply(reply_id, changes, caller=caller)
    positioned(response, done)
    return reply_out(done.value)


@router.delete("/{reply_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_quick_reply(reply_id: UUID, app: AppDep, caller: Staff, response: Response) -> None:
    done = app.delete_quick_reply(reply_id, caller=caller)
    positioned(response, done)
