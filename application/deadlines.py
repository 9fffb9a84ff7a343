"""The engine's rules on time: when a deadline has passed, the timed action is taken.

- when a timed mute is over, the chat is unmuted;
- when a client has been silent past the company's limit, the chat is closed;
- when a working operator has been idle past their limit (no action, no heartbeat from
  their screen), they are marked absent;
- when a response clock has run past its group's SL, the chat is marked overdue, and (with
  ``reassign_overdue_after_s``) one still unanswered that long after goes to someone else.
Deadlines are read from read models (through ports), so a restarted scheduler finds them all
again; each action re-checks the aggregate, so running a pass twice never acts twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.app import Switchboard
from application.ports import ChatDeadlines, OperatorDeadlines


@dataclass
class Tick:
    """What one pass did."""

    mutes_lifted: int = 0
    chats_closed: int = 0
    operators_absent: int = 0
    chats_overdue: int = 0
    overdue_reassigned: int = 0

    @property
    def total(self) -> int:
        moved = self.chats_overdue + self.overdue_reassigned
        return self.mutes_lifted + self.chats_closed + self.operators_absent + moved


class Deadlines:
    def __init__(
        self, app: Switchboard, chats: ChatDeadlines, operators: OperatorDeadlines
    ) -> None:
        self.app = app
        self.chats = chats
        self.operators = operators

    def tick(self) -> Tick:
        """Act on every deadline that has passed by the application clock's now."""
        now = self.app.clock.now()
        settings = self.app.company_settings()
        done = Tick()
        for chat_id in self.chats.expired_mutes(now):
            done.mutes_lifted += self.app.lift_expired_mute(chat_id).value
        minutes = settings["inactivity_close_minutes"]
        if minutes is not None:
            for chat_id in self.chats.quiet_chats(now - timedelta(minutes=minutes)):
                done.chats_closed += self.app.close_if_inactive(chat_id).value
        absent_after = settings["absent_after_minutes"]
        # Idle by what they did; the application also asks whether their screen is open.
        default_s = absent_after * 60 if absent_after else 0
        for operator_id, idle_since in self.operators.idle_operators(now, absent_after):
            marked = self.app.mark_absent_if_idle(operator_id, idle_since, default_s)
            done.operators_absent += marked.value
        for chat_id in self.chats.overdue_chats(now):
            done.chats_overdue += self.app.mark_overdue(chat_id).value
        after_s = settings["reassign_overdue_after_s"]
        if after_s is not None:
            # Chats nobody else has room for come back at each pass; the aggregate decides.
            for chat_id in self.chats.overdue_held_chats(now - timedelta(seconds=after_s)):
                done.overdue_reassigned += self.app.reassign_overdue(chat_id).value
        return done
