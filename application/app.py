"""The Switchboard application: every command, over one event store."""

from __future__ import annotations

from application.lifecycle import LifecycleCommands
from application.settings import SettingsCommands
from application.staff import StaffCommands


class Switchboard(LifecycleCommands, StaffCommands, SettingsCommands):
    """One ``eventsourcing`` Application; each public method is one command or one load."""
