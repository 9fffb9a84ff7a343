"""API tokens: who may call, in which role. Only the token's hash is ever stored."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue

ROLES = ("admin", "supervisor", "operator", "bot", "analyst", "auditor")
_NAMESPACE = uuid5(NAMESPACE_URL, "switchboard:token")


class ApiToken(Aggregate):
    """Its id is derived from the token's hash, so a request finds its token by one key lookup."""

    class Event(Aggregate.Event):
        actor: str

    class TokenIssued(Aggregate.Created):
        actor: str
        role: str
        name: str
        operator_id: UUID | None

    class TokenRevoked(Event):
        def apply(self, token: ApiToken) -> None:
            token.revoked = True

    @staticmethod
    def id_for_hash(token_hash: str) -> UUID:
        return uuid5(_NAMESPACE, token_hash)

    @classmethod
    def issue(
        cls,
        *,
        token_hash: str,
        role: str,
        name: str,
        operator_id: UUID | None,
        at: datetime,
        actor: str,
    ) -> ApiToken:
        if role not in ROLES:
            raise InvalidValue(f"role is one of {', '.join(ROLES)}")
        if not name.strip():
            raise InvalidValue("a token needs a name")
        return cls._create(
            cls.TokenIssued,
            id=cls.id_for_hash(token_hash),
            timestamp=at,
            actor=actor,
            role=role,
            name=name.strip(),
            operator_id=operator_id,
        )

    def __init__(self, *, actor: str, role: str, name: str, operator_id: UUID | None) -> None:
        self.role = role
        self.name = name
        self.operator_id = operator_id
        self.revoked = False

    def revoke(self, *, at: datetime, actor: str) -> None:
        if not self.revoked:
            self.trigger_event(self.TokenRevoked, timestamp=at, actor=actor)
