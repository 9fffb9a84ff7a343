"""The event store's recorders: which one appends is a setting (``SWITCHBOARD_RECORDER``).

- ``grouped``: one statement per batch of concurrent commands (group commit);
- ``single``: one statement per command;
- ``library``: the eventsourcing library's own recorder (two round trips under the lock).

Each is selected through the library's ``APPLICATION_RECORDER_TOPIC``; all read alike.
"""

from __future__ import annotations

from typing import Literal

from infrastructure.recorder.grouped import GroupCommitRecorder, GroupStatistics
from infrastructure.recorder.statement import OneStatementRecorder, VersionTaken

RecorderChoice = Literal["grouped", "single", "library"]

TOPICS: dict[str, str | None] = {
    "grouped": f"{GroupCommitRecorder.__module__}:{GroupCommitRecorder.__qualname__}",
    "single": f"{OneStatementRecorder.__module__}:{OneStatementRecorder.__qualname__}",
    "library": None,
}

__all__ = [
    "TOPICS",
    "GroupCommitRecorder",
    "GroupStatistics",
    "OneStatementRecorder",
    "RecorderChoice",
    "VersionTaken",
]
