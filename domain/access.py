"""API tokens and sessions: who may call, in which role. Only the token's hash is ever stored.

A session is a token made by signing in: it belongs to an operator and has an expiry.
"""

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

    class SessionStarted(Aggregate.Created):
        actor: str
        role: str
        name: str
        operator_id: UUID
        expires_at: datetime

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

    @classmethod
    def start_session(
        cls,
        *,
        token_hash: str,
        role: str,
        name: str,
        operator_id: UUID,
        at: datetime,
        expires_at: datetime,
        actor: str,
    ) -> ApiToken:
        if expires_at <= at:
            raise InvalidValue("a session expires after it starts")
        return cls._create(
            cls.SessionStarted,
            id=cls.id_for_hash(token_hash),
            timestamp=at,
            actor=actor,
            role=role,
            name=name,
            operator_id=operator_id,
            expires_at=expires_at,
        )

    def __init__(
        self,
        *,
        actor: str,
        role: str,
        name: str,
        operator_id: UUID | None,
        expires_at: datetime | None = None,
    ) -> None:
        self.role = role
        self.name = name
        self.operator_id = operator_id
        self.expires_at = expires_at
        self.revoked = False

    @property
    def is_session(self) -> bool:
        return self.expires_at is not None

    def valid_at(self, now: datetime, *, operator_deactivated_at: datetime | None) -> bool:
        """Not revoked, not expired, and made after its operator's last deactivation."""
        if self.revoked or (self.expires_at is not None and now >= self.expires_at):
            return False
        return operator_deactivated_at is None or self.created_on > operator_deactivated_at

    def revoke(self, *, at: datetime, actor: str) -> None:
        if not self.revoked:
            self.trigger_event(self.TokenRevoked, timestamp=at, actor=actor)
