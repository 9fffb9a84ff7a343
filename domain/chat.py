"""The Chat aggregate: a customer conversation from the bot's handoff to the rating."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import messages
from domain.actors import closer
from domain.chat_messages import ChatMessages
from domain.chat_moves import ChatMoves
from domain.chat_notes import ChatNotes
from domain.chat_overdue import ChatOverdue, upcast_clocks
from domain.chat_status import (
    ACTIVE,
    ASSIGNED,
    CLOSED,
    MAX_MUTE_MINUTES,
    OPEN_STATUSES,
    QUEUED,
    check_rating,
    mute_in_effect,
    status_when_held,
)
from domain.client_profile import client_profile
from domain.errors import (
    AlreadyIntercepted,
    AlreadyRated,
    ChatClosed,
    NotAssigned,
    NotClosed,
    NotQueued,
    TopicRequired,
)
from domain.messages import AUTHORS, transcript_message_id
from domain.texts import MAX_TEXT, MAX_TOPIC, check_short_text, check_text, check_topic

# The chat's vocabulary, which the other layers import from here.
__all__ = ["ACTIVE", "ASSIGNED", "CLOSED", "QUEUED", "Chat", "mute_in_effect"]
__all__ += ["AUTHORS", "MAX_MUTE_MINUTES", "status_when_held", "transcript_message_id"]
__all__ += ["MAX_TEXT", "MAX_TOPIC", "OPEN_STATUSES", "check_text", "check_topic"]


class Chat(ChatMessages, ChatMoves, ChatNotes, ChatOverdue, Aggregate):
    # 2: ``closed_by`` is who closed it (``domain.actors.closer``), no longer the actor string;
    # messages carry attachments, buttons and a pressed button's value. 3: the running
    # response clock and its overdue mark (``domain.chat_overdue``).
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot taken before version 2."""
        if isinstance(state.get("closed_by"), str):
            state["closed_by"] = closer(state["closed_by"])
        for message in state.get("messages", ()):
            message.setdefault("attachments", [])
            message.setdefault("buttons", [])
            message.setdefault("button_value", None)

    upcast_v2_v3 = staticmethod(upcast_clocks)

    class Event(Aggregate.Event):
        actor: str

        def mutate(self, aggregate: Any) -> Any:
            # Every event passes by the response clock: ``domain.clocks`` says what moves it.
            before = None if aggregate is None else aggregate.response_clocks()
            aggregate = super().mutate(aggregate)
            aggregate.follow_clocks(before, self)
            return aggregate

    class ChatRequested(Aggregate.Created):
        actor: str
        external_id: str
        client: dict[str, Any]
        topic: str | None
        subtopic: str | None
        requested_group_id: UUID | None
        transcript: list[dict[str, Any]]

    class Queued(Event):
        group_id: UUID | None

        def apply(self, chat: Chat) -> None:
            chat.status = QUEUED
            chat.group_id = self.group_id
            chat.queued_at = self.timestamp

    class Assigned(Event):
        operator_id: UUID
        group_id: UUID | None

        def apply(self, chat: Chat) -> None:
            # Once an operator has taken over from the bot, whoever holds the chat next
            # continues the conversation: it stays active.
            chat.status = status_when_held(chat.intercepted_at is not None)
            chat.operator_id = self.operator_id
            chat.group_id = self.group_id
            chat.assigned_at = self.timestamp

    class Intercepted(Event):
        operator_id: UUID

        def apply(self, chat: Chat) -> None:
            chat.status = ACTIVE
            chat.intercepted_at = self.timestamp

    class MessagePosted(Event):
        # 2: attachments (references), buttons, and the value of a pressed button.
        class_version = 2
        message_id: UUID
        author: str
        author_id: str | None
        text: str
        attachments: list[dict[str, Any]]
        buttons: list[dict[str, Any]]
        button_value: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(attachments=[], buttons=[], button_value=None)

        @property
        def display_text(self) -> str:
            """The text a preview or a search shows (an attachment's name when no text)."""
            return messages.display_text(self.text, self.attachments)

        def as_message(self) -> dict[str, Any]:
            """The message as the chat keeps it (and as ``api.views.message_out`` reads it)."""
            return {
                "id": self.message_id,
                "author": self.author,
                "author_id": self.author_id,
                "text": self.text,
                "at": self.timestamp,
                "attachments": self.attachments,
                "buttons": self.buttons,
                "button_value": self.button_value,
            }

        def apply(self, chat: Chat) -> None:
            chat.messages.append(self.as_message())

    class MessageEdited(Event):
        """The original text stays in the MessagePosted event: the audit trail keeps it."""

        message_id: UUID
        text: str

        def apply(self, chat: Chat) -> None:
            message = chat.message(self.message_id)
            message["text"] = self.text
            message["edited_at"] = self.timestamp

    class MessageDeleted(Event):
        message_id: UUID

        def apply(self, chat: Chat) -> None:
            message = chat.message(self.message_id)
            message["text"] = ""
            message["deleted_at"] = self.timestamp

    class NoteAdded(Event):
        """A private note between staff (``domain.chat_notes``), not a message."""

        note_id: UUID
        author_id: UUID | None
        text: str

        def apply(self, chat: Chat) -> None:
            note = {"id": self.note_id, "author_id": self.author_id, "text": self.text}
            chat.notes = [*chat.notes, {**note, "actor": self.actor, "at": self.timestamp}]

    class Reassigned(Event):
        """The chat moves to another operator, or back to a group's routing (operator None)."""

        from_operator_id: UUID | None
        operator_id: UUID | None
        group_id: UUID | None

        def apply(self, chat: Chat) -> None:
            chat.operator_id = self.operator_id
            chat.group_id = self.group_id
            if self.operator_id is None:
                # Routing follows in the same save: Assigned or Queued. Whoever it left is
                # not given it back while it waits.
                chat.status = QUEUED
                chat.passed_over = self.from_operator_id
            else:
                chat.status = status_when_held(chat.intercepted_at is not None)
                chat.assigned_at = self.timestamp

    class MovedToHelp(Event):
        """The chat's group was deleted while it waited: it waits on in no group, the help
        queue, which every operator sees and the dispatcher drains to anyone with room."""

        from_group_id: UUID

        def apply(self, chat: Chat) -> None:
            chat.group_id = None

    class Muted(Event):
        until: datetime | None

        def apply(self, chat: Chat) -> None:
            chat.muted = True
            chat.muted_until = self.until

    class Unmuted(Event):
        def apply(self, chat: Chat) -> None:
            chat.muted = False
            chat.muted_until = None

    class TopicChanged(Event):
        topic: str | None
        subtopic: str | None

        def apply(self, chat: Chat) -> None:
            chat.topic = self.topic
            chat.subtopic = self.subtopic

    class Closed(Event):
        # 2: ``closed_by``, who closed it (``domain.actors.closer``).
        class_version = 2
        reason: str | None
        closed_by: dict[str, str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["closed_by"] = closer(state["actor"])

        def apply(self, chat: Chat) -> None:
            chat.status = CLOSED
            chat.closed_at = self.timestamp
            chat.closed_by = self.closed_by
            chat.close_reason = self.reason

    class ResponseOverdue(Event):
        """A response clock ran past its group's SL: at most once per clock."""

        clock: str  # first_response or next_response (``domain.clocks``)
        due_at: datetime
        operator_id: UUID | None  # who held the chat then

        def apply(self, chat: Chat) -> None:
            chat.overdue = True

    class Rated(Event):
        score: int
        comment: str | None

        def apply(self, chat: Chat) -> None:
            chat.rating = self.score
            chat.rating_comment = self.comment

    # -- creation ---------------------------------------------------------------------------

    @classmethod
    def request(
        cls,
        *,
        chat_id: UUID,
        at: datetime,
        actor: str,
        external_id: str,
        client: dict[str, Any],
        topic: str | None = None,
        subtopic: str | None = None,
        group_id: UUID | None = None,
        transcript: list[dict[str, Any]] | None = None,
    ) -> Chat:
        check_topic(topic)
        check_topic(subtopic)
        client = client_profile(client)
        lines = messages.transcript_lines(transcript, at)
        return cls._create(
            cls.ChatRequested,
            id=chat_id,
            timestamp=at,
            actor=actor,
            external_id=external_id,
            client=client,
            topic=topic,
            subtopic=subtopic,
            requested_group_id=group_id,
            transcript=lines,
        )

    def __init__(
        self,
        *,
        actor: str,
        external_id: str,
        client: dict[str, Any],
        topic: str | None,
        subtopic: str | None,
        requested_group_id: UUID | None,
        transcript: list[dict[str, Any]],
    ) -> None:
        self.requested_by = actor
        self.external_id = external_id
        self.client = client
        self.topic = topic
        self.subtopic = subtopic
        self.requested_group_id = requested_group_id
        self.group_id = requested_group_id
        self.status = QUEUED
        self.operator_id: UUID | None = None
        self.queued_at: datetime | None = None
        self.assigned_at: datetime | None = None
        self.intercepted_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.closed_by: dict[str, str] | None = None
        self.close_reason: str | None = None
        self.muted = False
        self.muted_until: datetime | None = None
        self.passed_over: UUID | None = None
        self.rating: int | None = None
        self.rating_comment: str | None = None
        self.messages: list[dict[str, Any]] = messages.transcript_messages(self.id, transcript)

    # -- checks -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def requested_at(self) -> datetime:
        return self.created_on

    def is_muted(self, at: datetime) -> bool:
        return mute_in_effect(self.muted, self.muted_until, at)

    def check_open(self) -> None:
        if not self.is_open:
            raise ChatClosed(f"chat {self.id} is closed")

    def check_may_act(self, operator_id: UUID | None, *, supervisor: bool) -> None:
        """Invariant 1: only the chat's operator, or a supervisor, acts on it."""
        if supervisor:
            return
        if operator_id is None or operator_id != self.operator_id:
            raise NotAssigned(f"chat {self.id} is not assigned to you")

    # -- commands -----------------------------------------------------------------------------

    def queue(self, group_id: UUID | None, *, at: datetime, actor: str) -> None:
        self.check_open()
        if self.operator_id is not None:
            raise AlreadyIntercepted(f"chat {self.id} is held by an operator")
        self.trigger_event(self.Queued, timestamp=at, actor=actor, group_id=group_id)

    def assign(self, operator_id: UUID, group_id: UUID | None, *, at: datetime, actor: str) -> None:
        self.check_open()
        if self.status != QUEUED or self.operator_id is not None:
            raise NotQueued(f"chat {self.id} is already {self.status}")
        self.trigger_event(
            self.Assigned, timestamp=at, actor=actor, operator_id=operator_id, group_id=group_id
        )

    def intercept(self, operator_id: UUID, *, at: datetime, actor: str) -> bool:
        """Take the chat over from the bot. Returns False when the caller already has it."""
        self.check_open()
        if self.operator_id != operator_id:
            raise AlreadyIntercepted(f"chat {self.id} is not yours to intercept")
        if self.status == ACTIVE:
            return False
        self.trigger_event(self.Intercepted, timestamp=at, actor=actor, operator_id=operator_id)
        return True

    def close(
        self,
        *,
        operator_id: UUID | None,
        supervisor: bool,
        reason: str | None,
        at: datetime,
        actor: str,
        require_topic: bool = False,
    ) -> UUID | None:
        """Close the chat; returns the operator who held it, whose load must drop."""
        self.check_open()
        self.check_may_act(operator_id, supervisor=supervisor)
        if require_topic and not self.topic:
            raise TopicRequired(f"set a topic on chat {self.id} before closing it")
        check_short_text(reason, "a close reason")
        holder = self.operator_id
        self.trigger_event(
            self.Closed, timestamp=at, actor=actor, reason=reason, closed_by=closer(actor, holder)
        )
        return holder

    def rate(self, score: int, comment: str | None, *, at: datetime, actor: str) -> None:
        check_rating(score)
        check_short_text(comment, "a rating's comment")
        if self.is_open:
            raise NotClosed(f"chat {self.id} is still open; rate it after close")
        if self.rating is not None:
            raise AlreadyRated(f"chat {self.id} is already rated")
        self.trigger_event(self.Rated, timestamp=at, actor=actor, score=score, comment=comment)
