"""Shared helpers of the application unit tests: an operator who signs in, a bot's handoff."""

from __future__ import annotations

from uuid import UUID

from application.app import Switchboard
from application.auth import Principal
from domain.chat import Chat
from domain.group import Group

ADMIN = Principal("admin", "root")
BOT = Principal("bot", "webbot")


def operator(
    app: Switchboard,
    email: str,
    *groups: Group,
    working: bool = True,
    max_chats: int | None = None,
) -> Principal:
    """Register an operator, sign in with their token, and (by default) start working."""
    operator_, token = app.register_operator(
        actor=ADMIN.actor,
        first_name=email.split("@")[0].title(),
        last_name="Test",
        email=email,
        group_ids=[group.id for group in groups],
        max_chats=max_chats,
    ).value
    principal = app.authenticate(token)
    assert principal is not None and principal.operator_id == operator_.id
    if working:
        app.set_status(operator_.id, "working", caller=principal)
    return principal


def handoff(
    app: Switchboard, external_id: str = "conv-1", group: Group | None = None, **fields
) -> Chat:
    return app.handoff(
        bot=BOT,
        external_id=external_id,
        client={"id": "client-7", "phone": "+100"},
        group_id=group.id if group else None,
        **fields,
    ).value


def load(app: Switchboard, principal: Principal) -> int:
    return app.get_operator(principal.operator_id).load


def event_names(app: Switchboard, chat_id: UUID) -> list[str]:
    return [type(event).__name__ for event in app.chat_events(chat_id)]


def taken(app: Switchboard, principal: Principal, external_id: str, group: Group) -> Chat:
    """A chat handed off to ``group``, which ``principal`` must be the one to receive."""
    chat = handoff(app, external_id, group)
    assert chat.operator_id == principal.operator_id
    return chat


def recorded_since(app: Switchboard, position: int | None) -> list[tuple[UUID, str]]:
    """Every event written to the log after ``position``: (aggregate id, event name)."""
    notifications = app.recorder.select_notifications(start=(position or 0) + 1, limit=1000)
    return [(n.originator_id, n.topic.rsplit(".", 1)[-1]) for n in notifications]


def configure(app: Switchboard, **changes) -> None:
    app.change_settings(changes, actor=ADMIN.actor)


def intercepted_chat(app: Switchboard, group: Group) -> tuple[Chat, Principal]:
    """An active chat: Anna intercepted it (and greeted the client) at the clock's start."""
    anna = operator(app, "anna@example.com", group)
    chat = taken(app, anna, "conv-1", group)
    app.intercept(chat.id, caller=anna)
    return chat, anna
