"""Callers and their tokens. Tokens are random; only their SHA-256 is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from uuid import UUID

from domain.actors import principal_actor

TOKEN_PREFIX = "sb_"
SUPERVISING_ROLES = frozenset({"admin", "supervisor"})


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(given: str, expected: str) -> bool:
    return hmac.compare_digest(hash_token(given), hash_token(expected))


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, a name, and for staff the operator they are."""

    role: str
    name: str
    operator_id: UUID | None = None
    # Which token, and whether it is a session (made by signing in): not part of who it is.
    token_id: UUID | None = field(default=None, compare=False)
    session: bool = field(default=False, compare=False)

    @property
    def actor(self) -> str:
        return principal_actor(self.role, self.name, self.operator_id)

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISING_ROLES
