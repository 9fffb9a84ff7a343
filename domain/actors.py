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


CLOSER_KINDS = ("operator", "supervisor", "system", "bot")


def closer(actor: str, holder: UUID | None = None) -> dict[str, str]:
    """Who closed a chat, as the API and the outbound Events show it (``closed_by``), from the
    ``Closed`` event's actor: an operator closing their own chat is the ``operator``; staff
    closing someone else's (which only supervisors may) the ``supervisor``. Without
    ``holder`` (events recorded before ``closed_by`` was kept) an operator is the ``operator``.
    """
    if actor == SYSTEM:
        return {"kind": "system"}
    role, _, rest = actor.partition(":")
    if role == "operator":
        own = holder is None or str(holder) == rest
        return {"kind": "operator" if own else "supervisor", "id": rest}
    if role == "bot":
        return {"kind": "bot", "id": rest}
    # An admin's or supervisor's token that is no operator's: no operator id to show.
    return {"kind": "supervisor"}
