"""Input checks shared by request schemas and query parameters."""

from __future__ import annotations

from typing import Any


def no_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing later."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value
