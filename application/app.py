"""The Switchboard application: every command, over one event store."""

from __future__ import annotations

from application.chats import ChatCommands
from application.staff import StaffCommands


class Switchboard(ChatCommands, StaffCommands):
    """One ``eventsourcing`` Application; each public method is one command or one load."""
