"""The engine's own timed actions: lifting mutes, closing abandoned chats, marking idle
operators absent. The scheduler's rules call these; each is safe to repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from application.base import SwitchboardBase
from application.ports import Done
from application.retry import retry_on_conflict
from domain.actors import SYSTEM
from domain.chat import ACTIVE, Chat
from domain.operator import ABSENT, WORKING, Operator

INACTIVITY_REASON = "inactivity"


class TimedActions(SwitchboardBase):
    @retry_on_conflict
    def lift_expired_mute(self, chat_id: UUID) -> Done[bool]:
        chat = self._find(Chat, chat_id)
        if chat is None or not chat.lift_expired_mute(at=self.clock.now(), actor=SYSTEM):
            return Done(False, None, recorded=False)
        return Done(True, self._saved(chat))

    @retry_on_conflict
    def close_if_inactive(self, chat_id: UUID) -> Done[bool]:
        """Close an active chat whose client has been silent past the company's limit.

        Checked again on the aggregate: a client who wrote in the meantime, or whose last
        message still waits for an answer, keeps the chat open.
        """
        settings = self.company_settings()
        minutes = settings["inactivity_close_minutes"]
        chat = self._find(Chat, chat_id)
        if minutes is None or chat is None or chat.status != ACTIVE or chat.client_turn_open:
            return Done(False, None, recorded=False)
        now = self.clock.now()
        if now - last_activity(chat) < timedelta(minutes=minutes):
            return Done(False, None, recorded=False)
        self._post_system_text(chat, settings, "inactivity_close", at=now)
        operator = self._close(chat, caller=None, reason=INACTIVITY_REASON, settings=settings)
        return Done(True, self._saved(chat, operator))

    @retry_on_conflict
    def mark_absent_if_idle(
        self, operator_id: UUID, idle_since: datetime, default_s: int = 0
    ) -> Done[bool]:
        """Mark a working operator ``absent`` when nothing they did is newer than ``idle_since``
        and their screen has sent no heartbeat within their limit (``auto_logout_s``, else
        ``default_s``).

        ``idle_since`` comes from the read model (their last message or status change); the
        aggregate confirms they are still working and have not changed status since.
        """
        operator = self._find(Operator, operator_id)
        if operator is None or not operator.active or operator.status != WORKING:
            return Done(False, None, recorded=False)
        if operator.status_since > idle_since:
            return Done(False, None, recorded=False)
        heartbeat = self.access.last_heartbeat(operator_id)
        limit = timedelta(seconds=operator.auto_logout_s or default_s)
        if heartbeat is not None and self.clock.now() - heartbeat < limit:
            return Done(False, None, recorded=False)  # the screen is open
        operator.change_status(ABSENT, at=self.clock.now(), actor=SYSTEM, by_engine=True)
        return Done(True, self._saved(operator))


def last_activity(chat: Chat) -> datetime:
    """When the conversation last moved: its last message, else when it was taken over."""
    moments = [chat.requested_at]
    if chat.messages:
        moments.append(chat.messages[-1]["at"])
    if chat.intercepted_at:
        moments.append(chat.intercepted_at)
    return max(moments)
