"""Password hashing: the dummy hash an unknown e-mail is verified against."""

from __future__ import annotations

import resource

from argon2 import PasswordHasher, extract_parameters

from application.passwords import Passwords


class CountingHasher(PasswordHasher):
    hashed = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        CountingHasher.hashed += 1
        return super().hash(password, salt=salt)


def test_the_dummy_hash_has_the_hashers_parameters_so_it_costs_as_much() -> None:
    hasher = PasswordHasher(time_cost=2, memory_cost=256, parallelism=2)
    dummy = Passwords(hasher)._dummy
    parameters = extract_parameters(dummy)
    assert parameters == extract_parameters(hasher.hash("anything"))


def test_no_password_matches_the_dummy_and_no_hash_means_false() -> None:
    passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    assert passwords.verify(None, "") is False
    assert passwords.verify(None, "password") is False
    real = passwords.hash("right")
    assert passwords.verify(real, "right") is True
    assert passwords.verify(real, "wrong") is False


def test_making_the_hasher_hashes_nothing() -> None:
    """A process that never signs anyone in never pays argon2's memory (64 MiB by default)."""
    CountingHasher.hashed = 0
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Passwords(CountingHasher())
    assert CountingHasher.hashed == 0
    # The default memory cost would have raised the peak by 64 MiB (ru_maxrss is in KiB).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 32 * 1024
