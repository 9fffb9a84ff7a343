"""Keyset pagination cursors: the sort key of a page's last row, opaque to clients."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from uuid import UUID

_NOT_OURS = "cursor is not one this API gave out"


class BadCursor(ValueError):
    """A pagination cursor this API did not give out."""


def encode_key(*values: str) -> str:
    """An opaque keyset cursor from the sort key of a page's last row."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_key(cursor: str, size: int) -> list[str]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError) as error:
        raise BadCursor(_NOT_OURS) from error
    if not isinstance(values, list) or len(values) != size:
        raise BadCursor(_NOT_OURS)
    return [str(v) for v in values]


def encode_time_key(at: datetime, row_id: UUID) -> str:
    """The cursor of a page ordered by a time and then the row's id."""
    return encode_key(at.isoformat(), str(row_id))


def decode_time_key(cursor: str) -> tuple[datetime, UUID]:
    """What ``encode_time_key`` made: an aware time and a UUID, or ``BadCursor``."""
    value, row_id = decode_key(cursor, 2)
    try:
        at, key = datetime.fromisoformat(value), UUID(row_id)
    except ValueError as error:
        raise BadCursor(_NOT_OURS) from error
    if at.tzinfo is None:
        raise BadCursor(_NOT_OURS)
    return at, key
