"""Password hashing with argon2 (argon2-cffi), and a dummy hash that makes an unknown e-mail
cost as much time as a wrong password."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verified against when there is no real hash, so both answers take about as long.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no hash, the same work and False."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class AccountPolicy:
    """How long invitations and sessions last (settings of the process)."""

    invite_ttl: timedelta = timedelta(hours=72)
    session_ttl: timedelta = timedelta(hours=12)
