"""An Event as bots get it, from the feed and by webhook alike: one rendering for both.

``message.*`` Events carry the Message exactly as ``GET /v1/chats/{id}/messages`` shows it:
the read model keeps the message as the chat does, and ``message_out`` renders it here.
"""

from __future__ import annotations

from typing import Any

from api.views import message_out
from projections.events.mapping import iso


def event_json(row: dict[str, Any]) -> dict[str, Any]:
    """The Event of a row of the Events read model, as JSON."""
    data = row["data"]
    if row["type"].startswith("message."):
        data = message_out(row["chat_id"], data).model_dump(mode="json")
    return {
        "id": row["id"],
        "type": row["type"],
        "position": row["position"],
        "occurred_at": iso(row["occurred_at"]),
        "chat_id": str(row["chat_id"]),
        "external_id": row["external_id"],
        "bot": row["bot"],
        "operator": row["operator"],
        "data": data,
    }
