"""Password hashing with argon2 (argon2-cffi), and a dummy hash that makes an unknown e-mail
cost as much time as a wrong password."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verified against when there is no real hash, so both answers take about as long.
        self._dummy = _unmatchable_hash(self._hasher)

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


def _unmatchable_hash(hasher: PasswordHasher) -> str:
    """A hash with the hasher's parameters that no password matches, made without hashing.

    Verifying against it costs what verifying a real hash costs. Hashing a dummy password
    at start-up instead would cost every process argon2's memory (64 MiB by default) in its
    peak resident size, API processes that never sign anyone in and the worker included."""

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode().rstrip("=")

    return (
        f"$argon2{hasher.type.name.lower()}$v=19$m={hasher.memory_cost},t={hasher.time_cost},"
        f"p={hasher.parallelism}${b64(secrets.token_bytes(hasher.salt_len))}"
        f"${b64(secrets.token_bytes(hasher.hash_len))}"
    )


@dataclass(frozen=True)
class AccountPolicy:
    """How long invitations and sessions last (settings of the process)."""

    invite_ttl: timedelta = timedelta(hours=72)
    session_ttl: timedelta = timedelta(hours=12)
