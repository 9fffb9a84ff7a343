"""Chats: the bot's handoff and messages, the operators' commands, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from api.client_views import client_out
from api.deps import (
    STAFF,
    AppDep,
    Bot,
    CurrentUser,
    MinPosition,
    RuntimeDep,
    Staff,
    positioned,
    require,
    wait_for_read_model,
)
from api.errors import ApiError, forbidden
from api.schemas import (
    ChatDetailOut,
    ChatEventOut,
    ChatOut,
    ChatPatch,
    CloseIn,
    HandoffIn,
    MessageEditIn,
    MessageIn,
    MessageOut,
    MessagesPage,
    MuteIn,
    Page,
    RatingIn,
    ReassignIn,
)
from api.views import chat_detail_out, chat_out, event_out, message_out
from application.app import Switchboard
from application.auth import Principal
from application.errors import NotFound
from domain.chat import Chat
from domain.client import client_id_of
from domain.visibility import ChatFacts, Viewer, sees

router = APIRouter(prefix="/v1/chats", tags=["chats"])

AUDIT_ROLES = ("auditor", "supervisor", "admin")
Auditor = Annotated[Principal, require(*AUDIT_ROLES)]


def _readable_chat(app: Switchboard, chat_id: UUID, caller: Principal) -> Chat:
    """Load a chat the caller may see: bots their own handoffs, auditors any, staff what the
    visibility rule lets them see (operators their chats and their groups' queues)."""
    chat = app.get_chat(chat_id)
    if caller.role == "bot":
        if chat.requested_by != caller.actor:
            raise forbidden("this chat was handed off by another bot")
    elif caller.role in STAFF:
        facts = ChatFacts(chat.status, chat.operator_id, chat.group_id)
        viewer = Viewer(caller.operator_id, caller.supervises)
        if not sees(viewer, facts) and caller.operator_id is not None:
            # Only a queue shows a chat through its group: read the groups for that alone.
            groups = frozenset(app.get_operator(caller.operator_id).group_ids)
            viewer = Viewer(caller.operator_id, caller.supervises, groups)
        if not sees(viewer, facts):
            raise forbidden("operators see their own chats and their groups' queues")
    elif caller.role != "auditor":
        raise forbidden("this role does not read chats")
    return chat


# -- the bot's side -------------------------------------------------------------------------------


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ChatOut,
    responses={200: {"model": ChatOut, "description": "The same handoff again"}},
)
def hand_off(
    body: HandoffIn,
    app: AppDep,
    caller: Bot,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ChatOut | JSONResponse:
    done = app.handoff(
        bot=caller,
        external_id=body.external_id,
        client=body.client.model_dump(exclude_none=True),
        topic=body.topic,
        subtopic=body.subtopic,
        group_id=body.group_id,
        transcript=[line.model_dump() for line in body.transcript],
        idempotency_key=idempotency_key,
        group_name=body.group,
        operator_id=body.operator_id,
    )
    positioned(response, done)
    if not done.recorded:
        response.status_code = status.HTTP_200_OK
    return chat_out(done.value)


@router.post("/{chat_id}/messages", status_code=status.HTTP_201_CREATED, response_model=MessageOut)
def post_message(
    chat_id: UUID, body: MessageIn, app: AppDep, caller: CurrentUser, response: Response
) -> MessageOut:
    """A bot relays the client's message (or writes as the bot, or relays a pressed button's
    value); staff reply, with buttons for the bot to show if they like."""
    attachments = [a.model_dump() for a in body.attachments]
    if caller.role == "bot":
        if body.buttons or body.quick_reply_id:
            raise ApiError(422, "validation", "buttons and quick replies are for operators")
        app.check_client_may_write(_readable_chat(app, chat_id, caller))
        if body.author == "bot":
            if body.button_value is not None:
                raise ApiError(422, "validation", "a button's value is relayed from the client")
            done = app.post_bot_message(chat_id, body.text, bot=caller, attachments=attachments)
        else:
            done = app.relay_client_message(
                chat_id,
                body.text,
                bot=caller,
                attachments=attachments,
                button_value=body.button_value,
            )
    elif caller.role in STAFF:
        if body.button_value is not None:
            raise ApiError(422, "validation", "button_value is relayed by bots")
        buttons = [b.model_dump() for b in body.buttons]
        if body.quick_reply_id is not None:
            done = app.reply_with_quick_reply(chat_id, body.quick_reply_id, caller=caller)
        else:
            done = app.reply(
                chat_id, body.text, caller=caller, attachments=attachments, buttons=buttons
            )
    else:
        raise forbidden("bots and staff write in chats")
    positioned(response, done)
    return message_out(chat_id, done.value)


@router.get("/{chat_id}/messages", response_model=MessagesPage)
def list_messages(
    chat_id: UUID, app: AppDep, caller: CurrentUser, after: UUID | None = None
) -> MessagesPage:
    """The messages after ``after`` (all of them without it): how a bot picks up replies."""
    chat = _readable_chat(app, chat_id, caller)
    return MessagesPage(
        items=[message_out(chat.id, m) for m in chat.messages_after(after)],
        chat_status=chat.status,
    )


@router.post("/{chat_id}/rating", response_model=ChatOut)
def rate(chat_id: UUID, body: RatingIn, app: AppDep, caller: Bot, response: Response) -> ChatOut:
    _readable_chat(app, chat_id, caller)
    done = app.rate(chat_id, body.score, body.comment, bot=caller)
    positioned(response, done)
    return chat_out(done.value)


# -- the operators' side --------------------------------------------------------------------------


@router.post("/{chat_id}/intercept", response_model=ChatOut)
def intercept(chat_id: UUID, app: AppDep, caller: Staff, response: Response) -> ChatOut:
    done = app.intercept(chat_id, caller=caller)
    positioned(response, done)
    return chat_out(done.value)


@router.post("/{chat_id}/close", response_model=ChatOut)
def close(
    chat_id: UUID, app: AppDep, caller: Staff, response: Response, body: CloseIn | None = None
) -> ChatOut:
    done = app.close_chat(chat_id, caller=caller, reason=body.reason if body else None)
    positioned(response, done)
    return chat_out(done.value)


@router.post("/{chat_id}/mute", response_model=ChatOut)
def mute(
    chat_id: UUID, app: AppDep, caller: Staff, response: Response, body: MuteIn | None = None
) -> ChatOut:
    """Mute the client: their messages are kept but start no response clock."""
    done = app.mute(chat_id, caller=caller, minutes=body.minutes if body else None)
    positioned(response, done)
    return chat_out(done.value)


@router.post("/{chat_id}/unmute", response_model=ChatOut)
def unmute(chat_id: UUID, app: AppDep, caller: Staff, response: Response) -> ChatOut:
    done = app.unmute(chat_id, caller=caller)
    positioned(response, done)
    return chat_out(done.value)


@router.post("/{chat_id}/reassign", response_model=ChatOut)
def reassign(
    chat_id: UUID, body: ReassignIn, app: AppDep, caller: Staff, response: Response
) -> ChatOut:
    """To an operator, or to a group where routing picks one (never the one it left)."""
    done = app.reassign(
        chat_id,
        caller=caller,
        operator_id=body.operator_id,
        group_id=body.group_id,
        comment=body.comment,
    )
    positioned(response, done)
    return chat_out(done.value)


@router.patch("/{chat_id}", response_model=ChatOut)
def change_topic(
    chat_id: UUID, body: ChatPatch, app: AppDep, caller: Staff, response: Response
) -> ChatOut:
    changes = body.model_dump(include=body.model_fields_set)
    done = app.change_topic(chat_id, caller=caller, **changes)
    positioned(response, done)
    return chat_out(done.value)


@router.patch("/{chat_id}/messages/{message_id}", response_model=MessageOut)
def edit_message(
    chat_id: UUID,
    message_id: UUID,
    body: MessageEditIn,
    app: AppDep,
    caller: Staff,
    response: Response,
) -> MessageOut:
    """Edit one's own message (where the company allows it); the audit trail keeps the old."""
    done = app.edit_message(chat_id, message_id, body.text, caller=caller)
    positioned(response, done)
    return message_out(chat_id, done.value)


@router.delete("/{chat_id}/messages/{message_id}", response_model=MessageOut)
def delete_message(
    chat_id: UUID, message_id: UUID, app: AppDep, caller: Staff, response: Response
) -> MessageOut:
    done = app.delete_message(chat_id, message_id, caller=caller)
    positioned(response, done)
    return message_out(chat_id, done.value)


@router.get("/{chat_id}", response_model=ChatDetailOut)
def get_chat(
    chat_id: UUID,
    app: AppDep,
    container: RuntimeDep,
    caller: CurrentUser,
    version: Annotated[int | None, Query(ge=1)] = None,
    as_of: datetime | None = None,
    min_position: MinPosition = None,
) -> ChatDetailOut:
    """The chat with its messages and the client's previous chats; with ``version`` or
    ``as_of``, as it was then (audit). ``min_position`` applies to the previous chats."""
    if version is None and as_of is None:
        chat = _readable_chat(app, chat_id, caller)
        previous, card = [], None
        if caller.role != "bot":
            found = app.find_client(client_id_of(chat.client))
            card = client_out(found) if found is not None else None
        if caller.role != "bot" and chat.client.get("id"):
            wait_for_read_model(container, "history", min_position)
            # By the client: their id on the channel, and the chats their card lists.
            previous = container.history.previous_dialogs(
                chat.id,
                str(chat.client["id"]),
                chat.client.get("channel"),
                card_chats=found.chat_ids if found is not None else [],
            )
        return chat_detail_out(chat, previous, card, notes=caller.role != "bot")
    if caller.role not in AUDIT_ROLES:
        raise forbidden("past states of a chat are for auditors and supervisors")
    if version is not None:
        return chat_detail_out(app.get_chat(chat_id, version=version))
    if as_of.tzinfo is None:
        raise ApiError(422, "validation", "as_of needs a time zone, e.g. 2026-11-21T09:30:00Z")
    past = app.get_chat_as_of(chat_id, as_of)
    if past is None:
        raise NotFound(f"chat {chat_id} did not exist yet at {as_of.isoformat()}")
    return chat_detail_out(past)


@router.get("/{chat_id}/events", response_model=Page[ChatEventOut])
def chat_events(chat_id: UUID, app: AppDep, _: Auditor) -> Page[ChatEventOut]:
    return Page[ChatEventOut](items=[event_out(e) for e in app.chat_events(chat_id)])
