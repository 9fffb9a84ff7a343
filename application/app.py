"""The Switchboard application: every command, over one event store."""

from __future__ import annotations

from application.accounts import AccountCommands
from application.authentication import Authentication
from application.clients import ClientCommands
from application.conversation import ConversationCommands
from application.handoff import HandoffCommands
from application.moves import MoveCommands
from application.notes import NoteCommands
from application.overdue import OverdueActions
from application.quick_replies import QuickReplyCommands
from application.settings import SettingsCommands
from application.staff import StaffCommands
from application.timed import TimedActions
from application.webhooks import WebhookCommands


class Switchboard(
    HandoffCommands,
    ConversationCommands,
    MoveCommands,
    NoteCommands,
    QuickReplyCommands,
    TimedActions,
    OverdueActions,
    StaffCommands,
    SettingsCommands,
    AccountCommands,
    Authentication,
    WebhookCommands,
    ClientCommands,
):
    """One ``eventsourcing`` Application; each public method is one command or one load.

    Each base holds the use cases about one thing; they share only ``SwitchboardBase``.
    """
