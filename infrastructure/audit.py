"""Audit tools: a chat's history as a readable timeline, and a check of the whole event log.

``digest`` folds every stored event, in log order, into one SHA-256 chain. An auditor who
noted the digest at some position can later ask whether the log up to that position is
still byte for byte what it was: any change, insertion or deletion changes the digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

PAGE = 1_000

# How each event reads in a timeline: the fields worth a human's attention.
_SUMMARIES = {
    "ChatRequested": lambda e: (
        f"handed off by the bot: client {e.client.get('name') or e.client.get('id')}"
        f"{_opt(', topic ', e.topic)}{_opt(', group ', e.requested_group_id)}, "
        f"{len(e.transcript)} transcript line(s)"
    ),
    "Queued": lambda e: f"queued{_opt(' in group ', e.group_id)}",
    "MovedToHelp": lambda e: f"moved to the help queue: group {e.from_group_id} was deleted",
    "Assigned": lambda e: f"assigned to operator {e.operator_id}{_opt(' in group ', e.group_id)}",
    "Intercepted": lambda e: f"intercepted by operator {e.operator_id}",
    "MessagePosted": lambda e: f"{e.author} wrote: {_quote(e.display_text)}",
    "MessageEdited": lambda e: f"message {e.message_id} edited to: {_quote(e.text)}",
    "MessageDeleted": lambda e: f"message {e.message_id} deleted",
    "NoteAdded": lambda e: f"private note: {_quote(e.text)}",
    "Reassigned": lambda e: (
        f"reassigned from {e.from_operator_id or 'the queue'} to "
        f"{e.operator_id or 'routing'}{_opt(' in group ', e.group_id)}"
    ),
    "Muted": lambda e: "client muted" + (f" until {e.until:%Y-%m-%d %H:%M:%SZ}" if e.until else ""),
    "Unmuted": lambda e: "client unmuted",
    "TopicChanged": lambda e: f"topic set to {e.topic!r}{_opt(' / ', e.subtopic)}",
    "ResponseOverdue": lambda e: (
        f"{e.clock.replace('_', ' ')} overdue: due {e.due_at:%Y-%m-%d %H:%M:%SZ}, "
        + (f"held by operator {e.operator_id}" if e.operator_id else "held by nobody")
    ),
    "Closed": lambda e: f"closed{_opt(': ', e.reason)}",
    "Rated": lambda e: f"rated {e.score}/5{_opt(': ', e.comment)}",
}


def _opt(label: str, value: Any) -> str:
    return f"{label}{value}" if value else ""


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def timeline(events: Iterable[Any]) -> Iterator[str]:
    """One line per event: when, version, who, what."""
    for event in events:
        name = type(event).__name__
        describe = _SUMMARIES.get(name)
        summary = describe(event) if describe else name
        when = event.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
        actor = getattr(event, "actor", "?")
        yield f"{when}  v{event.originator_version:<4} {name:<15} {actor:<48} {summary}"


@dataclass
class LogCheck:
    position: int = 0
    events: int = 0
    aggregates: int = 0
    digest: str = field(default_factory=lambda: hashlib.sha256(b"switchboard").hexdigest())
    problems: list[str] = field(default_factory=list)


def check_log(app: Application[Any], upto: int | None = None) -> LogCheck:
    """Walk the log in order: versions gapless from 1 per aggregate, positions increasing,
    every event readable; fold each stored record into the digest chain."""
    result = LogCheck()
    versions: dict[UUID, int] = {}
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, stop=upto)
        for n in page:
            if n.id <= result.position:
                result.problems.append(f"position {n.id} after {result.position}")
            expected = versions.get(n.originator_id, 0) + 1
            if n.originator_version != expected:
                result.problems.append(
                    f"{n.originator_id}: version {n.originator_version} where {expected} "
                    f"was expected (position {n.id})"
                )
            versions[n.originator_id] = n.originator_version
            try:
                app.mapper.to_domain_event(n)
            except Exception as error:  # an unreadable record is the finding, not a crash
                result.problems.append(f"position {n.id}: unreadable ({error})")
            chain = hashlib.sha256(bytes.fromhex(result.digest))
            chain.update(f"{n.id}|{n.originator_id}|{n.originator_version}|{n.topic}|".encode())
            chain.update(n.state)
            result.digest = chain.hexdigest()
            result.position = n.id
            result.events += 1
        if len(page) < PAGE:
            break
        start = page[-1].id + 1
    result.aggregates = len(versions)
    return result
