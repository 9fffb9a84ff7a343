"""How a chat moves between people and states: reassign, mute, unmute, change its topic.

A mixin of ``Chat``, like ``ChatMessages``: the events stay nested in ``Chat`` (their stored
topics name it), and the checks it calls are the aggregate's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from domain.chat_status import QUEUED, check_mute_minutes
from domain.errors import AlreadyIntercepted
from domain.group import Group
from domain.texts import check_topic


class ChatMoves:
    """Who holds a ``Chat``, whether its client is muted, and what it is about."""

    def reassign(
        self,
        *,
        operator_id: UUID | None,
        group_id: UUID | None,
        at: datetime,
        actor: str,
    ) -> UUID | None:
        """Move the chat to ``operator_id``, or back to routing in ``group_id`` (operator None).

        Returns the operator who held it, whose load must drop; the caller's right to reassign
        (a supervisor, or an operator where the company allows it) is checked before."""
        self.check_open()
        if operator_id is not None and operator_id == self.operator_id:
            raise AlreadyIntercepted(f"chat {self.id} is already with operator {operator_id}")
        holder = self.operator_id
        self.trigger_event(
            self.Reassigned,
            timestamp=at,
            actor=actor,
            from_operator_id=holder,
            operator_id=operator_id,
            group_id=group_id,
        )
        return holder

    def move_to_help(self, group: Group, *, at: datetime, actor: str) -> bool:
        """The chat waits in ``group``, which is deleted: it leaves the group for the help
        queue. False when there is nothing to do (no longer waiting there, or the group is
        not deleted): the engine may ask again."""
        waiting = self.is_open and self.status == QUEUED and self.operator_id is None
        if not waiting or self.group_id != group.id or not group.deleted:
            return False
        self.trigger_event(self.MovedToHelp, timestamp=at, actor=actor, from_group_id=group.id)
        return True

    def mute(
        self,
        *,
        operator_id: UUID | None,
        supervisor: bool,
        minutes: int | None,
        at: datetime,
        actor: str,
    ) -> None:
        self.check_open()
        self.check_may_act(operator_id, supervisor=supervisor)
        check_mute_minutes(minutes)
        until = at + timedelta(minutes=minutes) if minutes is not None else None
        self.trigger_event(self.Muted, timestamp=at, actor=actor, until=until)

    def unmute(
        self, *, operator_id: UUID | None, supervisor: bool, at: datetime, actor: str
    ) -> bool:
        """Lift a mute; False when there was none to lift."""
        self.check_open()
        self.check_may_act(operator_id, supervisor=supervisor)
        return self.lift_mute(at=at, actor=actor)

    def lift_mute(self, *, at: datetime, actor: str) -> bool:
        if not self.muted:
            return False
        self.trigger_event(self.Unmuted, timestamp=at, actor=actor)
        return True

    def lift_expired_mute(self, *, at: datetime, actor: str) -> bool:
        """The engine lifts a timed mute whose time is up; False if there is nothing to do."""
        if not self.is_open or not self.muted or self.is_muted(at):
            return False
        return self.lift_mute(at=at, actor=actor)

    def change_topic(
        self,
        *,
        topic: str | None,
        subtopic: str | None,
        operator_id: UUID | None,
        supervisor: bool,
        at: datetime,
        actor: str,
    ) -> bool:
        self.check_open()
        self.check_may_act(operator_id, supervisor=supervisor)
        for value in (topic, subtopic):
            check_topic(value)
        if (topic, subtopic) == (self.topic, self.subtopic):
            return False
        self.trigger_event(
            self.TopicChanged, timestamp=at, actor=actor, topic=topic, subtopic=subtopic
        )
        return True
