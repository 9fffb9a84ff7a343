"""Client cards as staff read them, from the aggregate or from the clients read model."""

from __future__ import annotations

from typing import Any

from api.schemas.clients import ClientNoteOut, ClientOut
from domain.client import PROFILE_FIELDS, Client


def client_out(client: Client) -> ClientOut:
    return ClientOut(
        id=client.id,
        channel=client.channel,
        external_id=client.external_id,
        **{name: client.profile.get(name) for name in PROFILE_FIELDS if name != "custom"},
        custom=client.profile.get("custom") or {},
        tags=client.tags,
        blocked=client.blocked,
        blocked_reason=client.blocked_reason,
        notes=[ClientNoteOut(**note) for note in client.notes],
        chats=client.chat_ids,
        first_seen_at=client.first_seen_at,
        last_seen_at=client.last_seen_at,
    )


def client_row_out(row: dict[str, Any]) -> ClientOut:
    profile = row["profile"]
    return ClientOut(
        id=row["id"],
        channel=row["channel"],
        external_id=row["external_id"],
        **{name: profile.get(name) for name in PROFILE_FIELDS if name != "custom"},
        custom=profile.get("custom") or {},
        tags=row["tags"],
        blocked=row["blocked"],
        blocked_reason=row["blocked_reason"],
        notes=[ClientNoteOut.model_validate(note) for note in row["notes"]],
        chats=row["chats"],
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
    )
