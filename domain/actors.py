"""Who caused an event: every event carries an actor string such as ``operator:<uuid>``."""

from __future__ import annotations

from uuid import UUID

SYSTEM = "system"


def operator_actor(operator_id: UUID) -> str:
    return f"operator:{operator_id}"


def principal_actor(role: str, name: str, operator_id: UUID | None = None) -> str:
    """The actor of a caller: operators by id (stable across renames), others by name."""
    if operator_id is not None:
        return operator_actor(operator_id)
    return f"{role}:{name}"
